package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertbridge/alertbridge/bridge/alert"
	bmetrics "github.com/alertbridge/alertbridge/bridge/metrics"
)

// fakeIngest is a Backend that accepts every notification (unless accept
// says otherwise); any method but Accept and Credentials panics.
type fakeIngest struct {
	Backend
	accept func(msg *alert.Message, target string) (*Accepted, error)
}

func (f *fakeIngest) Credentials() Credentials { return Credentials{} }

func (f *fakeIngest) Accept(msg *alert.Message, target string) (*Accepted, error) {
	if f.accept != nil {
		return f.accept(msg, target)
	}
	return &Accepted{GroupKey: msg.GroupKey, Targets: []string{"t"}}, nil
}

func newTestMetrics() *bmetrics.Metrics {
	return bmetrics.New(func() []bmetrics.LaneStats { return nil })
}

// payload builds a webhook body with n alerts, each padded with pad bytes
// of description.
func payload(groupKey string, n, pad int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"version":"4","groupKey":%s,"status":"firing","receiver":"r","groupLabels":{"alertname":"Load"},"commonLabels":{"alertname":"Load"},"commonAnnotations":{},"externalURL":"http://am:9093","alerts":[`, quote(groupKey))
	desc := strings.Repeat("d", pad)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"Load","instance":"host-%d:9100","severity":"critical","secret_looking":"label-value-%d"},"annotations":{"description":"%s"},"startsAt":"2026-01-01T00:00:00Z","fingerprint":"%016x"}`, i, i, desc, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// maximalPayload is a payload of exactly size bytes with n alerts.
func maximalPayload(size, n int) []byte {
	base := len(payload("{}:{alertname=\"Load\"}", n, 0))
	p := payload("{}:{alertname=\"Load\"}", n, (size-base)/n)
	if len(p) < size {
		// Fill the rest with whitespace, which JSON allows.
		p = append(p, bytes.Repeat([]byte(" "), size-len(p))...)
	}
	return p
}

// minimalPayload has n alerts of one short label each.
func minimalPayload(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"version":"4","groupKey":"g","alerts":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"i":"%d"}}`, i)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

type answer struct {
	code       int
	retryAfter string
	err        string // the JSON error message, if any
}

func post(t *testing.T, h http.Handler, path string, body []byte, chunked bool) answer {
	t.Helper()
	var r io.Reader = bytes.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length
	}
	req := httptest.NewRequest(http.MethodPost, path, r)
	if chunked {
		req.ContentLength = -1
	}
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return decodeAnswer(t, rec.Code, rec.Header(), rec.Body.Bytes())
}

func decodeAnswer(t *testing.T, code int, h http.Header, body []byte) answer {
	t.Helper()
	a := answer{code: code, retryAfter: h.Get("Retry-After")}
	var v struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("answer %d is not JSON: %q", code, body)
	}
	a.err = v.Error
	return a
}

func TestWebhookMaxAlerts(t *testing.T) {
	cases := []struct {
		name      string
		maxAlerts int   // 0: the default
		maxBody   int64 // 0: the default
		body      []byte
		chunked   bool
		want      int
		wantError string
	}{
		{name: "at the limit", maxAlerts: 5, body: minimalPayload(5), want: http.StatusOK},
		{name: "one over the limit", maxAlerts: 5, body: minimalPayload(6), want: http.StatusRequestEntityTooLarge, wantError: "the notification has 6 alerts, over the limit of 5"},
		{name: "one over the limit, no length", maxAlerts: 5, body: minimalPayload(6), chunked: true, want: http.StatusRequestEntityTooLarge, wantError: "over the limit of 5"},
		{name: "90,000 alerts, default limits", body: minimalPayload(90000), want: http.StatusRequestEntityTooLarge, wantError: "the notification has 90000 alerts, over the limit of 10000"},
		{name: "90,000 alerts in a 64 MiB body", maxBody: 64 << 20, body: payload("g", 90000, 100), want: http.StatusRequestEntityTooLarge, wantError: "over the limit of 10000"},
		{name: "over the limit and malformed: 400", maxAlerts: 5, body: bytes.TrimSuffix(minimalPayload(6), []byte("]}")), want: http.StatusBadRequest, wantError: "malformed JSON"},
		{name: "body over the limit", maxBody: 1 << 10, body: minimalPayload(100), want: http.StatusRequestEntityTooLarge, wantError: "body exceeds the limit of 1 KiB"},
		{name: "body over the limit, no length", maxBody: 1 << 10, body: minimalPayload(100), chunked: true, want: http.StatusRequestEntityTooLarge, wantError: "body exceeds the limit of 1 KiB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			accepted := 0
			b := &fakeIngest{accept: func(msg *alert.Message, _ string) (*Accepted, error) {
				accepted++
				return &Accepted{GroupKey: msg.GroupKey, Targets: []string{}}, nil
			}}
			h := New(b, zap.NewNop(), c.maxBody, newTestMetrics(), MaxAlerts(c.maxAlerts))
			got := post(t, h, "/webhook", c.body, c.chunked)
			if got.code != c.want || !strings.Contains(got.err, c.wantError) {
				t.Fatalf("answer %d %q, want %d with %q", got.code, got.err, c.want, c.wantError)
			}
			if wantAccepted := map[bool]int{true: 1}[c.want == http.StatusOK]; accepted != wantAccepted {
				t.Errorf("Accept called %d times, want %d", accepted, wantAccepted)
			}
		})
	}
}

// TestWebhookHostileInput: payloads no retry can fix get 400 with a JSON
// error, whatever they hold; nothing panics, nothing is accepted.
func TestWebhookHostileInput(t *testing.T) {
	valid := `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`
	cases := []struct{ name, body string }{
		{"empty", ``},
		{"whitespace", " \n\t"},
		{"null", `null`},
		{"array", `[` + valid + `]`},
		{"string", `"alerts"`},
		{"number", `1e999999`},
		{"alerts null", `{"version":"4","groupKey":"g","alerts":null}`},
		{"alerts an object", `{"version":"4","groupKey":"g","alerts":{"0":{}}}`},
		{"alert null", `{"version":"4","groupKey":"g","alerts":[null]}`},
		{"alert a string", `{"version":"4","groupKey":"g","alerts":["firing"]}`},
		{"version a number", strings.Replace(valid, `"4"`, `4`, 1)},
		{"wrong version", strings.Replace(valid, `"4"`, `"3"`, 1)},
		{"long version", strings.Replace(valid, `"4"`, `"`+strings.Repeat("9", 100000)+`"`, 1)},
		{"no group key", strings.Replace(valid, `"groupKey":"g",`, ``, 1)},
		{"group key over 16 KiB", strings.Replace(valid, `"g"`, `"`+strings.Repeat("k", 17<<10)+`"`, 1)},
		{"label value a number", strings.Replace(valid, `"a":"b"`, `"a":1`, 1)},
		{"labels an array", strings.Replace(valid, `{"a":"b"}`, `["a","b"]`, 1)},
		{"bad time", strings.Replace(valid, `"labels"`, `"startsAt":"yesterday","labels"`, 1)},
		{"bad alert status", strings.Replace(valid, `"status":"firing","labels"`, `"status":"pending","labels"`, 1)},
		{"no labels", strings.Replace(valid, `{"a":"b"}`, `{}`, 1)},
		{"deep nesting", `{"version":"4","groupKey":"g","alerts":[{"labels":` + strings.Repeat(`{"a":`, 20000) + `1` + strings.Repeat(`}`, 20000) + `}]}`},
		{"deep arrays", strings.Repeat("[", 200000)},
		{"unclosed string", `{"version":"4","groupKey":"g`},
		{"lone backslash", `{"version":"4\`},
		{"bad escape", `{"version":"\x"}`},
		{"invalid UTF-8 and NUL", "{\"version\":\"4\",\"groupKey\":\"\xff\x00\",\"alerts\":[\xfe]}"},
		{"byte order mark", "\xef\xbb\xbf" + valid},
		{"trailing data", valid + `{}`},
		{"two payloads", valid + valid},
		{"binary", "\x00\x01\x02\x03\xff"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := &fakeIngest{accept: func(*alert.Message, string) (*Accepted, error) {
				t.Error("a hostile payload reached Accept")
				return nil, ErrUnavailable
			}}
			h := New(b, zap.NewNop(), 0, newTestMetrics())
			for _, chunked := range []bool{false, true} {
				got := post(t, h, "/webhook", []byte(c.body), chunked)
				if got.code != http.StatusBadRequest || got.err == "" {
					t.Errorf("chunked %v: answer %d %q, want 400 with an explanation", chunked, got.code, got.err)
				}
			}
		})
	}
}

// TestWebhookRejectionsLogged: each notification refused with a 4xx is
// logged once at warn with the reason, the group key when known and the
// target; never with the rest of the body.
func TestWebhookRejectionsLogged(t *testing.T) {
	valid := payload("{}:{alertname=\"Load\"}", 2, 10)
	cases := []struct {
		name     string
		path     string
		body     []byte
		maxBody  int64
		want     int
		reason   string // part of the logged reason
		groupKey string // "" means the line has no group_key
	}{
		{name: "malformed JSON", path: "/webhook", body: []byte(`{"version":`), want: 400, reason: "malformed JSON"},
		{name: "invalid payload with a group key", path: "/webhook", body: bytes.Replace(valid, []byte(`"version":"4"`), []byte(`"version":"5"`), 1), want: 400, reason: `unsupported version "5"`, groupKey: `{}:{alertname="Load"}`},
		{name: "unknown target", path: "/webhook/nope", body: valid, want: 404, reason: `unknown target "nope"`, groupKey: `{}:{alertname="Load"}`},
		{name: "body over the limit", path: "/webhook", body: valid, maxBody: 100, want: 413, reason: "body exceeds the limit of 100 bytes"},
		{name: "too many alerts", path: "/webhook/t", body: payload("g", 10001, 0), want: 413, reason: "the notification has 10001 alerts, over the limit of 10000", groupKey: "g"},
		{name: "group key cut", path: "/webhook", body: bytes.Replace(payload(strings.Repeat("k", 2000), 1, 0), []byte(`"version":"4"`), []byte(`"version":""`), 1), want: 400, reason: "missing version", groupKey: strings.Repeat("k", maxLoggedBytes) + "…(2000 bytes)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			core, logs := observer.New(zapcore.DebugLevel)
			b := &fakeIngest{accept: func(msg *alert.Message, target string) (*Accepted, error) {
				if target == "nope" {
					return nil, ErrUnknownTarget
				}
				return &Accepted{GroupKey: msg.GroupKey}, nil
			}}
			h := New(b, zap.New(core), c.maxBody, newTestMetrics())
			logs.TakeAll() // the limits logged by New
			got := post(t, h, c.path, c.body, false)
			if got.code != c.want {
				t.Fatalf("answer %d %q, want %d", got.code, got.err, c.want)
			}
			entries := logs.TakeAll()
			if len(entries) != 1 {
				t.Fatalf("%d log lines, want 1: %v", len(entries), entries)
			}
			e := entries[0]
			f := e.ContextMap()
			if e.Level != zapcore.WarnLevel || e.Message != "notification rejected" {
				t.Errorf("logged %v %q, want warn %q", e.Level, e.Message, "notification rejected")
			}
			if f["status"] != int64(c.want) || !strings.Contains(fmt.Sprint(f["reason"]), c.reason) {
				t.Errorf("fields %v, want status %d and a reason with %q", f, c.want, c.reason)
			}
			if gk, ok := f["group_key"]; c.groupKey == "" && ok || c.groupKey != "" && gk != c.groupKey {
				t.Errorf("group_key = %v (present %v), want %q", gk, ok, c.groupKey)
			}
			if target := strings.TrimPrefix(strings.TrimPrefix(c.path, "/webhook"), "/"); target != "" && f["target"] != target {
				t.Errorf("target = %v, want %q", f["target"], target)
			}
			if line := fmt.Sprint(f); strings.Contains(line, "label-value-") || strings.Contains(line, "host-0") {
				t.Errorf("the log line carries the body: %s", line)
			}
		})
	}

	t.Run("accepted: no warn line", func(t *testing.T) {
		core, logs := observer.New(zapcore.WarnLevel)
		h := New(&fakeIngest{}, zap.New(core), 0, newTestMetrics())
		if got := post(t, h, "/webhook", valid, false); got.code != http.StatusOK {
			t.Fatalf("answer %d %q", got.code, got.err)
		}
		if n := logs.Len(); n != 0 {
			t.Errorf("%d warn lines for an accepted notification: %v", n, logs.All())
		}
	})
}

// TestWebhookDecodeBudget: a request that finds the budget taken waits up
// to the decode wait, then gets 503 with Retry-After; it is served once
// the budget frees up; a caller that goes away stops waiting.
func TestWebhookDecodeBudget(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 4)
	b := &fakeIngest{accept: func(msg *alert.Message, _ string) (*Accepted, error) {
		entered <- struct{}{}
		if msg.GroupKey == "hold" {
			<-release
		}
		return &Accepted{GroupKey: msg.GroupKey}, nil
	}}
	body := func(gk string) []byte { return payload(gk, 1, 0) }
	// The budget holds one request of the body limit, not two.
	const maxBody = 64 << 10
	s := &Server{maxBodyBytes: maxBody, maxAlerts: DefaultMaxAlerts}
	h := New(b, zap.NewNop(), maxBody, newTestMetrics(), DecodeBudget(s.decodeCost(-1)+1), DecodeWait(100*time.Millisecond))

	held := make(chan answer, 2)
	go func() { held <- post(t, h, "/webhook", body("hold"), true) }() // no length: costs the body limit
	<-entered

	start := time.Now()
	got := post(t, h, "/webhook", body("waits"), false)
	if got.code != http.StatusServiceUnavailable || got.retryAfter != "1" || !strings.Contains(got.err, "retry later") {
		t.Errorf("while the budget is taken: answer %d Retry-After %q %q, want 503 with Retry-After 1", got.code, got.retryAfter, got.err)
	}
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Errorf("answered after %v, before the decode wait of 100ms", waited)
	}

	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/webhook", bytes.NewReader(body("gone"))).WithContext(ctx)
	cancel()
	start = time.Now()
	h.ServeHTTP(httptest.NewRecorder(), req)
	if waited := time.Since(start); waited > 50*time.Millisecond {
		t.Errorf("a caller that went away was kept waiting %v", waited)
	}

	// A small request waits while the budget is taken and goes on once it
	// is released.
	small := make(chan answer, 1)
	h2 := New(b, zap.NewNop(), maxBody, newTestMetrics(), DecodeBudget(s.decodeCost(-1)+1), DecodeWait(10*time.Second))
	go func() { held <- post(t, h2, "/webhook", body("hold"), true) }()
	<-entered
	go func() { small <- post(t, h2, "/webhook", body("small"), false) }()
	time.Sleep(50 * time.Millisecond)
	select {
	case a := <-small:
		t.Fatalf("served (%d) while the budget was taken", a.code)
	default:
	}
	close(release)
	if a := <-small; a.code != http.StatusOK {
		t.Errorf("after the release: answer %d %q, want 200", a.code, a.err)
	}
	for range 2 {
		if a := <-held; a.code != http.StatusOK {
			t.Errorf("held request: answer %d %q, want 200", a.code, a.err)
		}
	}
}

// heapSampler records, while it runs, the peak of the heap (live objects
// and garbage not yet swept) and the peak of the live heap (what the last
// garbage collection kept: memory no collection can give back).
type heapSampler struct {
	stop       chan struct{}
	done       chan struct{}
	peak, live uint64
}

var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes"}

// heapNow returns the heap and the live heap.
func heapNow() (heap, live uint64) {
	s := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		s[i].Name = name
	}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(500 * time.Microsecond)
		defer tick.Stop()
		for {
			heap, live := heapNow()
			h.peak, h.live = max(h.peak, heap), max(h.live, live)
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// Stop ends the sampling and returns the peaks.
func (h *heapSampler) Stop() (peak, live uint64) {
	close(h.stop)
	<-h.done
	return h.peak, h.live
}

// withMemoryLimit runs f under a Go memory limit, as GOMEMLIMIT would set.
func withMemoryLimit(t *testing.T, limit int64) {
	t.Helper()
	prev := debug.SetMemoryLimit(limit)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })
}

// TestWebhookMemoryBoundEightMaximalPosts posts eight maximal notifications
// (4 MiB bodies, 10,000 alerts each) at once through a real listener,
// under a 96 MiB Go memory limit, and samples the heap while they are
// decoded and accepted: what they add to the live heap (what garbage
// collection cannot give back) stays under the decode budget derived from
// that limit (half of it), and the heap stays under the limit. The same
// posts with the budget lifted are the control: they add more than the
// budget, so the measurement would see a missing bound.
func TestWebhookMemoryBoundEightMaximalPosts(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement")
	}
	const (
		memLimit = 96 << 20
		budget   = memLimit * DecodeBudgetShare // the default under that limit
	)
	body := maximalPayload(DefaultMaxBodyBytes, DefaultMaxAlerts)
	if len(body) != DefaultMaxBodyBytes {
		t.Fatalf("payload is %d bytes", len(body))
	}
	cases := []struct {
		name      string
		opts      []Option
		wantUnder bool
	}{
		{name: "derived budget", wantUnder: true},
		{name: "control: no budget", opts: []Option{DecodeBudget(1 << 50)}, wantUnder: false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			withMemoryLimit(t, memLimit)
			b := &fakeIngest{accept: func(msg *alert.Message, _ string) (*Accepted, error) {
				// Accepting takes a while and keeps the decoded message, as
				// building records and committing them does.
				time.Sleep(40 * time.Millisecond)
				if len(msg.Alerts) != DefaultMaxAlerts {
					return nil, fmt.Errorf("%w: %d alerts", ErrUnavailable, len(msg.Alerts))
				}
				return &Accepted{GroupKey: msg.GroupKey}, nil
			}}
			opts := append([]Option{DecodeWait(time.Minute)}, c.opts...)
			srv := httptest.NewServer(New(b, zap.NewNop(), 0, newTestMetrics(), opts...))
			defer srv.Close()

			runtime.GC()
			_, base := heapNow()
			sampler := sampleHeap()
			var wg sync.WaitGroup
			answers := make([]answer, 8)
			for i := range answers {
				wg.Go(func() {
					resp, err := http.Post(srv.URL+"/webhook", "application/json", bytes.NewReader(body))
					if err != nil {
						t.Error(err)
						return
					}
					defer resp.Body.Close()
					rb, _ := io.ReadAll(resp.Body)
					answers[i] = decodeAnswer(t, resp.StatusCode, resp.Header, rb)
				})
			}
			wg.Wait()
			peak, live := sampler.Stop()
			for i, a := range answers {
				if a.code != http.StatusOK {
					t.Errorf("post %d: answer %d %q, want 200", i, a.code, a.err)
				}
			}
			grew := live - min(base, live)
			t.Logf("live heap: %.1f MiB before, peak %.1f MiB (grew %.1f MiB); heap peak %.1f MiB; budget %.0f MiB of a %d MiB limit",
				mib(base), mib(live), mib(grew), mib(peak), mib(budget), memLimit>>20)
			if under := grew < budget; under != c.wantUnder {
				t.Errorf("live heap grew by %.1f MiB; under the %.0f MiB decode budget: %v, want %v", mib(grew), mib(budget), under, c.wantUnder)
			}
			if c.wantUnder && peak >= memLimit {
				t.Errorf("heap peaked at %.1f MiB, over the %d MiB limit", mib(peak), memLimit>>20)
			}
		})
	}
}

// TestWebhook90000AlertsStaysInBudget: a single post of 90,000 alerts is
// refused 413 with the limit named, and costs about its body: the alerts
// are counted, never decoded.
func TestWebhook90000AlertsStaysInBudget(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("memory measurement")
	}
	cases := []struct {
		name    string
		maxBody int64
		body    []byte
	}{
		{name: "minimal alerts in the default 4 MiB", body: minimalPayload(90000)},
		{name: "alerts of 500 bytes in a 64 MiB body", maxBody: 64 << 20, body: payload("g", 90000, 250)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := New(&fakeIngest{}, zap.NewNop(), c.maxBody, newTestMetrics())
			runtime.GC()
			base, _ := heapNow()
			sampler := sampleHeap()
			got := post(t, h, "/webhook", c.body, false)
			peak, _ := sampler.Stop()
			peak = max(peak, base)
			if got.code != http.StatusRequestEntityTooLarge || !strings.Contains(got.err, "over the limit of 10000") {
				t.Errorf("answer %d %q, want 413 naming the limit", got.code, got.err)
			}
			// The body buffer, and little else.
			bound := uint64(len(c.body))*5/4 + 2<<20
			t.Logf("body %.1f MiB; heap grew by %.1f MiB at most (bound %.1f MiB)", mib(uint64(len(c.body))), mib(peak-base), mib(bound))
			if peak-base > bound {
				t.Errorf("heap grew by %.1f MiB decoding a %.1f MiB body, over %.1f MiB", mib(peak-base), mib(uint64(len(c.body))), mib(bound))
			}
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// TestBrokenReadsDoNotFloodTheLog: bodies that break while being read
// (clients that drop the connection, or a flood of them) answer 503 each
// and are counted, but log at most one line a second.
func TestBrokenReadsDoNotFloodTheLog(t *testing.T) {
	core, logs := observer.New(zapcore.DebugLevel)
	b := &fakeIngest{accept: func(*alert.Message, string) (*Accepted, error) {
		t.Error("a broken body reached Accept")
		return nil, ErrUnavailable
	}}
	h := New(b, zap.New(core), 0, newTestMetrics())
	logs.TakeAll() // the limits logged by New
	for range 200 {
		req := httptest.NewRequest(http.MethodPost, "/webhook", iotest.ErrReader(io.ErrUnexpectedEOF))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Fatalf("answer %d, want 503", rec.Code)
		}
	}
	if n := len(logs.FilterMessageSnippet("reading webhook body").All()); n < 1 || n > 3 {
		t.Errorf("%d log lines for 200 broken reads, want one per second", n)
	}
}
