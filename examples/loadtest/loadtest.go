package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load-test run.
type Config struct {
	// BridgeURL is one bridge's webhook URL, or a comma-separated list of
	// several bridges': posts go to them round-robin, and a post that
	// fails (a transport error or a 5xx answer) is retried on the next
	// bridge, as an Alertmanager behind a load balancer would see it.
	BridgeURL string
	// BridgePIDs are the bridge processes whose peak RSS and CPU time are
	// reported (none: not reported); with several, the CPU per group is
	// their sum's.
	BridgePIDs []int

	SinkListen string
	// SinkListener, when set, is used instead of listening on SinkListen.
	SinkListener net.Listener
	// SinkType is "webhook" (default) or "dingtalk": how the sink answers.
	SinkType  string
	SinkDelay time.Duration
	// SinkFailFor is the older spelling of an outage from the sink's start:
	// SinkOutageStart 0, SinkOutage SinkFailFor.
	SinkFailFor time.Duration
	// SinkFailRate of the deliveries, at random, are answered SinkFailStatus
	// (default 500; 200 with a dingtalk sink means its error body).
	SinkFailRate   float64
	SinkFailStatus int
	// The sink is down from SinkOutageStart after its start for
	// SinkOutage: it answers 503, or resets the connection when
	// SinkOutageMode is "refuse".
	SinkOutageStart time.Duration
	SinkOutage      time.Duration
	SinkOutageMode  string

	Groups      int
	Alerts      int
	Concurrency int
	// Shape sizes the alerts (the zero Shape: no padding, no extra labels).
	Shape Shape
	// Rate caps the posts per second (0: as fast as Concurrency allows).
	Rate float64
	// CompareForwarder runs a phase through a bare in-process forwarder
	// before the bridge phase, with the same sink settings and load.
	CompareForwarder bool

	// Wait bounds the wait for deliveries after posting; Settle is how long
	// to keep listening for duplicates once every group arrived.
	Wait        time.Duration
	Settle      time.Duration
	PostTimeout time.Duration
	// Progress is the interval of progress lines on Log (0: none).
	Progress time.Duration
	Log      io.Writer
}

func (c *Config) check() error {
	var errs []error
	urls := c.bridgeURLs()
	if len(urls) == 0 {
		errs = append(errs, fmt.Errorf("-bridge.url %q: must be an absolute http(s) URL", c.BridgeURL))
	}
	for _, s := range urls {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("-bridge.url %q: must be an absolute http(s) URL", s))
		}
	}
	for _, pid := range c.BridgePIDs {
		if pid <= 0 {
			errs = append(errs, fmt.Errorf("-bridge.pid %d: not a process id", pid))
		}
	}
	if c.Groups < 1 {
		errs = append(errs, errors.New("-groups must be at least 1"))
	}
	if c.Alerts < 1 {
		errs = append(errs, errors.New("-alerts must be at least 1"))
	}
	if c.Concurrency < 1 {
		errs = append(errs, errors.New("-concurrency must be at least 1"))
	}
	if c.Shape.ExtraLabels < 0 || c.Shape.LabelBytes < 0 || c.Shape.DescriptionBytes < 0 {
		errs = append(errs, errors.New("-payload.labels, -payload.label-bytes and -payload.description-bytes must not be negative"))
	}
	if c.Rate < 0 {
		errs = append(errs, errors.New("-rate must not be negative"))
	}
	for name, d := range map[string]time.Duration{"-wait": c.Wait, "-settle": c.Settle, "-progress": c.Progress} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	if c.PostTimeout <= 0 {
		errs = append(errs, errors.New("-post.timeout must be positive"))
	}
	if _, err := c.sinkOptions(); err != nil {
		errs = append(errs, err)
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return errors.Join(errs...)
}

// bridgeURLs is BridgeURL split at its commas (empty entries dropped).
func (c *Config) bridgeURLs() []string {
	var out []string
	for _, s := range strings.Split(c.BridgeURL, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// sinkOptions checks the sink's settings and returns them.
func (c *Config) sinkOptions() (sinkOptions, error) {
	o := sinkOptions{
		Type: c.SinkType, Delay: c.SinkDelay, FailRate: c.SinkFailRate, FailStatus: c.SinkFailStatus,
		OutageStart: c.SinkOutageStart, Outage: c.SinkOutage, OutageMode: c.SinkOutageMode,
	}
	if o.Type == "" {
		o.Type = sinkWebhook
	}
	if o.FailStatus == 0 {
		o.FailStatus = http.StatusInternalServerError
	}
	if o.OutageMode == "" {
		o.OutageMode = outage503
	}
	var errs []error
	if o.Type != sinkWebhook && o.Type != sinkDingTalk {
		errs = append(errs, fmt.Errorf("-sink.type %q: must be webhook or dingtalk", o.Type))
	}
	for name, d := range map[string]time.Duration{"-sink.delay": c.SinkDelay, "-sink.fail-for": c.SinkFailFor,
		"-sink.outage-start": c.SinkOutageStart, "-sink.outage": c.SinkOutage} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	if c.SinkFailFor > 0 {
		if c.SinkOutage > 0 || c.SinkOutageStart > 0 {
			errs = append(errs, errors.New("-sink.fail-for is -sink.outage from the start; set one or the other"))
		}
		o.OutageStart, o.Outage = 0, c.SinkFailFor
	}
	if c.SinkOutageStart > 0 && o.Outage == 0 {
		errs = append(errs, errors.New("-sink.outage-start needs -sink.outage"))
	}
	if o.OutageMode != outage503 && o.OutageMode != outageRefuse {
		errs = append(errs, fmt.Errorf("-sink.outage-mode %q: must be 503 or refuse", o.OutageMode))
	}
	if o.FailRate < 0 || o.FailRate > 1 {
		errs = append(errs, fmt.Errorf("-sink.fail-rate %v: must be between 0 and 1", o.FailRate))
	}
	switch {
	case o.FailStatus < 200 || o.FailStatus > 599:
		errs = append(errs, fmt.Errorf("-sink.fail-status %d: not an HTTP status", o.FailStatus))
	case o.FailStatus >= 200 && o.FailStatus <= 299 && o.Type != sinkDingTalk:
		errs = append(errs, fmt.Errorf("-sink.fail-status %d: a webhook target counts any 2xx as delivered; use -sink.type dingtalk for a 200 with an error body", o.FailStatus))
	}
	return o, errors.Join(errs...)
}

func (c *Config) sinkListener() (net.Listener, error) {
	if c.SinkListener != nil {
		return c.SinkListener, nil
	}
	l, err := net.Listen("tcp", c.SinkListen)
	if err != nil {
		return nil, fmt.Errorf("sink: %w (is another sink, e.g. go run ./examples/sink, running?)", err)
	}
	return l, nil
}

// postLog is what the generator recorded per group; each index is written
// by one worker only and read after all workers finished.
type postLog struct {
	posted []bool
	start  []time.Time
	ack    []time.Duration
	code   []int // HTTP status; 0 on a transport error

	mu        sync.Mutex
	errCount  int
	errSample string
	// Posts retried on the next bridge, by the failed attempt's status
	// (0: a transport error), and an example of a retried error.
	retries     map[int]int
	retrySample string
}

// retry records a failed attempt that is retried on the next bridge.
func (p *postLog) retry(code int, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.retries == nil {
		p.retries = map[int]int{}
	}
	p.retries[code]++
	if err != nil && p.retrySample == "" {
		p.retrySample = err.Error()
	}
}

// retryable tells whether a post that answered code (0: transport error
// err) is tried again on the next bridge: a load balancer takes a bridge
// that is down out of rotation, and Alertmanager retries a 5xx.
func retryable(code int, err error) bool {
	return err != nil || code >= 500
}

func (p *postLog) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errCount++
	if p.errSample == "" {
		p.errSample = err.Error()
	}
}

// run posts cfg.Groups notifications to the bridge, waits for them at the
// sink, and reports; with cfg.CompareForwarder it first does the same
// through a bare forwarder. It fails only on a setup error; lost or
// duplicated groups are in the report.
func run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		if cfg.SinkListener != nil {
			cfg.SinkListener.Close()
		}
		return nil, err
	}
	opt, _ := cfg.sinkOptions()
	l, err := cfg.sinkListener()
	if err != nil {
		return nil, err
	}
	sw := &sinkSwitch{}
	sw.cur.Store(newSink("", opt))
	stopSink := serveSink(sw, l)
	defer stopSink()
	sinkURL := "http://" + l.Addr().String()

	client := &http.Client{
		Timeout: cfg.PostTimeout,
		Transport: &http.Transport{
			Proxy:               nil, // the bridge is local; never go through a proxy
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * cfg.Concurrency,
			MaxIdleConnsPerHost: cfg.Concurrency,
			IdleConnTimeout:     90 * time.Second,
		},
	}
	defer client.CloseIdleConnections()

	var fwdRep *Report
	if cfg.CompareForwarder {
		fl, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("forwarder: %w", err)
		}
		fwd := newForwarder(sinkURL+"/forwarder", cfg.Concurrency, cfg.PostTimeout)
		stopFwd := serveSink(fwd, fl)
		fwdRep, err = runPhase(ctx, cfg, "forwarder", []string{"http://" + fl.Addr().String() + "/webhook"}, sw, opt, sinkURL, client)
		stopFwd()
		fwd.client.CloseIdleConnections()
		if err != nil {
			return nil, err
		}
		if fwdRep.Interrupted {
			return fwdRep, nil
		}
	}

	cpu0 := make([]time.Duration, len(cfg.BridgePIDs))
	cpuErr := make([]error, len(cfg.BridgePIDs))
	for i, pid := range cfg.BridgePIDs {
		cpu0[i], cpuErr[i] = readProcCPU(pid)
	}
	rep, err := runPhase(ctx, cfg, "bridge", cfg.bridgeURLs(), sw, opt, sinkURL, client)
	if err != nil {
		return nil, err
	}
	procs := make([]BridgeProcess, len(cfg.BridgePIDs))
	for i, pid := range cfg.BridgePIDs {
		procs[i] = measureBridge(pid, cpu0[i], cpuErr[i], rep.Delivered)
	}
	rep.setBridges(procs)
	if fwdRep != nil {
		rep.Forwarder = fwdRep
		if fwdRep.E2ERate > 0 {
			rep.E2ERatioToForwarder = rep.E2ERate / fwdRep.E2ERate
		}
	}
	return rep, nil
}

// runPhase posts cfg.Groups fresh notifications (a run id of their own) to
// targets (round-robin, a failed post retried on the next), with a fresh
// sink installed in sw, and waits for them at the sink.
func runPhase(ctx context.Context, cfg Config, phase string, targets []string, sw *sinkSwitch, opt sinkOptions, sinkURL string, client *http.Client) (*Report, error) {
	runID, seed, err := newRunID()
	if err != nil {
		return nil, err
	}
	payloads, err := buildPayloads(runID, seed, cfg.Groups, cfg.Alerts, cfg.Shape, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	payloadBytes := 0
	for _, p := range payloads {
		payloadBytes += len(p)
	}

	target := strings.Join(targets, ",")
	rep := &Report{
		Phase: phase, RunID: runID, BridgeURL: target, SinkURL: sinkURL,
		Groups: cfg.Groups, AlertsPerGroup: cfg.Alerts, Concurrency: cfg.Concurrency, RateLimit: cfg.Rate,
		PayloadBytesAvg: payloadBytes / len(payloads),
		SinkType:        opt.Type, SinkDelayMS: ms(opt.Delay), SinkFailRate: opt.FailRate,
	}
	if opt.FailRate > 0 {
		rep.SinkFailStatus = opt.FailStatus
	}
	if len(targets) > 1 {
		rep.BridgeCount = len(targets)
	}
	if opt.Outage > 0 {
		rep.Outage = &OutageReport{StartMS: ms(opt.OutageStart), DurationMS: ms(opt.Outage), Mode: opt.OutageMode}
	}
	fmt.Fprintf(cfg.Log, "%s phase, run %s: posting %d groups x %d alerts (%d bytes each on average) to %s at concurrency %d; sink on %s\n",
		phase, runID, cfg.Groups, cfg.Alerts, rep.PayloadBytesAvg, target, cfg.Concurrency, sinkURL)

	s := newSink(runID, opt)
	sw.cur.Store(s)
	pl := &postLog{
		posted: make([]bool, cfg.Groups), start: make([]time.Time, cfg.Groups),
		ack: make([]time.Duration, cfg.Groups), code: make([]int, cfg.Groups),
	}
	var posted, acked atomic.Int64
	var step atomic.Value
	step.Store("posting")
	stopProgress := progress(cfg, func() string {
		return fmt.Sprintf("%s %s: posted %d/%d, acked %d, delivered %d, sink failed %d, outage rejected %d",
			phase, step.Load(), posted.Load(), cfg.Groups, acked.Load(), s.delivered(), s.failed.Load(), s.rejected.Load())
	})
	defer stopProgress()
	cpu0 := selfCPU()

	// Post phase.
	t0 := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= cfg.Groups || ctx.Err() != nil {
					return
				}
				if cfg.Rate > 0 {
					// Post i is due i/Rate seconds after the start.
					due := t0.Add(time.Duration(float64(i) / cfg.Rate * float64(time.Second)))
					if d := time.Until(due); d > 0 {
						t := time.NewTimer(d)
						select {
						case <-t.C:
						case <-ctx.Done():
							t.Stop()
							return
						}
					}
				}
				pl.posted[i] = true
				pl.start[i] = time.Now()
				// Post i goes to bridge i mod n; when it fails, to
				// the next, until each was tried once.
				code, err := postOne(ctx, client, targets[i%len(targets)], payloads[i])
				for k := 1; k < len(targets) && retryable(code, err) && ctx.Err() == nil; k++ {
					pl.retry(code, err)
					code, err = postOne(ctx, client, targets[(i+k)%len(targets)], payloads[i])
				}
				pl.ack[i] = time.Since(pl.start[i])
				pl.code[i] = code
				if err != nil {
					pl.fail(err)
				}
				posted.Add(1)
				if code == http.StatusOK {
					acked.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	postEnd := time.Now()

	// Wait phase: until every group acknowledged with 200 arrived.
	step.Store("waiting")
	var pending []int
	for i, c := range pl.code {
		if c == http.StatusOK {
			pending = append(pending, i)
		}
	}
	deadline := time.NewTimer(cfg.Wait)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		pending = s.missing(pending)
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			rep.Interrupted = true
			break wait
		case <-deadline.C:
			rep.WaitTimedOut = true
			break wait
		case <-tick.C:
		}
	}
	if len(pending) == 0 && cfg.Settle > 0 && ctx.Err() == nil {
		step.Store("settling")
		t := time.NewTimer(cfg.Settle)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if ctx.Err() != nil {
		rep.Interrupted = true
	}
	stopProgress()

	rep.fill(pl, s, t0, postEnd)
	if cpu := selfCPU() - cpu0; rep.Delivered > 0 && cpu > 0 {
		rep.ToolCPUPerGroupMS = ms(cpu) / float64(rep.Delivered)
	}
	return rep, nil
}

// missing returns the groups of pending that have not arrived.
func (s *sink) missing(pending []int) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := pending[:0]
	for _, n := range pending {
		if _, ok := s.groups[groupID{run: s.run, group: n}]; !ok {
			out = append(out, n)
		}
	}
	return out
}

// arrivals returns what arrived of groups 0..n-1 (count 0: nothing).
func (s *sink) arrivals(n int) []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]arrival, n)
	for i := range out {
		if a, ok := s.groups[groupID{run: s.run, group: i}]; ok {
			out[i] = *a
		}
	}
	return out
}

func postOne(ctx context.Context, client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "alertbridge-loadtest")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp.StatusCode, nil
}

// progress prints line() to cfg.Log every cfg.Progress until the returned
// stop is called (stop may be called more than once).
func progress(cfg Config, line func() string) (stop func()) {
	if cfg.Progress <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(cfg.Progress)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(cfg.Log, "%s %s\n", time.Now().Format(time.TimeOnly), line())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-finished
	}
}

func newRunID() (string, uint64, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(b[:4]), binary.LittleEndian.Uint64(b[4:]), nil
}

// Alertmanager webhook payload, version 4.
type amPayload struct {
	Receiver          string            `json:"receiver"`
	Status            string            `json:"status"`
	Alerts            []amAlert         `json:"alerts"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
}

type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

var severities = []string{"critical", "warning", "info"}

// Shape is the size of the generated alerts. The defaults make about 6 KB
// per notification of 5 alerts, the size the benchmarks in docs/performance.md use.
type Shape struct {
	// ExtraLabels is the number of labels beyond alertname, instance, job,
	// severity and the two load-test labels; every one of them has a value
	// of LabelBytes bytes. They are the same on every alert of a group (as
	// cluster or namespace labels are), so they are common labels too.
	ExtraLabels int
	LabelBytes  int
	// DescriptionBytes is the length of each alert's description
	// annotation (it differs per alert).
	DescriptionBytes int
}

// DefaultShape is 4 extra labels of 24 bytes and a 200-byte description.
var DefaultShape = Shape{ExtraLabels: 4, LabelBytes: 24, DescriptionBytes: 200}

var extraLabelNames = []string{"cluster", "namespace", "service", "team", "region", "zone", "pod", "container"}

// extraLabelName is the name of extra label i.
func extraLabelName(i int) string {
	if i < len(extraLabelNames) {
		return extraLabelNames[i]
	}
	return "label_" + strconv.Itoa(i)
}

// filler is the text values are cut from.
const filler = "The load tool pads this value to the configured size so that payloads weigh what real ones do. "

// padTo returns s cut or padded with filler text to exactly n bytes (s
// itself when n is 0 or less).
func padTo(s string, n int) string {
	if n <= 0 {
		return s
	}
	for len(s) < n {
		s += " " + filler
	}
	return s[:n]
}

// groupKey is the Alertmanager group key of group n: grouped by alertname
// and the load-test labels.
func groupKey(run string, n int) string {
	return fmt.Sprintf(`{}:{alertname="LoadTest", loadtest_group="%d", loadtest_run="%s"}`, n, run)
}

// buildPayloads renders every group's webhook body. Fingerprints are
// seed XOR the alert's index, so they are unique within the run.
func buildPayloads(run string, seed uint64, groups, alerts int, shape Shape, now time.Time) ([][]byte, error) {
	out := make([][]byte, groups)
	base := now.Truncate(time.Second).Add(-30 * time.Minute)
	for n := range groups {
		g := strconv.Itoa(n)
		sev := severities[n%len(severities)]
		job := "loadtest-" + strconv.Itoa(n%50)
		runbook := "https://runbooks.loadtest.example/alerts/LoadTest#" + job
		common := map[string]string{"alertname": "LoadTest", "job": job, "severity": sev, "loadtest_group": g, "loadtest_run": run}
		for i := range shape.ExtraLabels {
			name := extraLabelName(i)
			common[name] = padTo(fmt.Sprintf("%s-%d-", name, n%97), shape.LabelBytes)
		}
		p := amPayload{
			Receiver:          "alertbridge",
			Status:            "firing",
			GroupLabels:       map[string]string{"alertname": "LoadTest", "loadtest_group": g, "loadtest_run": run},
			CommonLabels:      common,
			CommonAnnotations: map[string]string{"runbook_url": runbook},
			ExternalURL:       "http://alertmanager.loadtest:9093",
			Version:           "4",
			GroupKey:          groupKey(run, n),
			Alerts:            make([]amAlert, alerts),
		}
		for i := range alerts {
			instance := fmt.Sprintf("host-%d-%d.loadtest:9100", n, i)
			labels := make(map[string]string, len(common)+1)
			for k, v := range common {
				labels[k] = v
			}
			labels["instance"] = instance
			desc := fmt.Sprintf("Load test alert %d of group %d (run %s) on %s.", i, n, run, instance)
			if shape.DescriptionBytes > 0 {
				desc = padTo(desc, shape.DescriptionBytes)
			}
			p.Alerts[i] = amAlert{
				Status: "firing",
				Labels: labels,
				Annotations: map[string]string{
					"summary":     fmt.Sprintf("Load test alert %d of group %d: loadtest_up has been 0 on %s for more than 5 minutes", i, n, instance),
					"description": desc,
					"runbook_url": runbook,
					"dashboard":   "https://grafana.loadtest.example/d/loadtest/node-overview?orgId=1&var-instance=" + instance,
				},
				StartsAt:     base.Add(time.Duration(n%1800+i) * time.Second),
				GeneratorURL: "http://prometheus.loadtest:9090/graph?g0.expr=loadtest_up+%3D%3D+0&g0.tab=1",
				Fingerprint:  fmt.Sprintf("%016x", seed^uint64(n*alerts+i)),
			}
		}
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		out[n] = b
	}
	return out, nil
}
