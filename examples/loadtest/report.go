package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Report is the outcome of one run. Durations are in milliseconds, rates
// in groups per second.
type Report struct {
	// Phase is "bridge", or "forwarder" for the bare forwarder's phase.
	Phase           string  `json:"phase"`
	RunID           string  `json:"run_id"`
	BridgeURL       string  `json:"bridge_url"`
	SinkURL         string  `json:"sink_url"`
	Groups          int     `json:"groups"`
	AlertsPerGroup  int     `json:"alerts_per_group"`
	Concurrency     int     `json:"concurrency"`
	RateLimit       float64 `json:"rate_limit,omitempty"`
	PayloadBytesAvg int     `json:"payload_bytes_avg"`
	SinkType        string  `json:"sink_type"`
	SinkDelayMS     float64 `json:"sink_delay_ms"`
	SinkFailRate    float64 `json:"sink_fail_rate,omitempty"`
	SinkFailStatus  int     `json:"sink_fail_status,omitempty"`

	// Posted counts the groups POSTed (fewer than Groups if interrupted).
	Posted  int `json:"posted"`
	AckedOK int `json:"acked_ok"`
	// AckStatus counts the non-200 answers by status code.
	AckStatus      map[string]int `json:"ack_status,omitempty"`
	AckErrors      int            `json:"ack_errors"`
	AckErrorSample string         `json:"ack_error_sample,omitempty"`
	AckLatency     Latency        `json:"ack_latency_ms"`
	PostSeconds    float64        `json:"post_seconds"`
	PostRate       float64        `json:"post_rate"`
	// BridgeCount is the number of bridges posted to when there are
	// several; Retries counts the attempts that failed and were retried
	// on the next bridge, RetryStatus them by status code ("0": a
	// transport error).
	BridgeCount      int            `json:"bridge_count,omitempty"`
	Retries          int            `json:"retries,omitempty"`
	RetryStatus      map[string]int `json:"retry_status,omitempty"`
	RetryErrorSample string         `json:"retry_error_sample,omitempty"`

	// Delivered counts the distinct groups of the run that reached the sink.
	Delivered int `json:"delivered"`
	// Lost counts groups acknowledged with 200 that never reached the sink.
	Lost int `json:"lost"`
	// Duplicates counts groups delivered more than once; ExtraDeliveries
	// the deliveries beyond the first.
	Duplicates      int `json:"duplicates"`
	ExtraDeliveries int `json:"extra_deliveries"`
	// DeliveredWithoutAck counts groups that arrived although their POST
	// did not get a 200 (e.g. it timed out on the client side).
	DeliveredWithoutAck int     `json:"delivered_without_ack"`
	E2ESeconds          float64 `json:"e2e_seconds"`
	E2ERate             float64 `json:"e2e_rate"`
	E2ELatency          Latency `json:"e2e_latency_ms"`
	WaitTimedOut        bool    `json:"wait_timed_out"`
	Interrupted         bool    `json:"interrupted"`

	// What else the sink saw: failures it injected (-sink.fail-rate) and
	// requests it turned away during the outage.
	SinkRequests     int64 `json:"sink_requests"`
	SinkFailed       int64 `json:"sink_failed"`
	SinkRejected     int64 `json:"sink_rejected"`
	SinkAbandoned    int64 `json:"sink_abandoned"`
	SinkUnrecognized int64 `json:"sink_unrecognized"`
	SinkForeign      int64 `json:"sink_foreign"`

	BridgePID          int   `json:"bridge_pid,omitempty"`
	BridgePeakRSSBytes int64 `json:"bridge_peak_rss_bytes,omitempty"`
	BridgeRSSBytes     int64 `json:"bridge_rss_bytes,omitempty"`
	// The current RSS split: anonymous memory (heap, stacks) and file
	// pages (the bridge's memory-mapped database counts here).
	BridgeRSSAnonBytes int64  `json:"bridge_rss_anon_bytes,omitempty"`
	BridgeRSSFileBytes int64  `json:"bridge_rss_file_bytes,omitempty"`
	BridgeMemError     string `json:"bridge_mem_error,omitempty"`
	// CPU time (user and system) the bridge used during its phase, and
	// per delivered group.
	BridgeCPUSeconds    float64 `json:"bridge_cpu_seconds,omitempty"`
	BridgeCPUPerGroupMS float64 `json:"bridge_cpu_per_group_ms,omitempty"`
	// Bridges, with several bridge processes, is each one's memory and
	// CPU; BridgeCPUSeconds and BridgeCPUPerGroupMS are then their sum's
	// (set only when every process could be read), and the single-process
	// fields above stay empty.
	Bridges []BridgeProcess `json:"bridges,omitempty"`
	// ToolCPUPerGroupMS is the load tool's own CPU per delivered group in
	// this phase (generator and sink; in the forwarder phase, the
	// forwarder too).
	ToolCPUPerGroupMS float64 `json:"tool_cpu_per_group_ms,omitempty"`

	// Outage is set when the sink had an outage window.
	Outage *OutageReport `json:"outage,omitempty"`

	// Forwarder is the bare forwarder's phase (-compare-forwarder), and
	// E2ERatioToForwarder the bridge's end-to-end rate divided by its.
	Forwarder           *Report `json:"forwarder,omitempty"`
	E2ERatioToForwarder float64 `json:"e2e_ratio_to_forwarder,omitempty"`

	// Set for -json output.
	Pass           bool     `json:"pass"`
	FailureReasons []string `json:"failure_reasons,omitempty"`
}

// BridgeProcess is one bridge process's memory at the end of the run and
// the CPU time it used in its phase.
type BridgeProcess struct {
	PID           int     `json:"pid"`
	PeakRSSBytes  int64   `json:"peak_rss_bytes,omitempty"`
	RSSBytes      int64   `json:"rss_bytes,omitempty"`
	RSSAnonBytes  int64   `json:"rss_anon_bytes,omitempty"`
	RSSFileBytes  int64   `json:"rss_file_bytes,omitempty"`
	CPUSeconds    float64 `json:"cpu_seconds,omitempty"`
	CPUPerGroupMS float64 `json:"cpu_per_group_ms,omitempty"`
	// cpuOK: the CPU time could be read at both ends of the phase.
	cpuOK bool
	Error string `json:"error,omitempty"`
}

// measureBridge reads process pid's memory and its CPU time since cpu0
// (read at the start of the phase, with error cpuErr).
func measureBridge(pid int, cpu0 time.Duration, cpuErr error, delivered int) BridgeProcess {
	p := BridgeProcess{PID: pid}
	m, err := readProcMem(pid)
	if err != nil {
		p.Error = err.Error()
	}
	p.PeakRSSBytes, p.RSSBytes, p.RSSAnonBytes, p.RSSFileBytes = m.peak, m.rss, m.anon, m.file
	if cpuErr == nil {
		var cpu1 time.Duration
		if cpu1, cpuErr = readProcCPU(pid); cpuErr == nil {
			p.cpuOK = true
			p.CPUSeconds = (cpu1 - cpu0).Seconds()
			if delivered > 0 {
				p.CPUPerGroupMS = ms(cpu1-cpu0) / float64(delivered)
			}
		}
	}
	if cpuErr != nil && p.Error == "" {
		p.Error = cpuErr.Error()
	}
	return p
}

// setBridges puts the bridge processes' numbers in the report: one in
// the single-process fields, several in Bridges with their CPU summed.
func (r *Report) setBridges(procs []BridgeProcess) {
	switch len(procs) {
	case 0:
		return
	case 1:
		p := procs[0]
		r.BridgePID, r.BridgeMemError = p.PID, p.Error
		r.BridgePeakRSSBytes, r.BridgeRSSBytes, r.BridgeRSSAnonBytes, r.BridgeRSSFileBytes = p.PeakRSSBytes, p.RSSBytes, p.RSSAnonBytes, p.RSSFileBytes
		r.BridgeCPUSeconds, r.BridgeCPUPerGroupMS = p.CPUSeconds, p.CPUPerGroupMS
		return
	}
	r.Bridges = procs
	var cpu float64
	for _, p := range procs {
		if !p.cpuOK {
			return
		}
		cpu += p.CPUSeconds
	}
	r.BridgeCPUSeconds = cpu
	if r.Delivered > 0 {
		r.BridgeCPUPerGroupMS = 1000 * cpu / float64(r.Delivered)
	}
}

// OutageReport is what happened around the sink's outage window.
type OutageReport struct {
	StartMS    float64 `json:"start_ms"`
	DurationMS float64 `json:"duration_ms"`
	Mode       string  `json:"mode"`
	// Reached and Ended: whether the phase lasted until the outage's
	// start, and its end.
	Reached bool `json:"reached"`
	Ended   bool `json:"ended"`
	// Attempts is the requests the sink turned away while down; per
	// second of the outage on average and at most.
	Attempts          int64   `json:"attempts"`
	AttemptsPerSec    float64 `json:"attempts_per_second"`
	AttemptsMaxSec    int64   `json:"attempts_max_in_one_second"`
	BacklogAtRecovery int     `json:"backlog_at_recovery"`
	// RecoveryFirstMS and RecoveryLastMS: from the end of the outage to
	// the first and the last arrival of a backlog group (acknowledged
	// before the end, not delivered before it); null when none arrived.
	RecoveryFirstMS *float64 `json:"recovery_first_delivery_ms"`
	RecoveryLastMS  *float64 `json:"recovery_last_delivery_ms"`
	// BacklogDelivered counts the backlog groups that arrived.
	BacklogDelivered int `json:"backlog_delivered"`
}

// Latency is a distribution summary in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	Max   float64 `json:"max"`
}

func latency(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	q := func(p float64) float64 {
		i := int(math.Ceil(p*float64(len(d)))) - 1 // nearest rank
		return ms(d[max(i, 0)])
	}
	return Latency{Count: len(d), P50: q(0.50), P90: q(0.90), P99: q(0.99), Max: ms(d[len(d)-1])}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fill computes the report from the generator's log and the sink.
func (r *Report) fill(pl *postLog, s *sink, t0, postEnd time.Time) {
	arr := s.arrivals(len(pl.code))
	var acks, e2e []time.Duration
	var lastArrival time.Time
	for i, posted := range pl.posted {
		if !posted {
			continue
		}
		r.Posted++
		code := pl.code[i]
		switch code {
		case 0:
		case http.StatusOK:
			r.AckedOK++
		default:
			if r.AckStatus == nil {
				r.AckStatus = map[string]int{}
			}
			r.AckStatus[strconv.Itoa(code)]++
		}
		if code != 0 {
			acks = append(acks, pl.ack[i])
		}
		a := arr[i]
		if a.count == 0 {
			if code == http.StatusOK {
				r.Lost++
			}
			continue
		}
		r.Delivered++
		if code != http.StatusOK {
			r.DeliveredWithoutAck++
		}
		if a.count > 1 {
			r.Duplicates++
			r.ExtraDeliveries += a.count - 1
		}
		e2e = append(e2e, a.first.Sub(pl.start[i]))
		if a.first.After(lastArrival) {
			lastArrival = a.first
		}
	}
	r.AckErrors, r.AckErrorSample = pl.errCount, pl.errSample
	for code, n := range pl.retries {
		if r.RetryStatus == nil {
			r.RetryStatus = map[string]int{}
		}
		r.RetryStatus[strconv.Itoa(code)] += n
		r.Retries += n
	}
	r.RetryErrorSample = pl.retrySample
	r.AckLatency = latency(acks)
	r.E2ELatency = latency(e2e)
	r.PostSeconds = postEnd.Sub(t0).Seconds()
	if r.PostSeconds > 0 {
		r.PostRate = float64(r.Posted) / r.PostSeconds
	}
	if r.Delivered > 0 {
		r.E2ESeconds = lastArrival.Sub(t0).Seconds()
		if r.E2ESeconds > 0 {
			r.E2ERate = float64(r.Delivered) / r.E2ESeconds
		}
	}
	st := s.stats()
	r.SinkRequests, r.SinkFailed, r.SinkRejected, r.SinkAbandoned = st.Requests, st.Failed, st.Rejected, st.Abandoned
	r.SinkUnrecognized, r.SinkForeign = st.Unrecognized, st.Foreign
	if r.Outage != nil {
		r.Outage.fill(pl, s, arr, time.Now())
	}
}

// fill computes the outage's numbers at the end of the phase (now).
func (o *OutageReport) fill(pl *postLog, s *sink, arr []arrival, now time.Time) {
	down, recovery := s.start.Add(s.opt.OutageStart), s.recovery()
	o.Reached, o.Ended = !now.Before(down), !now.Before(recovery)
	if !o.Reached {
		return
	}
	for i := range s.outageHits {
		n := s.outageHits[i].Load()
		o.Attempts += n
		o.AttemptsMaxSec = max(o.AttemptsMaxSec, n)
	}
	end := recovery
	if now.Before(end) {
		end = now
	}
	if secs := end.Sub(down).Seconds(); secs > 0 {
		o.AttemptsPerSec = float64(o.Attempts) / secs
	}
	if !o.Ended {
		return
	}
	var first, last time.Time
	for i, code := range pl.code {
		if code != http.StatusOK || !pl.start[i].Before(recovery) {
			continue
		}
		a := arr[i]
		if a.count > 0 && a.first.Before(recovery) {
			continue // delivered before the end of the outage
		}
		o.BacklogAtRecovery++
		if a.count == 0 {
			continue
		}
		o.BacklogDelivered++
		if first.IsZero() || a.first.Before(first) {
			first = a.first
		}
		if a.first.After(last) {
			last = a.first
		}
	}
	if !first.IsZero() {
		f, l := ms(first.Sub(recovery)), ms(last.Sub(recovery))
		o.RecoveryFirstMS, o.RecoveryLastMS = &f, &l
	}
}

// Failures lists why the run should exit non-zero: lost or duplicated
// groups (unless allowLoss), nothing acknowledged, or an interruption, in
// the bridge's phase or the forwarder's.
func (r *Report) Failures(allowLoss bool) []string {
	var out []string
	if r.Forwarder != nil {
		for _, f := range r.Forwarder.Failures(allowLoss) {
			out = append(out, "forwarder phase: "+f)
		}
	}
	if r.Groups > 0 && r.AckedOK == 0 {
		out = append(out, "no group was acknowledged with 200")
	}
	if r.Interrupted {
		out = append(out, "interrupted before the run completed")
	}
	if !allowLoss {
		if r.Lost > 0 {
			out = append(out, fmt.Sprintf("%d acknowledged groups were never delivered", r.Lost))
		}
		if r.Duplicates > 0 {
			out = append(out, fmt.Sprintf("%d groups were delivered more than once", r.Duplicates))
		}
	}
	return out
}

// WriteText prints the human-readable report: the forwarder's phase
// first when there was one, then the bridge's.
func (r *Report) WriteText(w io.Writer, failures []string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("alertbridge load test, run %s", r.RunID)
	if r.Forwarder != nil {
		p("== bare forwarder phase (run %s)", r.Forwarder.RunID)
		r.Forwarder.writePhase(w)
		p("== bridge phase (run %s)", r.RunID)
	}
	r.writePhase(w)
	if r.BridgePID > 0 {
		if r.BridgeMemError != "" {
			p("bridge process  pid %d: %s", r.BridgePID, r.BridgeMemError)
		} else {
			p("bridge process  pid %d: peak RSS (VmHWM) %s; RSS now %s (anon %s, file %s)", r.BridgePID,
				fmtBytes(r.BridgePeakRSSBytes), fmtBytes(r.BridgeRSSBytes), fmtBytes(r.BridgeRSSAnonBytes), fmtBytes(r.BridgeRSSFileBytes))
			p("                CPU %.2fs in its phase = %.3f ms per delivered group", r.BridgeCPUSeconds, r.BridgeCPUPerGroupMS)
		}
	}
	if len(r.Bridges) > 0 {
		if r.BridgeCPUSeconds > 0 || r.Delivered == 0 {
			p("bridge processes %d: CPU %.2fs in their phase together = %.3f ms per delivered group", len(r.Bridges), r.BridgeCPUSeconds, r.BridgeCPUPerGroupMS)
		} else {
			p("bridge processes %d: CPU not known for every process", len(r.Bridges))
		}
		for _, b := range r.Bridges {
			if b.Error != "" {
				p("  pid %d: %s", b.PID, b.Error)
				continue
			}
			p("  pid %d: peak RSS (VmHWM) %s; RSS now %s (anon %s, file %s); CPU %.2fs = %.3f ms per delivered group", b.PID,
				fmtBytes(b.PeakRSSBytes), fmtBytes(b.RSSBytes), fmtBytes(b.RSSAnonBytes), fmtBytes(b.RSSFileBytes), b.CPUSeconds, b.CPUPerGroupMS)
		}
	}
	if r.Forwarder != nil {
		p("comparison")
		p("  end-to-end    bridge %.0f groups/s, bare forwarder %.0f groups/s: %.2fx", r.E2ERate, r.Forwarder.E2ERate, r.E2ERatioToForwarder)
		p("  ack p99       bridge %s, bare forwarder %s", fmtMS(r.AckLatency.P99), fmtMS(r.Forwarder.AckLatency.P99))
	}
	if len(failures) == 0 {
		p("result: PASS")
		return
	}
	p("result: FAIL: %s", strings.Join(failures, "; "))
}

// writePhase prints one phase's numbers.
func (r *Report) writePhase(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("  target        %s", r.BridgeURL)
	p("  sink          %s (%s): %s", r.SinkURL, r.SinkType, r.sinkFaults())
	rate := ""
	if r.RateLimit > 0 {
		rate = fmt.Sprintf(", at most %.0f posts/s", r.RateLimit)
	}
	p("  load          %d groups x %d alerts, %d bytes per payload, concurrency %d%s", r.Groups, r.AlertsPerGroup, r.PayloadBytesAvg, r.Concurrency, rate)
	p("post phase")
	p("  posted        %d in %.2fs = %.0f groups/s", r.Posted, r.PostSeconds, r.PostRate)
	p("  acked 200     %d", r.AckedOK)
	p("  non-200       %s", fmtCodes(r.AckStatus))
	if r.AckErrors > 0 {
		p("  errors        %d (e.g. %s)", r.AckErrors, r.AckErrorSample)
	} else {
		p("  errors        0")
	}
	if r.BridgeCount > 1 {
		s := fmt.Sprintf("%d attempts on the next bridge", r.Retries)
		if r.Retries > 0 {
			s += " (after " + fmtRetryCodes(r.RetryStatus) + ")"
			if r.RetryErrorSample != "" {
				s += ", e.g. " + r.RetryErrorSample
			}
		}
		p("  retried       %s; %d bridges, round-robin", s, r.BridgeCount)
	}
	p("  ack latency   %s", fmtLatency(r.AckLatency))
	p("delivery")
	p("  delivered     %d groups", r.Delivered)
	p("  lost          %d (acked 200, never delivered)", r.Lost)
	p("  duplicates    %d groups (%d extra deliveries)", r.Duplicates, r.ExtraDeliveries)
	if r.DeliveredWithoutAck > 0 {
		p("  without ack   %d (delivered, but the POST got no 200)", r.DeliveredWithoutAck)
	}
	p("  end-to-end    %d groups in %.2fs = %.0f groups/s (first POST to last delivery)", r.Delivered, r.E2ESeconds, r.E2ERate)
	p("  e2e latency   %s", fmtLatency(r.E2ELatency))
	if r.WaitTimedOut {
		p("  wait          timed out before every acknowledged group arrived")
	}
	p("  sink answers  %d requests: %d failed (injected), %d turned away (outage), %d abandoned, %d unrecognized, %d groups of other runs",
		r.SinkRequests, r.SinkFailed, r.SinkRejected, r.SinkAbandoned, r.SinkUnrecognized, r.SinkForeign)
	if r.ToolCPUPerGroupMS > 0 {
		p("  tool CPU      %.3f ms per delivered group (generator and sink%s)", r.ToolCPUPerGroupMS,
			map[bool]string{true: " and forwarder", false: ""}[r.Phase == "forwarder"])
	}
	if o := r.Outage; o != nil {
		p("outage          %s for %s from %s after the start (%s)", map[bool]string{true: "connections reset", false: "503"}[o.Mode == outageRefuse],
			fmtMS(o.DurationMS), fmtMS(o.StartMS), o.describe())
	}
}

func (o *OutageReport) describe() string {
	if !o.Reached {
		return "not reached: the phase ended before it"
	}
	s := fmt.Sprintf("%d attempts while down, %.1f/s on average, at most %d in one second", o.Attempts, o.AttemptsPerSec, o.AttemptsMaxSec)
	if !o.Ended {
		return s + "; the phase ended before the recovery"
	}
	s += fmt.Sprintf("; backlog at recovery %d groups", o.BacklogAtRecovery)
	if o.RecoveryFirstMS != nil {
		s += fmt.Sprintf(", first delivered %s and last %s after recovery (%d of them)", fmtMS(*o.RecoveryFirstMS), fmtMS(*o.RecoveryLastMS), o.BacklogDelivered)
	}
	return s
}

// sinkFaults describes the sink's injected faults.
func (r *Report) sinkFaults() string {
	var parts []string
	if r.SinkDelayMS > 0 {
		parts = append(parts, "latency "+fmtMS(r.SinkDelayMS))
	}
	if r.SinkFailRate > 0 {
		what := strconv.Itoa(r.SinkFailStatus)
		if r.SinkFailStatus >= 200 && r.SinkFailStatus <= 299 {
			what += " with an error body"
		}
		parts = append(parts, fmt.Sprintf("%.0f%% answered %s", 100*r.SinkFailRate, what))
	}
	if o := r.Outage; o != nil {
		parts = append(parts, fmt.Sprintf("outage %s from %s (%s)", fmtMS(o.DurationMS), fmtMS(o.StartMS), o.Mode))
	}
	if len(parts) == 0 {
		return "no faults"
	}
	return strings.Join(parts, ", ")
}

func fmtLatency(l Latency) string {
	if l.Count == 0 {
		return "n/a"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s", fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max))
}

func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 1000:
		return fmt.Sprintf("%.0fms", v)
	}
	return fmt.Sprintf("%.2fs", v/1000)
}

func fmtCodes(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s x%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// fmtRetryCodes is fmtCodes with "0" spelt as a transport error.
func fmtRetryCodes(m map[string]int) string {
	named := make(map[string]int, len(m))
	for k, v := range m {
		if k == "0" {
			k = "transport error"
		}
		named[k] = v
	}
	return fmtCodes(named)
}

func fmtBytes(n int64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// procMem is a process's memory from /proc/<pid>/status, in bytes.
type procMem struct {
	peak, rss, anon, file int64
}

// readProcMem reads a process's peak and current resident set size.
func readProcMem(pid int) (procMem, error) {
	var m procMem
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	defer f.Close()
	fields := map[string]*int64{"VmHWM": &m.peak, "VmRSS": &m.rss, "RssAnon": &m.anon, "RssFile": &m.file}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		dst := fields[name]
		if !ok || dst == nil {
			continue
		}
		parts := strings.Fields(val) // "12345 kB"
		if len(parts) != 2 || parts[1] != "kB" {
			return m, fmt.Errorf("/proc/%d/status: unexpected line %q", pid, sc.Text())
		}
		kb, err := strconv.ParseInt(parts[0], 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc/%d/status: %s: %w", pid, name, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.peak == 0 {
		return m, fmt.Errorf("/proc/%d/status has no VmHWM", pid)
	}
	return m, nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on
// every Linux architecture Go supports).
const clockTicks = 100

// readProcCPU reads a process's CPU time (user plus system) so far.
func readProcCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from after its closing parenthesis, where field 3 (state) starts.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64) // field 14
	stime, err2 := strconv.ParseInt(f[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("/proc/%d/stat: unexpected format", pid)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// selfCPU is the load tool's own CPU time so far (0 if unknown).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
