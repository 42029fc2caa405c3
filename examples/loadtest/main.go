// Command loadtest measures alertbridge under load: how fast it acknowledges
// Alertmanager notifications, how fast and how completely it delivers them,
// and how much memory it uses doing so.
//
// It runs two things at once:
//
//   - a sink: an HTTP server (-sink.listen, default 127.0.0.1:9098) that
//     accepts POSTs on any path and records every group delivered to it;
//   - a generator: it posts -groups Alertmanager webhook payloads (version 4)
//     of -alerts alerts each to -bridge.url at -concurrency, then waits
//     (at most -wait) until every acknowledged group has reached the sink.
//
// Every generated alert carries the labels loadtest_group="<n>" (the group
// number) and loadtest_run="<run id>" (random per run), and every groupKey
// names both, e.g. {}:{alertname="LoadTest", loadtest_group="7",
// loadtest_run="3f9c0a12"}. The sink finds them in whatever JSON it is sent:
// the default webhook body (a JSON array of records, read from each record's
// tags), or any custom template body that renders a "loadtest_group" value
// or the "groupKey" somewhere in its JSON; a -sink.type dingtalk sink also
// reads "loadtest_group: 7" in a chat message's text. Deliveries of other runs (late
// retries of an earlier run) are counted as foreign and otherwise ignored.
//
// # Running it
//
// Build the bridge and start it with the load-test configuration, whose
// target "sink" (type webhook, where POST /webhook routes) delivers to the
// tool's sink at http://127.0.0.1:9098/sink, and whose target "dingtalk"
// (reached only through /webhook/dingtalk) delivers there as a DingTalk
// robot; then run the tool. From the repository root:
//
//	go build -o /tmp/alertbridge .
//	/tmp/alertbridge --config.file=examples/loadtest/alertbridge.yml \
//	  --storage.path=$(mktemp -d) --web.listen-address=127.0.0.1:9097 2>/tmp/alertbridge.log &
//	go run ./examples/loadtest -groups 20000 -concurrency 32 -bridge.pid $!
//	kill %1
//
// Restart the bridge between runs for comparable memory numbers (-bridge.pid
// reports the process's peak RSS, VmHWM, which never goes down). The bridge
// logs one line per delivery at info level; send its log to a file, not a
// terminal, or run it with --log.level=warn.
//
// Variations:
//
//	go run ./examples/loadtest -compare-forwarder       # bare forwarder first, then the bridge: the ratio of their rates
//	go run ./examples/loadtest -sink.delay 200ms        # a slow chat tool (latency per answer)
//	go run ./examples/loadtest -sink.fail-rate 0.3 -sink.fail-status 500   # 30% of posts fail
//	go run ./examples/loadtest -bridge.url http://127.0.0.1:9097/webhook/dingtalk \
//	  -sink.type dingtalk -sink.fail-rate 0.3 -sink.fail-status 200        # 30% answered 200 {"errcode":-1,...}
//	go run ./examples/loadtest -sink.outage-start 10s -sink.outage 60s -rate 100   # target down for a minute mid-run
//	go run ./examples/loadtest -json > report.json      # machine-readable report
//	go run ./examples/loadtest -sink-only               # just the sink, for a bridge fed by a real Alertmanager
//
// # Payloads
//
// By default every notification is about 6 KB: -alerts 5 alerts, each with
// alertname, instance, job, severity, the two load-test labels and
// -payload.labels 4 more (cluster, namespace, service, team) whose values
// are -payload.label-bytes 24 long and the same across the group (so they
// are common labels too), and the annotations summary, a
// -payload.description-bytes 200 description, runbook_url and dashboard.
// Payloads are built before the timed phase. -rate caps the posts per
// second, to spread a run over an outage window.
//
// # The sink's faults
//
// The sink answers like -sink.type: webhook ({"ok":true}) or dingtalk
// ({"errcode":0,"errmsg":"ok"}, for the load-test config's dingtalk
// target, reached through /webhook/dingtalk; the sink then also finds the
// group in the markdown text). On top of that:
//
//   - -sink.delay D: every answer (a failure's too) comes after D; a sender
//     that hangs up first is counted as "abandoned", not as a delivery. A
//     delivery counts when it is answered.
//   - -sink.fail-rate R -sink.fail-status S: a fraction R of the deliveries,
//     chosen at random, is answered S with an error body; S 200 needs
//     -sink.type dingtalk and answers 200 {"errcode":-1,"errmsg":"system
//     busy"}, which only a bridge that reads the body sees as a failure. A
//     failed attempt is not recorded: the retry that succeeds is the
//     group's one delivery, and only a second success is a duplicate.
//   - -sink.outage-start T -sink.outage D: from T after the phase's first
//     POST, for D, every request is answered 503 (-sink.outage-mode 503) or
//     its connection reset without an answer (refuse; the sender sees a
//     transport error, as with a refused connection). -sink.fail-for D is
//     the same as -sink.outage D from the start.
//
// # Bare forwarder comparison
//
// With -compare-forwarder the tool first runs the same load (its own run
// id, same sink settings) through a bare forwarder inside the tool: it
// takes the Alertmanager webhook, POSTs the body unchanged to the sink,
// and answers 200 when the sink took it (502 when not: no queue, no store,
// no retry; Alertmanager would retry). Then it runs the bridge phase, and
// reports the bridge's end-to-end rate as a ratio of the forwarder's. The
// forwarder shares the machine with the tool, like the bridge does, so
// the ratio compares both on the same cores in the same run. Under
// injected failures the forwarder's rate counts only what it delivered at
// once; the comparison is meant for the healthy and slow-target cases.
//
// # The report
//
//   - posted, acked OK, non-200 acks by status code, transport errors;
//   - ack latency (one POST round trip to the bridge): p50, p90, p99, max;
//   - post phase rate: groups posted per second of the posting phase;
//   - delivered: groups of this run that reached the sink; lost: groups the
//     bridge acknowledged with 200 that never reached the sink before -wait
//     ran out; duplicates: groups delivered (answered as a success) more
//     than once, and the number of extra deliveries;
//   - end-to-end rate: groups delivered divided by the time from the first
//     POST to the last first delivery; end-to-end latency (POST to the
//     bridge to the sink's answer) p50, p90, p99, max;
//   - what the sink answered: failures injected, requests turned away
//     during the outage, abandoned, unrecognized, other runs' groups;
//   - with an outage window: the attempts while down (in all, per second on
//     average and the most in one second), the backlog at recovery (groups
//     acknowledged before it and not delivered yet), and the time from
//     recovery to the first and the last delivery of that backlog;
//   - with -bridge.pid, the bridge's peak RSS (VmHWM from /proc/<pid>/status)
//     at the end of the run, its current RSS split into anonymous memory
//     (heap) and file pages (a memory-mapped database counts there), and
//     the CPU time it used in its phase, per delivered group; the tool's
//     own CPU per delivered group in each phase;
//   - with -compare-forwarder, the forwarder's phase and the ratio.
//
// The tool does not start the bridge: give its pid with -bridge.pid.
//
// # Several bridges
//
// -bridge.url takes a comma-separated list of bridges (replicas sharing a
// replicated store): post n goes to bridge n mod the number of bridges,
// and a post that fails there (a transport error or a 5xx answer) is tried
// on the next bridge, and so on until each was tried once, as an
// Alertmanager behind a load balancer would see it; its ack latency runs
// from the first attempt to the last answer, and the report counts the
// retried attempts by status. -bridge.pid takes the bridges' pids the same
// way: the report gives each one's peak and current RSS and CPU time, and
// the CPU per delivered group of all of them together (the sum of their
// CPU time in the phase divided by the groups delivered).
//
//	go run ./examples/loadtest -bridge.url http://127.0.0.1:9097/webhook,http://127.0.0.1:9099/webhook -bridge.pid $PID1,$PID2
//
// examples/loadtest/nats/run.sh runs the embedded engine, one bridge and
// two bridges on the NATS engine (a 3-node JetStream cluster on loopback)
// in one go and prints a table of the three.
//
// The generator does not retry a non-200 ack (Alertmanager would); such a
// group is counted under its status code and not waited for. Payloads are
// built before the timed phase, and one HTTP client with a keep-alive pool
// of at least -concurrency connections is shared by all workers.
//
// Exit status: 0 when nothing was lost or duplicated, 1 when a group was
// lost or duplicated (unless -allow-loss) or no group was acknowledged at
// all, 2 on a usage or setup error.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// pidList is the value of -bridge.pid: process ids separated by commas
// ("0" alone: none).
type pidList []int

func (l *pidList) String() string {
	if l == nil || len(*l) == 0 {
		return "0"
	}
	s := make([]string, len(*l))
	for i, pid := range *l {
		s[i] = strconv.Itoa(pid)
	}
	return strings.Join(s, ",")
}

func (l *pidList) Set(v string) error {
	var out []int
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		pid, err := strconv.Atoi(f)
		if err != nil || pid < 0 {
			return fmt.Errorf("%q is not a process id", f)
		}
		out = append(out, pid)
	}
	if len(out) == 1 && out[0] == 0 {
		out = nil // the old "not reported"
	}
	for _, pid := range out {
		if pid == 0 {
			return errors.New("0 is not a process id in a list")
		}
	}
	*l = out
	return nil
}

func main() {
	os.Exit(realMain(os.Args[1:], os.Stdout, os.Stderr))
}

func realMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := Config{Log: stderr}
	fs.StringVar(&cfg.BridgeURL, "bridge.url", "http://127.0.0.1:9097/webhook", "bridge webhook URL to post to (/webhook or /webhook/<target>); a comma-separated list of several bridges' URLs: posts go round-robin, a failed post (transport error or 5xx) is retried on the next bridge")
	fs.Var((*pidList)(&cfg.BridgePIDs), "bridge.pid", "bridge process id, or a comma-separated list of several; its peak RSS (VmHWM) and CPU per delivered group are reported at the end, with several each one's RSS and their summed CPU (0: not reported)")
	fs.StringVar(&cfg.SinkListen, "sink.listen", "127.0.0.1:9098", "address the sink listens on")
	fs.StringVar(&cfg.SinkType, "sink.type", "webhook", "how the sink answers: webhook ({\"ok\":true}) or dingtalk ({\"errcode\":0,\"errmsg\":\"ok\"}, and with -sink.fail-status 200 the error body {\"errcode\":-1,\"errmsg\":\"system busy\"})")
	fs.DurationVar(&cfg.SinkDelay, "sink.delay", 0, "latency: delay before the sink answers each delivery (a slow chat tool)")
	fs.Float64Var(&cfg.SinkFailRate, "sink.fail-rate", 0, "fraction (0 to 1) of deliveries the sink answers as failed, at random; a failed attempt is not a delivery")
	fs.IntVar(&cfg.SinkFailStatus, "sink.fail-status", 500, "HTTP status of a -sink.fail-rate failure; 200 (with -sink.type dingtalk) answers 200 with the platform's error body")
	fs.DurationVar(&cfg.SinkOutageStart, "sink.outage-start", 0, "when the sink's outage starts, counted from the first POST of the phase")
	fs.DurationVar(&cfg.SinkOutage, "sink.outage", 0, "how long the sink is down (0: no outage)")
	fs.StringVar(&cfg.SinkOutageMode, "sink.outage-mode", "503", "what the sink does while down: 503 (answers 503) or refuse (resets the connection without an answer)")
	fs.DurationVar(&cfg.SinkFailFor, "sink.fail-for", 0, "shorthand for -sink.outage with -sink.outage-start 0: the sink answers 503 for this long after it starts")
	fs.IntVar(&cfg.Groups, "groups", 20000, "number of alert groups (notifications) to post")
	fs.IntVar(&cfg.Alerts, "alerts", 5, "alerts per group")
	fs.IntVar(&cfg.Shape.ExtraLabels, "payload.labels", DefaultShape.ExtraLabels, "extra labels per alert (cluster, namespace, ...), the same on every alert of a group")
	fs.IntVar(&cfg.Shape.LabelBytes, "payload.label-bytes", DefaultShape.LabelBytes, "length of each extra label's value")
	fs.IntVar(&cfg.Shape.DescriptionBytes, "payload.description-bytes", DefaultShape.DescriptionBytes, "length of each alert's description annotation (0: a short sentence)")
	fs.IntVar(&cfg.Concurrency, "concurrency", 32, "concurrent POSTs to the bridge")
	fs.Float64Var(&cfg.Rate, "rate", 0, "at most this many POSTs per second (0: as fast as -concurrency allows); spreads a run over an outage")
	fs.BoolVar(&cfg.CompareForwarder, "compare-forwarder", false, "first run the same load through a bare in-process forwarder (POST to the sink, then answer), then through the bridge, and report the bridge's end-to-end rate as a ratio of the forwarder's")
	fs.DurationVar(&cfg.Wait, "wait", 120*time.Second, "after posting, how long to wait for every acknowledged group to reach the sink")
	fs.DurationVar(&cfg.Settle, "settle", 500*time.Millisecond, "after every group arrived, how long to keep listening for duplicates")
	fs.DurationVar(&cfg.PostTimeout, "post.timeout", 30*time.Second, "timeout of one POST to the bridge (and of the forwarder's POST to the sink)")
	fs.DurationVar(&cfg.Progress, "progress", 5*time.Second, "interval of progress lines on stderr (0: none)")
	sinkOnly := fs.Bool("sink-only", false, "only run the sink, until interrupted, printing what it receives")
	asJSON := fs.Bool("json", false, "print the report as JSON instead of text")
	allowLoss := fs.Bool("allow-loss", false, "exit 0 even if groups were lost or duplicated")
	cpuProfile := fs.String("cpuprofile", "", "write the load tool's own CPU profile to this file (what the tool costs the machine it shares with the bridge)")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadtest: unexpected arguments: %v\n", fs.Args())
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "loadtest: -cpuprofile: %v\n", err)
			return 2
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	if *sinkOnly {
		if err := runSinkOnly(ctx, cfg, stdout); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
		return 0
	}

	rep, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	failures := rep.Failures(*allowLoss)
	if *asJSON {
		rep.Pass = len(failures) == 0
		rep.FailureReasons = failures
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "loadtest: %v\n", err)
			return 2
		}
	} else {
		rep.WriteText(stdout, failures)
	}
	if len(failures) > 0 {
		return 1
	}
	return 0
}
