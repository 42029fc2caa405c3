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
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load-test run.
type Config struct {
	BridgeURL string
	// BridgePID, when positive, is the process whose peak RSS is reported.
	BridgePID int

	SinkListen string
	// SinkListener, when set, is used instead of listening on SinkListen.
	SinkListener net.Listener
	SinkDelay    time.Duration
	SinkFailFor  time.Duration

	Groups      int
	Alerts      int
	Concurrency int

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
	u, err := url.Parse(c.BridgeURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("-bridge.url %q: must be an absolute http(s) URL", c.BridgeURL))
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
	for name, d := range map[string]time.Duration{"-sink.delay": c.SinkDelay, "-sink.fail-for": c.SinkFailFor,
		"-wait": c.Wait, "-settle": c.Settle, "-progress": c.Progress} {
		if d < 0 {
			errs = append(errs, fmt.Errorf("%s must not be negative", name))
		}
	}
	if c.PostTimeout <= 0 {
		errs = append(errs, errors.New("-post.timeout must be positive"))
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return errors.Join(errs...)
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
// sink, and reports. It fails only on a setup error; lost or duplicated
// groups are in the report.
func run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.check(); err != nil {
		if cfg.SinkListener != nil {
			cfg.SinkListener.Close()
		}
		return nil, err
	}
	runID, seed, err := newRunID()
	if err != nil {
		return nil, err
	}
	payloads, err := buildPayloads(runID, seed, cfg.Groups, cfg.Alerts, time.Now().UTC())
	if err != nil {
		return nil, err
	}
	payloadBytes := 0
	for _, p := range payloads {
		payloadBytes += len(p)
	}

	l, err := cfg.sinkListener()
	if err != nil {
		return nil, err
	}
	s := newSink(runID, cfg.SinkDelay, cfg.SinkFailFor)
	stopSink := serveSink(s, l)
	defer stopSink()

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

	rep := &Report{
		RunID: runID, BridgeURL: cfg.BridgeURL, SinkURL: "http://" + l.Addr().String(),
		Groups: cfg.Groups, AlertsPerGroup: cfg.Alerts, Concurrency: cfg.Concurrency,
		PayloadBytesAvg: payloadBytes / len(payloads),
		SinkDelayMS:     ms(cfg.SinkDelay), SinkFailForMS: ms(cfg.SinkFailFor),
		BridgePID: cfg.BridgePID,
	}
	fmt.Fprintf(cfg.Log, "run %s: posting %d groups x %d alerts (%d bytes each on average) to %s at concurrency %d; sink on %s\n",
		runID, cfg.Groups, cfg.Alerts, rep.PayloadBytesAvg, cfg.BridgeURL, cfg.Concurrency, rep.SinkURL)

	pl := &postLog{
		posted: make([]bool, cfg.Groups), start: make([]time.Time, cfg.Groups),
		ack: make([]time.Duration, cfg.Groups), code: make([]int, cfg.Groups),
	}
	var posted, acked atomic.Int64
	var phase atomic.Value
	phase.Store("posting")
	stopProgress := progress(cfg, func() string {
		return fmt.Sprintf("%s: posted %d/%d, acked %d, delivered %d", phase.Load(), posted.Load(), cfg.Groups, acked.Load(), s.delivered())
	})
	defer stopProgress()

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
				pl.posted[i] = true
				pl.start[i] = time.Now()
				code, err := postOne(ctx, client, cfg.BridgeURL, payloads[i])
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
	phase.Store("waiting")
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
		phase.Store("settling")
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
	if cfg.BridgePID > 0 {
		m, err := readProcMem(cfg.BridgePID)
		if err != nil {
			rep.BridgeMemError = err.Error()
		}
		rep.BridgePeakRSSBytes, rep.BridgeRSSBytes, rep.BridgeRSSAnonBytes, rep.BridgeRSSFileBytes = m.peak, m.rss, m.anon, m.file
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

// groupKey is the Alertmanager group key of group n: grouped by alertname
// and the load-test labels.
func groupKey(run string, n int) string {
	return fmt.Sprintf(`{}:{alertname="LoadTest", loadtest_group="%d", loadtest_run="%s"}`, n, run)
}

// buildPayloads renders every group's webhook body. Fingerprints are
// seed XOR the alert's index, so they are unique within the run.
func buildPayloads(run string, seed uint64, groups, alerts int, now time.Time) ([][]byte, error) {
	out := make([][]byte, groups)
	base := now.Truncate(time.Second).Add(-30 * time.Minute)
	for n := range groups {
		g := strconv.Itoa(n)
		sev := severities[n%len(severities)]
		job := "loadtest-" + strconv.Itoa(n%50)
		desc := fmt.Sprintf("Load test group %d of run %s: %d alerts.", n, run, alerts)
		p := amPayload{
			Receiver:          "alertbridge",
			Status:            "firing",
			GroupLabels:       map[string]string{"alertname": "LoadTest", "loadtest_group": g, "loadtest_run": run},
			CommonLabels:      map[string]string{"alertname": "LoadTest", "job": job, "severity": sev, "loadtest_group": g, "loadtest_run": run},
			CommonAnnotations: map[string]string{"description": desc},
			ExternalURL:       "http://alertmanager.loadtest:9093",
			Version:           "4",
			GroupKey:          groupKey(run, n),
			Alerts:            make([]amAlert, alerts),
		}
		for i := range alerts {
			instance := fmt.Sprintf("host-%d-%d.loadtest:9100", n, i)
			p.Alerts[i] = amAlert{
				Status: "firing",
				Labels: map[string]string{
					"alertname": "LoadTest", "instance": instance, "job": job, "severity": sev,
					"loadtest_group": g, "loadtest_run": run,
				},
				Annotations: map[string]string{
					"summary":     fmt.Sprintf("Load test alert %d of group %d on %s", i, n, instance),
					"description": desc,
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
