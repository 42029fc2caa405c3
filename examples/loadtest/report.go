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
	"time"
)

// Report is the outcome of one run. Durations are in milliseconds, rates
// in groups per second.
type Report struct {
	RunID           string  `json:"run_id"`
	BridgeURL       string  `json:"bridge_url"`
	SinkURL         string  `json:"sink_url"`
	Groups          int     `json:"groups"`
	AlertsPerGroup  int     `json:"alerts_per_group"`
	Concurrency     int     `json:"concurrency"`
	PayloadBytesAvg int     `json:"payload_bytes_avg"`
	SinkDelayMS     float64 `json:"sink_delay_ms"`
	SinkFailForMS   float64 `json:"sink_fail_for_ms"`

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

	// What else the sink saw.
	SinkRequests     int64 `json:"sink_requests"`
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

	// Set for -json output.
	Pass           bool     `json:"pass"`
	FailureReasons []string `json:"failure_reasons,omitempty"`
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
	r.SinkRequests, r.SinkRejected, r.SinkAbandoned = st.Requests, st.Rejected, st.Abandoned
	r.SinkUnrecognized, r.SinkForeign = st.Unrecognized, st.Foreign
}

// Failures lists why the run should exit non-zero: lost or duplicated
// groups (unless allowLoss), nothing acknowledged, or an interruption.
func (r *Report) Failures(allowLoss bool) []string {
	var out []string
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

// WriteText prints the human-readable report.
func (r *Report) WriteText(w io.Writer, failures []string) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("alertbridge load test, run %s", r.RunID)
	p("  bridge        %s  (sink %s, delay %s, fail-for %s)", r.BridgeURL, r.SinkURL, fmtMS(r.SinkDelayMS), fmtMS(r.SinkFailForMS))
	p("  load          %d groups x %d alerts, %d bytes per payload, concurrency %d", r.Groups, r.AlertsPerGroup, r.PayloadBytesAvg, r.Concurrency)
	p("post phase")
	p("  posted        %d in %.2fs = %.0f groups/s", r.Posted, r.PostSeconds, r.PostRate)
	p("  acked 200     %d", r.AckedOK)
	p("  non-200       %s", fmtCodes(r.AckStatus))
	if r.AckErrors > 0 {
		p("  errors        %d (e.g. %s)", r.AckErrors, r.AckErrorSample)
	} else {
		p("  errors        0")
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
	p("  sink          %d requests, %d rejected (fail-for), %d abandoned, %d unrecognized, %d groups of other runs",
		r.SinkRequests, r.SinkRejected, r.SinkAbandoned, r.SinkUnrecognized, r.SinkForeign)
	if r.BridgePID > 0 {
		if r.BridgeMemError != "" {
			p("bridge memory   pid %d: %s", r.BridgePID, r.BridgeMemError)
		} else {
			p("bridge memory   pid %d: peak RSS (VmHWM) %s; RSS now %s (anon %s, file %s)", r.BridgePID,
				fmtBytes(r.BridgePeakRSSBytes), fmtBytes(r.BridgeRSSBytes), fmtBytes(r.BridgeRSSAnonBytes), fmtBytes(r.BridgeRSSFileBytes))
		}
	}
	if len(failures) == 0 {
		p("result: PASS")
		return
	}
	p("result: FAIL: %s", strings.Join(failures, "; "))
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
