package watchdog

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// harness is a Watchdog on a fake clock with an in-memory store and a
// notice recorder.
type harness struct {
	mu      sync.Mutex
	now     time.Time
	stored  *State
	notices []Notice
	fail    error
	w       *Watchdog
}

func (h *harness) clock() time.Time { h.mu.Lock(); defer h.mu.Unlock(); return h.now }
func (h *harness) advance(d time.Duration) {
	h.mu.Lock()
	h.now = h.now.Add(d)
	h.mu.Unlock()
}

func newHarness(t *testing.T, stored *State) *harness {
	t.Helper()
	h := &harness{now: t0, stored: stored}
	w, err := New(Options{
		Now: h.clock,
		Load: func() (State, bool, error) {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.stored == nil {
				return State{}, false, nil
			}
			return *h.stored, true, nil
		},
		Save: func(s State) error { h.mu.Lock(); defer h.mu.Unlock(); h.stored = &s; return nil },
		Notify: func(_ *Config, n Notice) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.fail != nil {
				return h.fail
			}
			h.notices = append(h.notices, n)
			return nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	return h
}

func matchers(t *testing.T, ms ...string) labels.Matchers {
	t.Helper()
	var out labels.Matchers
	for _, s := range ms {
		m, err := parse.Matcher(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func cfg(t *testing.T, timeout time.Duration, ms ...string) *Config {
	if len(ms) == 0 {
		ms = []string{`alertname="Watchdog"`}
	}
	return &Config{Matchers: matchers(t, ms...), Timeout: timeout, Repeat: time.Hour, Targets: []string{"ops"}}
}

func firing(lbls ...string) template.Alerts {
	kv := template.KV{}
	for i := 0; i+1 < len(lbls); i += 2 {
		kv[lbls[i]] = lbls[i+1]
	}
	return template.Alerts{{Status: "firing", Labels: kv}}
}

// TestObserveMatchesOnlyFiringHeartbeats: only a firing alert that every
// matcher selects moves the clock; a resolved Watchdog, another alert, or
// a watchdog that is off do not.
func TestObserveMatchesOnlyFiringHeartbeats(t *testing.T) {
	h := newHarness(t, nil)
	h.w.Observe(firing("alertname", "Watchdog"), t0)
	if !h.w.State().LastSeen.IsZero() {
		t.Fatal("an unconfigured watchdog took a heartbeat")
	}
	h.w.Configure(cfg(t, 10*time.Minute, `alertname="Watchdog"`, `cluster=~"prod.*"`))
	for _, tc := range []struct {
		name   string
		alerts template.Alerts
		beat   bool
	}{
		{"other alert", firing("alertname", "HighCPU", "cluster", "prod"), false},
		{"one matcher fails", firing("alertname", "Watchdog", "cluster", "dev"), false},
		{"resolved", template.Alerts{{Status: "resolved", Labels: template.KV{"alertname": "Watchdog", "cluster": "prod-1"}}}, false},
		{"heartbeat among others", append(firing("alertname", "HighCPU"), firing("alertname", "Watchdog", "cluster", "prod-1")...), true},
	} {
		h.advance(time.Minute)
		before := h.w.State().LastSeen
		h.w.Observe(tc.alerts, h.clock())
		if got := !h.w.State().LastSeen.Equal(before); got != tc.beat {
			t.Errorf("%s: heartbeat = %v, want %v", tc.name, got, tc.beat)
		}
	}
}

// TestCheckSendsOnceStoresAndSurvivesRestart: the silence is sent once,
// the state is stored after each change, a new Watchdog on the stored
// state neither forgets the silence nor sends it again, and sends the
// reminder and the recovery when they are due.
func TestCheckSendsOnceStoresAndSurvivesRestart(t *testing.T) {
	h := newHarness(t, nil)
	c := cfg(t, 10*time.Minute)
	h.w.Configure(c)
	h.w.Observe(firing("alertname", "Watchdog"), t0)
	if k := h.w.Check(); k != "" {
		t.Fatalf("check after heartbeat sent %q", k)
	}
	if h.stored == nil || !h.stored.LastSeen.Equal(t0) {
		t.Fatalf("heartbeat not stored: %+v", h.stored)
	}
	h.advance(10 * time.Minute)
	if k := h.w.Check(); k != KindSilent {
		t.Fatalf("check at the deadline sent %q, want silent", k)
	}
	if k := h.w.Check(); k != "" {
		t.Fatalf("second check sent %q", k)
	}
	if !h.stored.Silent {
		t.Fatalf("silence not stored: %+v", h.stored)
	}

	// Restart: a new Watchdog reads what the first one stored.
	h2 := newHarness(t, h.stored)
	h2.now = h.clock().Add(30 * time.Minute)
	h2.w.Configure(c)
	if k := h2.w.Check(); k != "" {
		t.Fatalf("check after restart sent %q, want nothing (already reported)", k)
	}
	if st := h2.w.Status(); !st.Silent || !st.Notified || st.Notices != 1 {
		t.Fatalf("status after restart %+v", st)
	}
	h2.advance(30 * time.Minute)
	if k := h2.w.Check(); k != KindReminder {
		t.Fatalf("check at the repeat interval sent %q, want reminder", k)
	}
	h2.w.Observe(firing("alertname", "Watchdog"), h2.clock())
	if k := h2.w.Check(); k != KindRecovered {
		t.Fatalf("check after the heartbeat sent %q, want recovered", k)
	}
	if len(h2.notices) != 2 || h2.notices[1].Count != 2 {
		t.Fatalf("notices after restart %+v", h2.notices)
	}
}

// TestNotifyFailureKeepsNoticeDue: a notice the queue refuses is asked for
// again at the next check.
func TestNotifyFailureKeepsNoticeDue(t *testing.T) {
	h := newHarness(t, nil)
	h.w.Configure(cfg(t, time.Minute))
	h.advance(time.Minute)
	h.fail = errors.New("store closed")
	if k := h.w.Check(); k != "" {
		t.Fatalf("failed notify reported %q as sent", k)
	}
	h.fail = nil
	if k := h.w.Check(); k != KindSilent {
		t.Fatalf("retry sent %q, want silent", k)
	}
}

// TestConfigureKeepsState: a reload (a new Config, another timeout) keeps
// the last heartbeat and the reported silence; switching off stops the
// notices and the metrics without forgetting.
func TestConfigureKeepsState(t *testing.T) {
	h := newHarness(t, nil)
	h.w.Configure(cfg(t, 10*time.Minute))
	h.w.Observe(firing("alertname", "Watchdog"), t0)
	h.advance(5 * time.Minute)
	h.w.Configure(cfg(t, 3*time.Minute))
	if k := h.w.Check(); k != KindSilent {
		t.Fatalf("shorter timeout after reload: %q, want silent", k)
	}
	h.w.Configure(nil)
	h.advance(2 * time.Hour)
	if k := h.w.Check(); k != "" {
		t.Fatalf("switched off, sent %q", k)
	}
	if n, err := testutil.GatherAndCount(registry(t, h.w)); err != nil || n != 0 {
		t.Fatalf("switched off: %d metrics (%v), want none", n, err)
	}
	h.w.Configure(cfg(t, 10*time.Minute))
	if st := h.w.State(); !st.Silent || !st.LastSeen.Equal(t0) || !st.Started.Equal(t0) {
		t.Fatalf("state after off and on: %+v", st)
	}
	if k := h.w.Check(); k != KindReminder {
		t.Fatalf("back on: %q, want reminder", k)
	}
}

func registry(t *testing.T, c prometheus.Collector) *prometheus.Registry {
	t.Helper()
	r := prometheus.NewRegistry()
	r.MustRegister(c)
	return r
}

// TestStatusAndMetrics: the endpoint and the metrics show the last
// heartbeat and whether it is overdue.
func TestStatusAndMetrics(t *testing.T) {
	h := newHarness(t, nil)
	h.w.Configure(cfg(t, 10*time.Minute))
	h.w.Observe(firing("alertname", "Watchdog"), t0)
	reg := registry(t, h.w)
	want := `
# HELP alertbridge_watchdog_last_seen_timestamp_seconds When the last watchdog heartbeat was accepted (Unix seconds; 0 when none was seen). Exported while a watchdog is configured.
# TYPE alertbridge_watchdog_last_seen_timestamp_seconds gauge
alertbridge_watchdog_last_seen_timestamp_seconds 1.795428e+09
# HELP alertbridge_watchdog_silent 1 while the watchdog heartbeat is overdue (the alert pipeline is silent), else 0. Exported while a watchdog is configured.
# TYPE alertbridge_watchdog_silent gauge
alertbridge_watchdog_silent 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	h.advance(11 * time.Minute)
	silent := "# HELP alertbridge_watchdog_silent 1 while the watchdog heartbeat is overdue (the alert pipeline is silent), else 0. Exported while a watchdog is configured.\n# TYPE alertbridge_watchdog_silent gauge\nalertbridge_watchdog_silent 1\n"
	if err := testutil.GatherAndCompare(reg, strings.NewReader(silent), "alertbridge_watchdog_silent"); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.w.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/watchdog", nil))
	var ans struct {
		Status string
		Data   Status
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &ans); err != nil {
		t.Fatal(err)
	}
	d := ans.Data
	if ans.Status != "success" || !d.Enabled || !d.Silent || d.Notified || d.LastSeen != "2026-11-23T10:00:00Z" ||
		d.Deadline != "2026-11-23T10:10:00Z" || d.Timeout != "10m" || d.RepeatInterval != "1h" ||
		len(d.Matchers) != 1 || d.Matchers[0] != `alertname="Watchdog"` || len(d.Targets) != 1 {
		t.Fatalf("status %s", rec.Body)
	}
}

// TestMessageIsAValidNotification: every notice is a valid Alertmanager
// payload of the watchdog's own group, one alert whose fingerprint is the
// same for the silence and its recovery, saying since when and which
// matchers.
func TestMessageIsAValidNotification(t *testing.T) {
	c := cfg(t, 10*time.Minute)
	c.SeverityLabel = "level"
	silent := Message(c, Notice{Kind: KindSilent, Since: t0, DeclaredAt: t0.Add(10 * time.Minute), At: t0.Add(10 * time.Minute), LastSeen: t0, Count: 1})
	back := Message(c, Notice{Kind: KindRecovered, Since: t0, DeclaredAt: t0.Add(10 * time.Minute), At: t0.Add(time.Hour), LastSeen: t0.Add(time.Hour), Count: 1})
	for _, m := range []*alert.Message{silent, back} {
		body, err := m.Body()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := alert.Decode(strings.NewReader(string(body))); err != nil {
			t.Fatalf("notice does not decode as a payload: %v\n%s", err, body)
		}
		if m.GroupKey != GroupKey || strings.HasPrefix(m.GroupKey, "{") || len(m.Alerts) != 1 {
			t.Fatalf("group %q with %d alerts", m.GroupKey, len(m.Alerts))
		}
	}
	a, b := silent.Alerts[0], back.Alerts[0]
	if a.Status != "firing" || b.Status != "resolved" || silent.Status != "firing" || back.Status != "resolved" {
		t.Errorf("statuses %s/%s", a.Status, b.Status)
	}
	if a.Fingerprint == "" || a.Fingerprint != b.Fingerprint || !a.StartsAt.Equal(b.StartsAt) || !b.EndsAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("silence %+v and recovery %+v are not one alert", a, b)
	}
	if a.Labels["alertname"] != AlertName || a.Labels["level"] != "critical" {
		t.Errorf("labels %v", a.Labels)
	}
	for k, want := range map[string]string{"since": "2026-11-23T10:00:00Z", "matchers": `{alertname="Watchdog"}`, "timeout": "10m", "last_seen": "2026-11-23T10:00:00Z"} {
		if a.Annotations[k] != want {
			t.Errorf("annotation %s = %q, want %q", k, a.Annotations[k], want)
		}
	}
	if !strings.Contains(a.Annotations["summary"], "silent since 2026-11-23 10:00:00 UTC") || !strings.Contains(b.Annotations["summary"], "recovered") {
		t.Errorf("summaries %q / %q", a.Annotations["summary"], b.Annotations["summary"])
	}
	never := Message(c, Notice{Kind: KindSilent, Since: t0, DeclaredAt: t0, At: t0})
	if never.Alerts[0].Annotations["last_seen"] != "never" || !strings.Contains(never.Alerts[0].Annotations["description"], "none seen since the bridge started") {
		t.Errorf("no heartbeat ever: %v", never.Alerts[0].Annotations)
	}
}

// TestStartAndStop: the loop checks soon after a heartbeat and on its
// ticker, and Stop waits for it and stores the state.
func TestStartAndStop(t *testing.T) {
	h := newHarness(t, nil)
	h.w.Configure(cfg(t, time.Minute))
	h.advance(2 * time.Minute)
	h.w.Start(time.Hour) // only the Configure/Observe kicks trigger checks
	h.w.Observe(firing("alertname", "HighCPU"), h.clock())
	h.w.Configure(cfg(t, time.Minute))
	deadline := time.Now().Add(10 * time.Second)
	for {
		h.mu.Lock()
		n := len(h.notices)
		h.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the loop sent no silence notice")
		}
		time.Sleep(5 * time.Millisecond)
	}
	h.w.Stop()
	h.w.Stop()
	if h.stored == nil || !h.stored.Silent {
		t.Fatalf("stored after stop: %+v", h.stored)
	}
	newHarness(t, nil).w.Stop() // never started
}
