package bridge

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"

	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// request sends one request to the bridge and returns the status and body.
func (b *testBridge) request(t *testing.T, method, path, auth string, body []byte) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, b.url+path, bytes.NewReader(body))
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

// touch gives path a modification time that differs from the last one, so
// the change is seen even on file systems with coarse timestamps.
func touch(t *testing.T, path string, at time.Time) {
	t.Helper()
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

// TestEmptiedTokenFileKeepsTheToken: a token file emptied while the bridge
// runs (a Secret being rewritten) keeps the token in force and logs an
// error; a reload that reads the empty file fails and changes nothing.
func TestEmptiedTokenFileKeepsTheToken(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	writeFile(t, tokenFile, "first-token\n")
	core, logs := observer.New(zapcore.ErrorLevel)
	app := newTestApp(t, `
inbound: {bearer_token_file: `+tokenFile+`}
targets: [{name: a, type: webhook, url: '`+sink.URL+`'}]
`, Options{Logger: zap.New(core), EnableLifecycle: true})
	b := serveTestApp(t, app)
	payload := readFile(t, "../examples/payload-firing.json")
	for i, content := range []string{"", "  \n\t\n"} {
		writeFile(t, tokenFile, content)
		touch(t, tokenFile, time.Now().Add(time.Duration(i+1)*time.Hour))
		if code, body := b.request(t, "POST", "/webhook", "", payload); code != http.StatusUnauthorized {
			t.Errorf("emptied file %q: no token got %d %s, want 401", content, code, body)
		}
		if code, body := b.request(t, "POST", "/webhook/a", "Bearer first-token", payload); code != http.StatusOK {
			t.Errorf("emptied file %q: the token in force got %d %s, want 200", content, code, body)
		}
	}
	if n := logs.FilterMessageSnippet("keeping the previous token").Len(); n == 0 {
		t.Errorf("no error logged for the emptied token file; logs: %v", logs.All())
	}
	if err := app.Reload(); err == nil || !strings.Contains(err.Error(), "inbound.bearer_token: "+tokenFile+" is empty") {
		t.Errorf("reload with an empty token file: %v", err)
	}
	if code, _ := b.request(t, "POST", "/webhook", "Bearer first-token", payload); code != http.StatusOK {
		t.Errorf("after the failed reload the token in force got %d", code)
	}
	// Rotation to a real token still applies without a reload.
	writeFile(t, tokenFile, "second-token\n")
	touch(t, tokenFile, time.Now().Add(5*time.Hour))
	if code, _ := b.request(t, "GET", "/api/v1/targets", "Bearer second-token", nil); code != http.StatusOK {
		t.Errorf("rotated token: %d", code)
	}
	if code, _ := b.request(t, "GET", "/api/v1/targets", "Bearer first-token", nil); code != http.StatusUnauthorized {
		t.Errorf("replaced token still admitted: %d", code)
	}
}

// TestEmptyCredentialRefusedAtStartAndInCheckConfig: a ${VAR} set to ""
// stops the bridge from starting and fails check-config.
func TestEmptyCredentialRefusedAtStartAndInCheckConfig(t *testing.T) {
	t.Setenv("AB_EMPTY_TOKEN", "")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	writeFile(t, cfg, "inbound: {bearer_token: '${AB_EMPTY_TOKEN}'}\ntargets: [{name: a, type: webhook, url: 'http://127.0.0.1:1/'}]\n")
	if _, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data")}); err == nil || !strings.Contains(err.Error(), "inbound.bearer_token: is empty") {
		t.Errorf("start: %v", err)
	}
	errs := CheckConfig(cfg)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "inbound.bearer_token: is empty") {
		t.Errorf("check-config: %v", errs)
	}
}

// TestWebConfigUsersAndTokensAreAlternatives: Alertmanager gets in with
// either the web config's basic auth or the inbound bearer token; people
// use the api credential; a user in both the web config and api users is
// refused at start, naming the user.
func TestWebConfigUsersAndTokensAreAlternatives(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	dir := t.TempDir()
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	webCfg := filepath.Join(dir, "web.yml")
	writeFile(t, webCfg, "basic_auth_users:\n  alertmanager: "+hash("am-pw")+"\n")
	cfg := `
inbound: {bearer_token: am-token}
api:
  bearer_token: api-token
  basic_auth_users: {alice: '` + hash("alice-pw") + `'}
targets: [{name: a, type: webhook, url: '` + sink.URL + `'}]
`
	b := serveTestApp(t, newTestApp(t, cfg, Options{WebConfigFile: webCfg, EnableAdminAPI: true}))
	payload := readFile(t, "../examples/payload-firing.json")
	basic := func(u, p string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return req.Header.Get("Authorization")
	}
	for _, c := range []struct {
		method, path, auth string
		want               int
	}{
		{"POST", "/webhook/a", basic("alertmanager", "am-pw"), 200},
		{"POST", "/webhook", "Bearer am-token", 200},
		{"POST", "/webhook", basic("alertmanager", "wrong"), 401},
		{"POST", "/webhook", "Bearer api-token", 401},
		{"GET", "/api/v1/targets", basic("alertmanager", "am-pw"), 401},
		{"GET", "/api/v1/targets", "Bearer am-token", 401},
		{"GET", "/api/v1/targets", basic("alice", "alice-pw"), 200},
		{"GET", "/api/v1/targets", "Bearer api-token", 200},
		{"POST", "/api/v1/targets/a/test", "Bearer am-token", 401},
		{"POST", "/api/v1/targets/a/test", "Bearer api-token", 202},
		{"POST", "/-/reload", "Bearer api-token", 403}, // lifecycle not enabled
		{"GET", "/-/healthy", "", 200},
	} {
		var body []byte
		if strings.HasPrefix(c.path, "/webhook") {
			body = payload
		}
		if code, ans := b.request(t, c.method, c.path, c.auth, body); code != c.want {
			t.Errorf("%s %s with %q: %d %s, want %d", c.method, c.path, c.auth, code, ans, c.want)
		}
	}
	// A person's user name in the web config would let Alertmanager's
	// credential administer: refused.
	writeFile(t, webCfg, "basic_auth_users:\n  alice: "+hash("am-pw")+"\n")
	writeFile(t, filepath.Join(dir, "alertbridge.yml"), cfg)
	_, err := New(Options{ConfigFile: filepath.Join(dir, "alertbridge.yml"), StoragePath: filepath.Join(dir, "data2"), WebConfigFile: webCfg})
	if err == nil || !strings.Contains(err.Error(), "api.basic_auth_users.alice: alice is also a basic_auth_users entry of --web.config.file") {
		t.Errorf("shared user name: %v", err)
	}
}

// TestNotReadyWhileTheStoreRefusesWrites: /-/ready answers 503 while the
// store cannot take writes, and the webhook's 503 names no path.
func TestNotReadyWhileTheStoreRefusesWrites(t *testing.T) {
	app := newTestApp(t, webhookConfig("  - {name: a, type: webhook, url: 'http://127.0.0.1:1/'}\n"), Options{})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, l, 5*time.Second) }()
	defer func() {
		cancel()
		<-done // the store was closed under it: its error is expected
	}()
	b := &testBridge{app: app, url: "http://" + l.Addr().String()}
	if code, _ := b.request(t, "GET", "/-/ready", "", nil); code != http.StatusOK {
		t.Fatalf("ready before: %d", code)
	}
	if err := app.db.Close(); err != nil {
		t.Fatal(err)
	}
	app.probe.mu.Lock()
	app.probe.at = time.Time{} // forget the last probe's outcome
	app.probe.mu.Unlock()
	if code, body := b.request(t, "GET", "/-/ready", "", nil); code != http.StatusServiceUnavailable {
		t.Errorf("ready with the store refusing writes: %d %s", code, body)
	}
	code, body := b.request(t, "POST", "/webhook", "", readFile(t, "../examples/payload-firing.json"))
	if code != http.StatusServiceUnavailable || strings.Contains(body, app.opts.StoragePath) || strings.Contains(body, "closed") {
		t.Errorf("webhook with the store closed: %d %s", code, body)
	}
	if code, _ := b.request(t, "GET", "/-/healthy", "", nil); code != http.StatusOK {
		t.Errorf("healthy: %d", code)
	}
}

// TestTestSendsAreMarked: a test send's job and its alerts say "test":
// true in the deliveries and alert center APIs; Alertmanager's do not.
func TestTestSendsAreMarked(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig("  - {name: ops, type: webhook, url: '"+sink.URL+"'}\n"), "")
	if code, body := b.request(t, "POST", "/webhook/ops", "", readFile(t, "../examples/payload-firing.json")); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if code, body := b.request(t, "POST", "/api/v1/targets/ops/test", "", nil); code != http.StatusAccepted {
		t.Fatalf("test send: %d %s", code, body)
	}
	sink.WaitFor(2, 10*time.Second)
	var jobs []map[string]any
	eventually(10*time.Second, func() bool {
		jobs = b.list(t, "delivered")
		return len(jobs) == 2
	})
	tests := 0
	for _, j := range jobs {
		isTest := strings.HasPrefix(j["groupKey"].(string), "alertbridge-test:")
		if (j["test"] == true) != isTest {
			t.Errorf("job %v: test mark %v", j["groupKey"], j["test"])
		}
		if isTest {
			tests++
		}
	}
	if tests != 1 {
		t.Errorf("jobs: %v", jobs)
	}
	alerts := b.data(t, "/api/v1/alerts")
	marked := 0
	for _, a := range alerts {
		if a["test"] == true {
			marked++
			if !strings.HasPrefix(a["groupKey"].(string), "alertbridge-test:") {
				t.Errorf("alert %v marked as a test", a["groupKey"])
			}
		} else if strings.HasPrefix(a["groupKey"].(string), "alertbridge-test:") {
			t.Errorf("test alert %v not marked", a["target"])
		}
	}
	if marked == 0 || marked == len(alerts) {
		t.Errorf("%d of %d alerts marked as tests", marked, len(alerts))
	}
}
