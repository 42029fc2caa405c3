package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// testBridge is an App serving on 127.0.0.1 for one test.
type testBridge struct {
	app  *App
	url  string
	stop func()
}

// startBridge serves cfgYAML with the admin and lifecycle endpoints
// enabled.
func startBridge(t *testing.T, cfgYAML, storage string) *testBridge {
	t.Helper()
	return serveTestApp(t, newTestApp(t, cfgYAML, Options{StoragePath: storage, EnableAdminAPI: true, EnableLifecycle: true}))
}

// newTestApp writes cfgYAML to a temporary configuration file and builds
// an App from it. What opts leaves zero is filled in: the configuration
// file, a storage folder next to it and a test logger. The caller serves
// or closes the App.
func newTestApp(t *testing.T, cfgYAML string, opts Options) *App {
	t.Helper()
	dir := t.TempDir()
	opts.ConfigFile = filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(opts.ConfigFile, []byte(cfgYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	if opts.StoragePath == "" {
		opts.StoragePath = filepath.Join(dir, "data")
	}
	if opts.Logger == nil {
		opts.Logger = zaptest.NewLogger(t)
	}
	app, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return app
}

// serveTestApp serves app on 127.0.0.1 until the test ends (or its stop
// is called).
func serveTestApp(t *testing.T, app *App) *testBridge {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, l, 5*time.Second) }()
	tb := &testBridge{app: app, url: "http://" + l.Addr().String()}
	var stopped bool
	tb.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
	t.Cleanup(tb.stop)
	return tb
}

func (b *testBridge) post(t *testing.T, path string, body []byte) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(b.url+path, "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: answer is not JSON: %v", path, err)
	}
	return resp.StatusCode, out
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func webhookConfig(targets ...string) string {
	return "global:\n  retry: {attempts: 3, interval: 10ms, max_interval: 50ms}\ntargets:\n" + strings.Join(targets, "")
}

func TestWebhookDeliversRecords(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: all
    type: webhook
    url: `+sink.URL+`/all
`), "")
	code, ans := b.post(t, "/webhook", readFile(t, "../examples/payload-firing.json"))
	if code != http.StatusOK {
		t.Fatalf("status %d, answer %v", code, ans)
	}
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("sink received %d requests, want 1 (violations %v)", len(got), sink.Violations())
	}
	var records []alert.Record
	if err := json.Unmarshal(got[0].Body, &records); err != nil {
		t.Fatalf("body is not a record array: %v\n%s", err, got[0].Body)
	}
	if len(records) != 2 {
		t.Fatalf("got %d records, want 2", len(records))
	}
	r := records[0]
	if r.Target != "node/HighCPU" || r.Priority != alert.PriorityHigh || r.Status != alert.StatusFiring || r.Times != 1 {
		t.Errorf("record = %+v", r)
	}
	if !strings.Contains(r.Tags["instance"], "web-1") || r.Content != "CPU on web-1 above 95% for 10m" {
		t.Errorf("record tags/content = %v / %q", r.Tags, r.Content)
	}
	if got[0].Header.Get("User-Agent") == "" || !strings.HasPrefix(got[0].Header.Get("User-Agent"), "alertbridge/") {
		t.Errorf("User-Agent = %q", got[0].Header.Get("User-Agent"))
	}
}

func TestTimesCountsNotificationsAcrossRestarts(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	storage := t.TempDir()
	cfg := webhookConfig(`
  - name: all
    type: webhook
    url: ` + sink.URL + `
`)
	// Three distinct notifications (another receiver each time) carrying
	// the same alerts; identical ones would be deduplicated.
	base := readFile(t, "../examples/payload-firing.json")
	payloadFor := func(receiver string) []byte {
		return bytes.Replace(base, []byte(`"receiver": "alertbridge"`), []byte(`"receiver": "`+receiver+`"`), 1)
	}
	first := startBridge(t, cfg, storage)
	for i := 0; i < 2; i++ {
		if code, ans := first.post(t, "/webhook", payloadFor(fmt.Sprint("r", i))); code != http.StatusOK {
			t.Fatalf("status %d: %v", code, ans)
		}
	}
	sink.WaitFor(2, 10*time.Second)
	first.stop()

	second := startBridge(t, cfg, storage)
	if code, ans := second.post(t, "/webhook", payloadFor("r2")); code != http.StatusOK {
		t.Fatalf("status %d: %v", code, ans)
	}
	got := sink.WaitFor(3, 10*time.Second)
	if len(got) != 3 {
		t.Fatalf("received %d, want 3", len(got))
	}
	var records []alert.Record
	if err := json.Unmarshal(got[2].Body, &records); err != nil {
		t.Fatal(err)
	}
	if records[0].Times != 3 {
		t.Errorf("times after restart = %d, want 3", records[0].Times)
	}
	var firstRecords []alert.Record
	_ = json.Unmarshal(got[0].Body, &firstRecords)
	if records[0].ID != firstRecords[0].ID || records[0].GmtCreate != firstRecords[0].GmtCreate {
		t.Errorf("id/gmtCreate changed across notifications: %d/%s vs %d/%s",
			records[0].ID, records[0].GmtCreate, firstRecords[0].ID, firstRecords[0].GmtCreate)
	}
}

func TestBadInputIsRejectedAndServingContinues(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: all
    type: webhook
    url: `+sink.URL+`
`), "")
	good := readFile(t, "../examples/payload-firing.json")
	var m map[string]any
	if err := json.Unmarshal(good, &m); err != nil {
		t.Fatal(err)
	}
	with := func(k string, v any) []byte {
		c := map[string]any{}
		for kk, vv := range m {
			c[kk] = vv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		out, _ := json.Marshal(c)
		return out
	}
	huge := append([]byte(`{"version":"4","groupKey":"x","pad":"`), bytes.Repeat([]byte("a"), 8<<20)...)
	huge = append(huge, []byte(`"}`)...)
	cases := []struct {
		name, path string
		body       []byte
		code       int
		msg        string
	}{
		{"garbage", "/webhook", []byte("this is not json"), 400, "malformed JSON"},
		{"empty", "/webhook", nil, 400, "empty body"},
		{"version 3", "/webhook", with("version", "3"), 400, `unsupported version "3"`},
		{"no version", "/webhook", with("version", nil), 400, "missing version"},
		{"no groupKey", "/webhook", with("groupKey", nil), 400, "missing groupKey"},
		{"no alerts", "/webhook", with("alerts", []any{}), 400, "no alerts"},
		{"wrong type", "/webhook", with("alerts", "nope"), 400, "malformed payload"},
		{"bad alert status", "/webhook", []byte(`{"version":"4","groupKey":"k","alerts":[{"status":"burning","labels":{"a":"b"}}]}`), 400, "must be firing or resolved"},
		{"8 MiB", "/webhook", huge, 413, "exceeds the limit of 4 MiB"},
		{"8 MiB of garbage", "/webhook", bytes.Repeat([]byte("a"), 8<<20), 413, "exceeds the limit of 4 MiB"},
		{"unknown target", "/webhook/nope", good, 404, `unknown target "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, ans := b.post(t, tc.path, tc.body)
			if code != tc.code {
				t.Errorf("status %d, want %d (%v)", code, tc.code, ans)
			}
			if msg, _ := ans["error"].(string); !strings.Contains(msg, tc.msg) {
				t.Errorf("error %q does not mention %q", msg, tc.msg)
			}
		})
	}
	if code, ans := b.post(t, "/webhook/all", good); code != http.StatusOK {
		t.Fatalf("after bad input: status %d: %v", code, ans)
	}
	if got := sink.WaitFor(1, 10*time.Second); len(got) != 1 {
		t.Fatalf("received %d after bad input, want 1", len(got))
	}
}

func TestRoutingByMatchersAndPath(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: critical
    type: webhook
    url: `+sink.URL+`/critical
    match: ['severity="critical"']
  - name: warning
    type: webhook
    url: `+sink.URL+`/warning
    match: ['severity=~"warning|info"']
  - name: firing-only
    type: webhook
    url: `+sink.URL+`/firing-only
    send_resolved: false
  - name: off
    type: webhook
    enabled: false
    url: `+sink.URL+`/off
`), "")
	code, ans := b.post(t, "/webhook", readFile(t, "../examples/payload-firing.json"))
	if code != 200 {
		t.Fatalf("status %d: %v", code, ans)
	}
	if got := strings.Join(toStrings(ans["targets"]), ","); got != "critical,firing-only" {
		t.Errorf("firing routed to %q, want critical,firing-only", got)
	}
	_, ans = b.post(t, "/webhook", readFile(t, "../examples/payload-resolved.json"))
	if got := strings.Join(toStrings(ans["targets"]), ","); got != "critical" {
		t.Errorf("resolved routed to %q, want critical (send_resolved false skips it)", got)
	}
	_, ans = b.post(t, "/webhook/warning", readFile(t, "../examples/payload-firing.json"))
	if got := strings.Join(toStrings(ans["targets"]), ","); got != "warning" {
		t.Errorf("path target routed to %q, want warning", got)
	}
	_, ans = b.post(t, "/webhook/off", readFile(t, "../examples/payload-firing.json"))
	if got := toStrings(ans["targets"]); len(got) != 0 {
		t.Errorf("disabled target got %v", got)
	}
	got := sink.WaitFor(4, 10*time.Second)
	paths := map[string]int{}
	for _, r := range got {
		paths[r.Path]++
	}
	want := map[string]int{"/critical": 2, "/firing-only": 1, "/warning": 1}
	for p, n := range want {
		if paths[p] != n {
			t.Errorf("%s received %d, want %d (all: %v)", p, paths[p], n, paths)
		}
	}
}

func TestRetriesUntilDelivered(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 503}, notifytest.Reply{Status: 500}, notifytest.Reply{Status: 200, Body: "ok"})
	b := startBridge(t, webhookConfig(`
  - name: flaky
    type: webhook
    url: `+sink.URL+`
`), "")
	if code, ans := b.post(t, "/webhook", readFile(t, "../examples/payload-firing.json")); code != 200 {
		t.Fatalf("status %d: %v", code, ans)
	}
	if got := sink.WaitFor(1, 10*time.Second); len(got) != 1 {
		t.Fatalf("not delivered after retries")
	}
}

func TestReloadSwapsConfigAndKeepsOldOnError(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: a
    type: webhook
    url: `+sink.URL+`/a
`), "")
	cfgFile := b.app.opts.ConfigFile
	if err := os.WriteFile(cfgFile, []byte("targets: [{name: b, type: webhook, url: "+sink.URL+"/b, bogus: 1}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(b.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("bad reload: status %d, want 500", resp.StatusCode)
	}
	if code, _ := b.post(t, "/webhook/a", readFile(t, "../examples/payload-firing.json")); code != 200 {
		t.Errorf("old config not kept: /webhook/a gave %d", code)
	}
	if err := os.WriteFile(cfgFile, []byte("targets: [{name: b, type: webhook, url: '"+sink.URL+"/b'}]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.app.Reload(); err != nil {
		t.Fatalf("good reload: %v", err)
	}
	if code, _ := b.post(t, "/webhook/a", readFile(t, "../examples/payload-firing.json")); code != 404 {
		t.Errorf("after reload /webhook/a gave %d, want 404", code)
	}
	if code, _ := b.post(t, "/webhook/b", readFile(t, "../examples/payload-firing.json")); code != 200 {
		t.Errorf("after reload /webhook/b gave %d, want 200", code)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	b := startBridge(t, webhookConfig("  - {name: a, type: webhook, url: 'http://127.0.0.1:1/'}\n"), "")
	for _, p := range []string{"/-/healthy", "/-/ready"} {
		resp, err := http.Get(b.url + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	b.app.stopping.Store(true)
	resp, err := http.Get(b.url + "/-/ready")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("ready while stopping: %d, want 503", resp.StatusCode)
	}
	if code, _ := b.post(t, "/webhook", readFile(t, "../examples/payload-firing.json")); code != http.StatusServiceUnavailable {
		t.Errorf("webhook while stopping: %d, want 503", code)
	}
	b.app.stopping.Store(false)
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// eventually polls cond every 10 ms until it holds or timeout passes and
// reports whether it held. Tests use it to wait for asynchronous
// deliveries, then assert on the state they find.
func eventually(timeout time.Duration, cond func() bool) bool {
	for end := time.Now().Add(timeout); ; time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
		if time.Now().After(end) {
			return false
		}
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestChunkedBodyOverLimit: without a Content-Length the limit is enforced
// while reading.
func TestChunkedBodyOverLimit(t *testing.T) {
	b := startBridge(t, webhookConfig("  - {name: a, type: webhook, url: 'http://127.0.0.1:1/'}\n"), "")
	body := io.MultiReader(strings.NewReader(`{"version":"4","groupKey":"x","pad":"`), strings.NewReader(strings.Repeat("a", 5<<20)))
	resp, err := http.Post(b.url+"/webhook", "application/json", struct{ io.Reader }{body})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("chunked 5 MiB body: status %d, want 413", resp.StatusCode)
	}
}

func TestTargetsAPIAndSendTest(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: ops
    type: webhook
    description: on-call room
    url: `+sink.URL+`/hook/SECRETTOKEN
    secret: SIGNINGSECRET
    rate_limit: {requests: 20, interval: 1m}
  - name: off
    type: webhook
    enabled: false
    url: `+sink.URL+`/off
`), "")
	resp, err := http.Post(b.url+"/api/v1/targets/ops/test", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("send test: %d", resp.StatusCode)
	}
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 || !bytes.Contains(got[0].Body, []byte("SampleAlert")) {
		t.Fatalf("test notification not delivered: %d", len(got))
	}
	for path, want := range map[string]int{"/api/v1/targets/nope/test": 404, "/api/v1/targets/off/test": 503} {
		resp, err := http.Post(b.url+path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("POST %s: %d, want %d", path, resp.StatusCode, want)
		}
	}

	var list struct {
		Data []map[string]any `json:"data"`
	}
	var raw []byte
	eventually(5*time.Second, func() bool {
		resp, err = http.Get(b.url + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err := json.Unmarshal(raw, &list); err != nil {
			t.Fatal(err)
		}
		// lastSuccess is set when the answer arrives; the job leaves the queue when its outcome is committed just after.
		return list.Data[0]["lastSuccess"] != nil && list.Data[0]["queueDepth"] == float64(0)
	})
	if bytes.Contains(raw, []byte("SECRETTOKEN")) || bytes.Contains(raw, []byte("SIGNINGSECRET")) || bytes.Contains(raw, []byte(sink.URL)) {
		t.Errorf("targets API leaks a URL or secret: %s", raw)
	}
	ops := list.Data[0]
	if ops["name"] != "ops" || ops["type"] != "webhook" || ops["dialect"] != "alertmanager" || ops["enabled"] != true || ops["rateLimit"] != "20/1m" || ops["update"] != "new" ||
		ops["description"] != "on-call room" || ops["lastSuccess"] == nil || ops["queueDepth"] != float64(0) {
		t.Errorf("ops status = %v", ops)
	}
	if list.Data[1]["enabled"] != false {
		t.Errorf("off status = %v", list.Data[1])
	}
}

func TestMetrics(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 500})
	b := startBridge(t, webhookConfig(`
  - name: ops
    type: webhook
    url: `+sink.URL+`/SECRETTOKEN
`), "")
	firing := readFile(t, "../examples/payload-firing.json")
	b.post(t, "/webhook", firing)
	b.post(t, "/webhook", firing)      // duplicate
	b.post(t, "/webhook", []byte("{")) // invalid
	b.post(t, "/webhook/nope", firing) // unknown target
	sink.WaitFor(1, 10*time.Second)
	want := []string{
		`alertbridge_notifications_received_total{result="accepted"} 1`,
		`alertbridge_notifications_received_total{result="duplicate"} 1`,
		`alertbridge_notifications_received_total{result="invalid"} 1`,
		`alertbridge_notifications_received_total{result="unknown_target"} 1`,
		`alertbridge_alerts_received_total{result="accepted"} 2`,
		`alertbridge_deliveries_total{result="delivered",target="ops",type="webhook"} 1`,
		`alertbridge_delivery_attempt_failures_total{reason="serverError",target="ops",type="webhook"} 1`,
		`alertbridge_delivery_attempt_duration_seconds_count{target="ops",type="webhook"} 2`,
		`alertbridge_queue_depth{target="ops"} 0`,
		`alertbridge_queue_oldest_job_age_seconds{target="ops"} 0`,
		`alertbridge_config_last_reload_successful 1`,
		`alertbridge_build_info{`,
		`process_resident_memory_bytes`,
	}
	var text string
	eventually(5*time.Second, func() bool {
		resp, err := http.Get(b.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		text = string(raw)
		return strings.Contains(text, want[5])
	})
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("metrics lack %q", w)
		}
	}
	if strings.Contains(text, "SECRETTOKEN") || strings.Contains(text, sink.URL) {
		t.Error("metrics expose the target URL")
	}
	writeFile(t, b.app.opts.ConfigFile, "targets: [{name: x, type: nope, url: 'http://x'}]")
	_ = b.app.Reload()
	resp, _ := http.Get(b.url + "/metrics")
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(raw), "alertbridge_config_last_reload_successful 0") {
		t.Error("failed reload not recorded")
	}
}

func TestBearerToken(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "token"), "s3cr3t-token\n")
	b := startBridge(t, `
inbound:
  bearer_token_file: `+filepath.Join(dir, "token")+`
targets:
  - {name: a, type: webhook, url: '`+sink.URL+`'}
`, "")
	payload := readFile(t, "../examples/payload-firing.json")
	do := func(method, path, auth string, body []byte) (int, string) {
		req, _ := http.NewRequest(method, b.url+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"POST", "/webhook", "", 401},
		{"POST", "/webhook", "Bearer wrong", 401},
		{"POST", "/webhook", "Basic czNjcjN0LXRva2Vu", 401},
		{"POST", "/webhook/a", "bearer s3cr3t-token", 200}, // the scheme is case-insensitive
		{"GET", "/api/v1/targets", "", 401},
		{"GET", "/api/v1/deliveries", "", 401},
		{"POST", "/-/reload", "", 403},                    // needs an api credential, none is set
		{"POST", "/-/reload", "Bearer s3cr3t-token", 403}, // the inbound token never administers
		{"GET", "/debug/pprof/", "", 403},                 // not enabled
		{"GET", "/-/healthy", "", 200},
		{"GET", "/-/ready", "", 200},
		{"GET", "/metrics", "", 200}, // open until an api credential is set
		{"GET", "/api/v1/targets", "Bearer s3cr3t-token", 200},
		{"POST", "/webhook", "Bearer s3cr3t-token", 200},
	} {
		code, body := do(c.method, c.path, c.auth, payload)
		if code != c.want {
			t.Errorf("%s %s with %q: %d, want %d", c.method, c.path, c.auth, code, c.want)
		}
		if strings.Contains(body, "s3cr3t") {
			t.Errorf("%s %s answer mentions the token: %s", c.method, c.path, body)
		}
	}
	// A rotated token file applies without a reload.
	writeFile(t, filepath.Join(dir, "token"), "rotated-token\n")
	future := time.Now().Add(2 * time.Second)
	_ = os.Chtimes(filepath.Join(dir, "token"), future, future)
	if code, _ := do("GET", "/api/v1/targets", "Bearer rotated-token", nil); code != 200 {
		t.Errorf("rotated token refused: %d", code)
	}
	if code, _ := do("GET", "/api/v1/targets", "Bearer s3cr3t-token", nil); code != 401 {
		t.Errorf("old token still accepted after rotation: %d", code)
	}
	// Two authorized posts: /webhook/a and /webhook (a path target is
	// part of the dedup key, so they are distinct).
	if got := sink.WaitFor(2, 10*time.Second); len(got) != 2 {
		t.Errorf("authorized notifications delivered: %d, want 2", len(got))
	}
}

func TestRenderAPI(t *testing.T) {
	b := startBridge(t, webhookConfig(`
  - name: custom
    type: webhook
    url: https://hooks.example.com/SECRETTOKEN
    headers: {X-Group: '{{ .GroupLabels.alertname }}'}
    template: '{"text": "{{ (index .Alerts 0).Annotations.description }}"}'
`), "")
	post := func(query string, body []byte) (int, map[string]any) {
		resp, err := http.Post(b.url+"/api/v1/render"+query, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if bytes.Contains(raw, []byte("SECRETTOKEN")) {
			t.Errorf("render answer leaks the URL: %s", raw)
		}
		var out map[string]any
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	code, out := post("?target=custom", readFile(t, "../examples/payload-firing.json"))
	if code != 200 {
		t.Fatalf("render: %d %v", code, out)
	}
	req := out["data"].([]any)[0].(map[string]any)
	var body struct{ Text string }
	if err := json.Unmarshal([]byte(req["body"].(string)), &body); err != nil || !strings.Contains(body.Text, "Load is \"high\" on C:\\data\nsecond line {{ not a template }} 告警 🔥") {
		t.Errorf("rendered body %q (%v)", req["body"], err)
	}
	if req["url"] != "https://hooks.example.com/<redacted>" || req["method"] != "POST" {
		t.Errorf("request = %v", req)
	}
	if code, out := post("?target=custom", nil); code != 200 || !strings.Contains(fmt.Sprint(out["data"]), "another") {
		t.Errorf("render sample: %d %v", code, out)
	}
	for q, want := range map[string]int{"": 400, "?target=nope": 404} {
		if code, _ := post(q, nil); code != want {
			t.Errorf("render %q: %d, want %d", q, code, want)
		}
	}
	if code, _ := post("?target=custom", []byte("{bad")); code != 400 {
		t.Errorf("bad payload: %d", code)
	}
}
