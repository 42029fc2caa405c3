package bridge

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertbridge/alertbridge/bridge/queue"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// faultSink is a chat target for fault tests: it fails a share of posts
// at random (with a status, or HTTP 200 and a platform error body), can be
// down (503 to everything), and counts the groups it accepted.
type faultSink struct {
	URL string

	mu        sync.Mutex
	rnd       *rand.Rand
	failRate  float64
	fail      reply
	ok        reply
	down      bool
	attempts  []time.Time
	delivered map[string]int // group label g -> deliveries
	sample    string
}

type reply struct {
	status int
	body   string
}

func newFaultSink(t *testing.T, ok, fail reply, failRate float64) *faultSink {
	s := &faultSink{rnd: rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano()))), failRate: failRate,
		fail: fail, ok: ok, delivered: map[string]int{}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// groupRE finds a group's label g in a webhook record (tags) or a chat
// message (label list).
var groupRE = regexp.MustCompile(`"g":"(\d+)"|\bg[:=] ?\\?"?(\d+)`)

func (s *faultSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.attempts = append(s.attempts, time.Now())
	down := s.down
	failed := down || s.rnd.Float64() < s.failRate
	if !failed {
		seen := map[string]bool{}
		for _, m := range groupRE.FindAllStringSubmatch(string(body), -1) {
			g := m[1] + m[2]
			if !seen[g] {
				seen[g] = true
				s.delivered[g]++
			}
		}
		if len(seen) == 0 && s.sample == "" {
			s.sample = string(body)
		}
	}
	s.mu.Unlock()
	rep := s.ok
	if failed {
		rep = s.fail
		if down {
			rep = reply{status: http.StatusServiceUnavailable, body: "down"}
		}
	}
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (s *faultSink) setDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// attemptsSince counts the posts received at or after t.
func (s *faultSink) attemptsSince(t time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, a := range s.attempts {
		if !a.Before(t) {
			n++
		}
	}
	return n
}

// groups returns how many distinct groups arrived and which arrived more
// than once.
func (s *faultSink) groups() (distinct int, twice []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for g, n := range s.delivered {
		if n > 1 {
			twice = append(twice, g)
		}
	}
	return len(s.delivered), twice
}

// startLoggedBridge is startBridge with the log also kept for assertions.
func startLoggedBridge(t *testing.T, cfgYAML, storage string) (*testBridge, *observer.ObservedLogs) {
	t.Helper()
	core, logs := observer.New(zapcore.InfoLevel)
	log := zap.New(zapcore.NewTee(zaptest.NewLogger(t).Core(), core))
	return serveTestApp(t, newTestApp(t, cfgYAML, Options{StoragePath: storage, Logger: log, EnableAdminAPI: true, EnableLifecycle: true})), logs
}

// postGroups posts groups [from, to) firing.
func postGroups(t *testing.T, b *testBridge, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if code, ans := b.post(t, "/webhook", groupPayload(i, "firing")); code != http.StatusOK {
			t.Fatalf("group %d: %d %v", i, code, ans)
		}
	}
}

func (b *testBridge) targetStatus(t *testing.T, name string) map[string]any {
	t.Helper()
	targets := b.data(t, "/api/v1/targets")
	for _, st := range targets {
		if st["name"] == name {
			return st
		}
	}
	t.Fatalf("target %s not in %v", name, targets)
	return nil
}

// TestFlakyTargetDeliversEverything: a target failing 30% of posts at
// random is flaky, not down: every group is delivered once, promptly, and
// none becomes a dead letter. Each failure backs off its own job (1-2 s);
// under the lane pause design every failure held the whole target for
// that long, and 200 groups took over a minute.
func TestFlakyTargetDeliversEverything(t *testing.T) {
	const groups = 200
	cases := []struct {
		name, typ, extra string
		ok, fail         reply
	}{
		{"webhook HTTP 500", "webhook", "", reply{200, ""}, reply{500, "internal error"}},
		{"dingtalk system busy", "dingtalk", "\n    path: /robot/send?access_token=x\n    rate_limit: {requests: 100000, interval: 1s}",
			reply{200, `{"errcode":0,"errmsg":"ok"}`}, reply{200, `{"errcode":-1,"errmsg":"system busy"}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sink := newFaultSink(t, c.ok, c.fail, 0.3)
			url := sink.URL
			if c.typ == "dingtalk" {
				url += "/robot/send?access_token=x"
			}
			b := startBridge(t, "targets:\n  - name: flaky\n    type: "+c.typ+"\n    url: "+url+
				"\n    retry: {interval: 1s, max_interval: 2s}"+dropPath(c.extra)+"\n", "")
			postGroups(t, b, 0, groups)
			if !eventually(30*time.Second, func() bool { n, _ := sink.groups(); return n == groups }) {
				n, _ := sink.groups()
				t.Fatalf("%d of %d groups delivered after 30 s (first unrecognised body: %.300s)", n, groups, sink.sample)
			}
			if _, twice := sink.groups(); len(twice) > 0 {
				t.Errorf("groups delivered more than once: %v", twice)
			}
			if dead := b.list(t, "dead"); len(dead) != 0 {
				t.Errorf("%d dead letters, want 0: %v", len(dead), dead[0])
			}
			if st := b.app.queue.Lane("flaky"); st.Breaker != queue.BreakerClosed {
				t.Errorf("lane %+v: random failures opened the breaker", st)
			}
		})
	}
}

// dropPath removes the test-only path note from a case's extra keys.
func dropPath(extra string) string {
	return regexp.MustCompile(`\n    path: [^\n]*`).ReplaceAllString(extra, "")
}

// TestTargetDownThenBack: a target that is down gets about one attempt
// per second once its breaker opens; the breaker shows in the targets API,
// a metric and one log line per transition; when the target is back the
// whole backlog goes at once, although each job's own backoff is long.
func TestTargetDownThenBack(t *testing.T) {
	sink := newFaultSink(t, reply{200, ""}, reply{500, ""}, 0)
	sink.setDown(true)
	b, logs := startLoggedBridge(t, "targets:\n  - name: down\n    type: webhook\n    url: "+sink.URL+
		"\n    retry: {interval: 20s, max_interval: 1m}\n", "")
	const groups = 20
	postGroups(t, b, 0, groups)
	if !eventually(10*time.Second, func() bool { return b.app.queue.Lane("down").Breaker != queue.BreakerClosed }) {
		t.Fatalf("breaker still closed after %d failed attempts", sink.attemptsSince(time.Time{}))
	}
	opened := time.Now()
	st := b.targetStatus(t, "down")
	if st["breaker"] == "closed" || st["queueDepth"] != float64(groups) || st["breakerSince"] == nil {
		t.Errorf("targets API while down: %v", st)
	}
	time.Sleep(3 * time.Second)
	if n := sink.attemptsSince(opened); n > 5 {
		t.Errorf("%d attempts in the 3 s after the breaker opened, want about one per second", n)
	}
	sink.setDown(false)
	back := time.Now()
	if !eventually(5*time.Second, func() bool { n, _ := sink.groups(); return n == groups }) {
		n, _ := sink.groups()
		t.Fatalf("%d of %d groups delivered within 5 s of recovery", n, groups)
	}
	t.Logf("backlog of %d delivered %s after recovery", groups, time.Since(back).Round(time.Millisecond))
	// The last outcomes may still be on their way to disk.
	if !eventually(5*time.Second, func() bool { st = b.targetStatus(t, "down"); return st["queueDepth"] == float64(0) }) || st["breaker"] != "closed" {
		t.Errorf("targets API after recovery: %v", st)
	}
	if n := testutil.ToFloat64(b.app.metrics.BreakerTransitions.WithLabelValues("down", "open")); n < 1 {
		t.Errorf("breaker transitions to open counted %v", n)
	}
	// At info and above: one line when the breaker opens, one when it
	// closes (the probe cycle in between is at debug).
	var states []string
	for _, e := range logs.All() {
		if to, ok := e.ContextMap()["to"].(string); ok && e.ContextMap()["target"] == "down" {
			states = append(states, to)
		}
	}
	if len(states) != 2 || states[0] != "open" || states[1] != "closed" {
		t.Errorf("breaker log lines %v: want open, closed", states)
	}
	if failures := logs.FilterMessage("delivery attempt failed").Len(); failures > sink.attemptsSince(time.Time{}) {
		t.Errorf("%d attempt log lines", failures)
	}
}

// TestRestartDuringOutage: with the default retry, a restart while the
// target is down keeps the jobs (no dead letters), does not fire every
// resumed job at once, and the backlog is delivered when the target is
// back.
func TestRestartDuringOutage(t *testing.T) {
	sink := newFaultSink(t, reply{200, ""}, reply{500, ""}, 0)
	sink.setDown(true)
	storage := t.TempDir()
	cfg := "targets:\n  - name: chat\n    type: webhook\n    url: " + sink.URL + "\n"
	first := startBridge(t, cfg, storage)
	const groups = 20
	postGroups(t, first, 0, groups)
	if !eventually(10*time.Second, func() bool { return first.app.queue.Lane("chat").Breaker != queue.BreakerClosed }) {
		t.Fatal("breaker did not open")
	}
	first.stop()

	restart := time.Now()
	second := startBridge(t, cfg, storage)
	time.Sleep(300 * time.Millisecond)
	if n := sink.attemptsSince(restart); n > 5 {
		t.Errorf("%d attempts in the first 300 ms after the restart, want the resumed jobs spread out", n)
	}
	if dead := second.list(t, "dead"); len(dead) != 0 {
		t.Errorf("dead letters during the outage: %v", dead)
	}
	time.Sleep(2 * time.Second)
	sink.setDown(false)
	if !eventually(10*time.Second, func() bool { n, _ := sink.groups(); return n == groups }) {
		n, _ := sink.groups()
		t.Fatalf("%d of %d groups delivered after the target came back", n, groups)
	}
	if dead := second.list(t, "dead"); len(dead) != 0 {
		t.Errorf("dead letters: %v", dead)
	}
}

// TestRetryingSupersededDeadLetterIsRefused: a dead FIRING retried after
// the group's RESOLVED was delivered would send firing, resolved, firing;
// the API answers 409 instead and nothing is sent.
func TestRetryingSupersededDeadLetterIsRefused(t *testing.T) {
	var mu sync.Mutex
	posts := 0
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		posts++
		first := posts == 1
		mu.Unlock()
		if first {
			w.WriteHeader(http.StatusBadRequest) // the firing state becomes a dead letter
		}
	}))
	defer sink.Close()
	b := startBridge(t, "targets:\n  - name: t\n    type: webhook\n    url: "+sink.URL+"\n", "")
	b.post(t, "/webhook", groupPayload(1, "firing"))
	var dead []map[string]any
	if !eventually(10*time.Second, func() bool { dead = b.list(t, "dead"); return len(dead) == 1 }) {
		t.Fatal("no dead letter")
	}
	b.post(t, "/webhook", groupPayload(1, "resolved"))
	if !eventually(10*time.Second, func() bool { return len(b.list(t, "delivered")) == 1 }) {
		t.Fatal("resolved not delivered")
	}
	id := fmt.Sprint(int64(dead[0]["id"].(float64)))
	resp, err := http.Post(b.url+"/api/v1/deliveries/"+id+"/retry", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var ans map[string]any
	json.NewDecoder(resp.Body).Decode(&ans)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("retry: %d %v, want 409", resp.StatusCode, ans)
	}
	if _, err := b.app.RetryDelivery(uint64(dead[0]["id"].(float64))); err != store.ErrSuperseded {
		t.Errorf("RetryDelivery: %v", err)
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if posts != 2 {
		t.Errorf("%d posts, want 2 (firing refused, resolved): the older state was sent again", posts)
	}
}
