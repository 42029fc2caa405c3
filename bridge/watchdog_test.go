package bridge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
	"github.com/alertbridge/alertbridge/bridge/watchdog"
)

// fakeClock is a settable clock for an App. It starts two hours before
// the real time and only moves when told: the queue schedules a new job at
// its acceptance time and measures its age on the real clock, so the fake
// time must stay in the recent past for deliveries to go out at once.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)}
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// heartbeatPayload is kube-prometheus's Watchdog alert as Alertmanager
// sends it.
func heartbeatPayload(at time.Time) []byte {
	return fmt.Appendf(nil, `{"version":"4","groupKey":"{}/{alertname=\"Watchdog\"}:{}","status":"firing","receiver":"alertbridge",
	"groupLabels":{},"commonLabels":{"alertname":"Watchdog","severity":"none"},"commonAnnotations":{},"externalURL":"http://am",
	"alerts":[{"status":"firing","labels":{"alertname":"Watchdog","severity":"none"},"annotations":{"summary":"An alert that should always be firing"},
	"startsAt":%q,"endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"1a2b3c4d5e6f7081"}]}`, at.Add(-time.Hour).Format(time.RFC3339))
}

// watchdogBridgeConfig: "ops" takes every alert but the heartbeat, with
// the webhook preset; "chat" has a template of its own; both are told.
func watchdogBridgeConfig(sink string) string {
	return webhookConfig(`
  - name: ops
    type: webhook
    url: `+sink+`/ops
    match: ['alertname!="Watchdog"']
  - name: chat
    type: webhook
    url: `+sink+`/chat
    match: ['team="none"']
    template: '{"text": "{{ .Status }}: {{ .CommonAnnotations.summary }}", "since": "{{ .CommonAnnotations.since }}"}'
`) + `watchdog:
  timeout: 10m
  repeat_interval: 1h
  targets: [ops, chat]
`
}

// noticesAt returns what each watchdog request to path said: the record
// status for "ops" (0 firing, 2 resolved), the text for "chat".
func noticesAt(t *testing.T, got []notifytest.Received, path string) []string {
	t.Helper()
	var out []string
	for _, r := range got {
		if r.Path != path {
			continue
		}
		switch path {
		case "/ops":
			var recs []alert.Record
			if err := json.Unmarshal(r.Body, &recs); err != nil || len(recs) != 1 {
				t.Fatalf("ops body: %v\n%s", err, r.Body)
			}
			if recs[0].Tags["alertname"] != watchdog.AlertName || recs[0].Priority != alert.PriorityHigh {
				t.Errorf("ops record %+v", recs[0])
			}
			out = append(out, fmt.Sprint(recs[0].Status))
		default:
			var m struct{ Text, Since string }
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatalf("chat body: %v\n%s", err, r.Body)
			}
			out = append(out, m.Text)
		}
	}
	return out
}

func waitReceived(t *testing.T, sink *webhookfake.Webhook, n int) []notifytest.Received {
	t.Helper()
	got := sink.WaitFor(n, 10*time.Second)
	if len(got) < n {
		t.Fatalf("the fake received %d requests, want %d (violations %v)", len(got), n, sink.Violations())
	}
	return got
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

func metricsText(t *testing.T, b *testBridge) string {
	t.Helper()
	resp, err := http.Get(b.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return string(body)
}

// TestWatchdogEndToEnd: the heartbeat arrives through the webhook endpoint
// (and is delivered nowhere: no target selects it); when it stops, the
// silence notice goes through the durable queue to both targets, rendered
// with each one's template, once; after a restart on the same store it is
// not sent again until the repeat interval; the recovery follows the
// heartbeat's return. The watchdog's clock is the App's fake clock, and
// its checks are called directly (its own loop runs only right after a
// heartbeat or a start), so nothing depends on timing but the deliveries.
func TestWatchdogEndToEnd(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	clock := newFakeClock()
	t0 := clock.Now()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(cfgFile, []byte(watchdogBridgeConfig(sink.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	opts := Options{ConfigFile: cfgFile, StoragePath: filepath.Join(dir, "data"), Now: clock.Now, WatchdogInterval: time.Hour, Logger: zaptest.NewLogger(t)}
	start := func() *testBridge {
		t.Helper()
		app, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		return serveTestApp(t, app)
	}
	b := start()

	code, ans := b.post(t, "/webhook", heartbeatPayload(t0))
	if code != http.StatusOK || len(ans["targets"].([]any)) != 0 {
		t.Fatalf("heartbeat: %d %v", code, ans)
	}
	var st struct{ Data watchdog.Status }
	getJSON(t, b.url+"/api/v1/watchdog", &st)
	if !st.Data.Enabled || st.Data.Silent || st.Data.LastSeen != t0.Format(time.RFC3339Nano) {
		t.Fatalf("status after the heartbeat: %+v", st.Data)
	}

	clock.advance(9 * time.Minute)
	checkNotices(t, b.app, "before the timeout", 0)
	clock.advance(time.Minute)
	checkNotices(t, b.app, "at the timeout", 1)
	got := waitReceived(t, sink, 2)
	if ops := noticesAt(t, got, "/ops"); len(ops) != 1 || ops[0] != "0" {
		t.Fatalf("ops got %v", ops)
	}
	chat := noticesAt(t, got, "/chat")
	if len(chat) != 1 || !strings.HasPrefix(chat[0], "firing: Alert pipeline silent since ") || !strings.Contains(chat[0], "no heartbeat alert for over 10m") {
		t.Fatalf("chat got %v", chat)
	}
	if m := metricsText(t, b); !strings.Contains(m, "alertbridge_watchdog_silent 1") ||
		!strings.Contains(m, fmt.Sprintf("alertbridge_watchdog_last_seen_timestamp_seconds %g", float64(t0.Unix()))) {
		t.Errorf("metrics while silent:\n%s", grepLines(m, "alertbridge_watchdog"))
	}
	clock.advance(20 * time.Minute)
	checkNotices(t, b.app, "again before the repeat interval", 1)

	// Restart in the middle of the silence, on the same store.
	b.stop()
	b = start()
	checkNotices(t, b.app, "after the restart (already reported)", 1)
	getJSON(t, b.url+"/api/v1/watchdog", &st)
	if !st.Data.Silent || !st.Data.Notified || st.Data.Notices != 1 || st.Data.SilentSince != t0.Format(time.RFC3339Nano) {
		t.Fatalf("status after the restart: %+v", st.Data)
	}
	clock.advance(40 * time.Minute) // an hour after the first notice
	checkNotices(t, b.app, "at the repeat interval", 2)
	got = waitReceived(t, sink, 4)
	if ops := noticesAt(t, got, "/ops"); len(ops) != 2 || ops[1] != "0" {
		t.Fatalf("ops got %v", ops)
	}

	// The heartbeat returns: the watchdog's loop checks right after it.
	clock.advance(5 * time.Minute)
	if code, _ := b.post(t, "/webhook", heartbeatPayload(clock.Now())); code != http.StatusOK {
		t.Fatalf("heartbeat: %d", code)
	}
	got = waitReceived(t, sink, 6)
	if ops := noticesAt(t, got, "/ops"); len(ops) != 3 || ops[2] != "2" {
		t.Fatalf("ops got %v", ops)
	}
	if chat := noticesAt(t, got, "/chat"); !strings.HasPrefix(chat[2], "resolved: Alert pipeline recovered") {
		t.Fatalf("chat got %v", chat)
	}
	getJSON(t, b.url+"/api/v1/watchdog", &st)
	if st.Data.Silent || st.Data.Notified {
		t.Fatalf("status after the recovery: %+v", st.Data)
	}
	if m := metricsText(t, b); !strings.Contains(m, "alertbridge_watchdog_silent 0") {
		t.Errorf("metrics after the recovery:\n%s", grepLines(m, "alertbridge_watchdog"))
	}
	if n := len(sink.Received()); n != 6 {
		t.Errorf("the fake received %d requests, want 6: silence, reminder and recovery, to two targets each", n)
	}
	if v := sink.Violations(); len(v) > 0 {
		t.Errorf("violations: %v", v)
	}
}

// checkNotices runs a watchdog check (the watchdog's own loop may have
// run it first, after a heartbeat or a start) and asserts how many notices
// the current silence took: 0 means no silence reported.
func checkNotices(t *testing.T, app *App, when string, want int) {
	t.Helper()
	app.watchdog.Check()
	st := app.watchdog.State()
	if st.Notices != want || st.Silent != (want > 0) {
		t.Fatalf("%s: silent %v after %d notices, want %d", when, st.Silent, st.Notices, want)
	}
}

func grepLines(s, substr string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, substr) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestWatchdogFollowsReload: a reload that changes the timeout and the
// targets keeps the last heartbeat, so the new timeout counts from it and
// the notice goes to the new targets only; a reload with a bad watchdog
// section fails and keeps the watchdog in force.
func TestWatchdogFollowsReload(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	clock := newFakeClock()
	app := newTestApp(t, watchdogBridgeConfig(sink.URL), Options{Now: clock.Now, WatchdogInterval: time.Hour})
	b := serveTestApp(t, app)
	if code, _ := b.post(t, "/webhook", heartbeatPayload(clock.Now())); code != http.StatusOK {
		t.Fatalf("heartbeat: %d", code)
	}
	seen := app.watchdog.State().LastSeen
	clock.advance(5 * time.Minute)
	write := func(cfg string) error {
		t.Helper()
		if err := os.WriteFile(app.opts.ConfigFile, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		return app.Reload()
	}
	bad := strings.Replace(watchdogBridgeConfig(sink.URL), "targets: [ops, chat]", "targets: [ops, gone]", 1)
	if err := write(bad); err == nil || !strings.Contains(err.Error(), `watchdog.targets[1]: unknown target "gone"`) {
		t.Fatalf("bad reload: %v", err)
	}
	if cfg := app.watchdog.Config(); cfg == nil || len(cfg.Targets) != 2 {
		t.Fatalf("after a failed reload: %+v", cfg)
	}
	good := strings.Replace(watchdogBridgeConfig(sink.URL), "timeout: 10m", "timeout: 3m", 1)
	if err := write(strings.Replace(good, "targets: [ops, chat]", "targets: [chat]", 1)); err != nil {
		t.Fatal(err)
	}
	if st := app.watchdog.State(); !st.LastSeen.Equal(seen) {
		t.Fatalf("the reload lost the heartbeat: %+v", st)
	}
	// The reload itself triggers a check; this one finds it done, or
	// does it.
	app.watchdog.Check()
	if st := app.watchdog.State(); !st.Silent {
		t.Fatalf("after the reload: %+v, want silent (5m since the heartbeat, timeout 3m)", st)
	}
	got := waitReceived(t, sink, 1)
	if len(got) != 1 || got[0].Path != "/chat" {
		t.Fatalf("got %d requests, the first to %s; want one to /chat", len(got), got[0].Path)
	}
	// Without a watchdog section, it stops and its metrics go.
	if err := write(webhookConfig("  - name: ops\n    type: webhook\n    url: " + sink.URL + "/ops\n")); err != nil {
		t.Fatal(err)
	}
	clock.advance(2 * time.Hour)
	if k := app.watchdog.Check(); k != "" {
		t.Fatalf("switched off: %q", k)
	}
	if m := metricsText(t, b); strings.Contains(m, "alertbridge_watchdog_") {
		t.Errorf("metrics while off:\n%s", grepLines(m, "alertbridge_watchdog"))
	}
	var st struct{ Data watchdog.Status }
	getJSON(t, b.url+"/api/v1/watchdog", &st)
	if st.Data.Enabled || !st.Data.Notified {
		t.Errorf("status while off: %+v", st.Data)
	}
}

// TestWatchdogBadConfig: check-config and the start report every mistake
// of the watchdog section with its key path.
func TestWatchdogBadConfig(t *testing.T) {
	cfg := webhookConfig("  - name: ops\n    type: webhook\n    url: http://127.0.0.1:1/ops\n") + `watchdog:
  match: ['alertname="Watchdog"', 'bad matcher']
  timeout: -5m
  repeat_interval: 0s
  targets: [ops, nosuch]
`
	file := filepath.Join(t.TempDir(), "alertbridge.yml")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	want := []string{"watchdog.match[1]: ", "watchdog.timeout: ", "watchdog.repeat_interval: must be positive", `watchdog.targets[1]: unknown target "nosuch"`}
	errs := CheckConfig(file)
	all := fmt.Sprint(errs)
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("check-config: %q missing from %v", w, errs)
		}
	}
	if _, err := New(Options{ConfigFile: file, StoragePath: filepath.Join(t.TempDir(), "data")}); err == nil || !strings.Contains(err.Error(), "watchdog.targets[1]") {
		t.Errorf("New: %v", err)
	}
}

// TestWatchdogEndpointIsRead: GET /api/v1/watchdog takes the api
// credential, not Alertmanager's, and its answer names no URL; it is
// served under the route prefix. The console's status page shows it.
func TestWatchdogEndpointIsRead(t *testing.T) {
	cfg := `
inbound: {bearer_token: am-token}
api: {bearer_token: api-token}
targets: [{name: a, type: webhook, url: 'http://127.0.0.1:1/secret-path'}]
watchdog: {timeout: 10m, targets: [a]}
`
	b := serveTestApp(t, newTestApp(t, cfg, Options{RoutePrefix: "/ab"}))
	for _, c := range []struct {
		path, auth string
		want       int
	}{
		{"/ab/api/v1/watchdog", "", 401},
		{"/ab/api/v1/watchdog", "Bearer am-token", 401},
		{"/ab/api/v1/watchdog", "Bearer api-token", 200},
	} {
		code, body := b.request(t, "GET", c.path, c.auth, nil)
		if code != c.want {
			t.Errorf("GET %s with %q: %d, want %d", c.path, c.auth, code, c.want)
		}
		if code == 200 && (strings.Contains(body, "secret-path") || !strings.Contains(body, `"enabled":true`)) {
			t.Errorf("answer %s", body)
		}
	}
	if code, page := b.request(t, "GET", "/ab/status", "Bearer api-token", nil); code != 200 ||
		!strings.Contains(page, "<th scope=\"row\">Watchdog</th>") || !strings.Contains(page, "no heartbeat seen yet") {
		t.Errorf("status page %d:\n%s", code, grepLines(page, "atchdog"))
	}
}
