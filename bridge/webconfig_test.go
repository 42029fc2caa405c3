package bridge

import (
	"net/http"
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

// TestEmptiedWebConfigKeepsTheUsers: a --web.config.file whose users are
// the only ingest credential, emptied, blanked or stripped of its users
// while the bridge runs, keeps the users in force (ingest stays closed)
// and logs an error, as an emptied token file does. A real change of the
// users still applies.
func TestEmptiedWebConfigKeepsTheUsers(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	basic := func(u, p string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(u, p)
		return req.Header.Get("Authorization")
	}
	payload := readFile(t, "../examples/payload-firing.json")
	for i, c := range []struct {
		name, content, wantLog string
	}{
		{"emptied", "", "web config file is empty"},
		{"blank", "  \n   \n", "web config file is empty"},
		{"comments only", "# rewritten\n", "web config file is empty"},
		{"empty mapping", "{}\n", "web config file is empty"},
		{"users emptied", "basic_auth_users: {}\n", "no longer has basic_auth_users"},
		{"users key left out", "http_server_config: {http2: true}\n", "no longer has basic_auth_users"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := webhookfake.NewWebhook(t)
			dir := t.TempDir()
			webCfg := filepath.Join(dir, "web.yml")
			writeFile(t, webCfg, "basic_auth_users:\n  alertmanager: "+hash("am-pw")+"\n")
			core, logs := observer.New(zapcore.ErrorLevel)
			b := serveTestApp(t, newTestApp(t, `
api: {bearer_token: api-token}
targets: [{name: a, type: webhook, url: '`+sink.URL+`'}]
`, Options{Logger: zap.New(core), WebConfigFile: webCfg}))
			if code, body := b.request(t, "POST", "/webhook", "", payload); code != http.StatusUnauthorized {
				t.Fatalf("before: no credential got %d %s, want 401", code, body)
			}
			writeFile(t, webCfg, c.content)
			touch(t, webCfg, time.Now().Add(time.Duration(i+1)*time.Hour))
			if code, body := b.request(t, "POST", "/webhook", "", payload); code != http.StatusUnauthorized {
				t.Errorf("after: no credential got %d %s, want 401", code, body)
			}
			if code, body := b.request(t, "POST", "/webhook/a", basic("alertmanager", "am-pw"), payload); code != http.StatusOK {
				t.Errorf("after: the user in force got %d %s, want 200", code, body)
			}
			if logs.FilterMessageSnippet(c.wantLog).FilterMessageSnippet("keeping the previous one").Len() == 0 {
				t.Errorf("no error %q logged; logs: %v", c.wantLog, logs.All())
			}
			// A real change of the users applies without a restart.
			writeFile(t, webCfg, "basic_auth_users:\n  am2: "+hash("am2-pw")+"\n")
			touch(t, webCfg, time.Now().Add(10*time.Hour))
			if code, _ := b.request(t, "POST", "/webhook", basic("am2", "am2-pw"), payload); code != http.StatusOK {
				t.Errorf("new user: %d, want 200", code)
			}
			if code, _ := b.request(t, "POST", "/webhook", basic("alertmanager", "am-pw"), payload); code != http.StatusUnauthorized {
				t.Errorf("removed user: %d, want 401", code)
			}
		})
	}
}

// TestEmptyWebConfigRefusedAtStart: a web config file that is empty or
// blank, or writes an empty basic_auth_users, is refused at start when it
// is the only way Alertmanager could be admitted (no inbound bearer token);
// with an inbound token it is accepted, as is a TLS-free file that just
// sets other keys.
func TestEmptyWebConfigRefusedAtStart(t *testing.T) {
	for _, c := range []struct {
		name, web, inbound string
		want               string // "" means it starts
	}{
		{"empty", "", "", "is empty, and no inbound.bearer_token is configured"},
		{"blank", " \n\n", "", "is empty, and no inbound.bearer_token is configured"},
		{"comments", "# todo\n", "", "is empty"},
		{"empty users", "basic_auth_users: {}\n", "", "has an empty basic_auth_users"},
		{"empty with inbound token", "", "inbound: {bearer_token: am-token}\n", ""},
		{"empty users with inbound token", "basic_auth_users: {}\n", "inbound: {bearer_token: am-token}\n", ""},
		{"other keys only", "http_server_config: {http2: false}\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			webCfg := filepath.Join(dir, "web.yml")
			writeFile(t, webCfg, c.web)
			cfg := filepath.Join(dir, "alertbridge.yml")
			writeFile(t, cfg, c.inbound+"targets: [{name: a, type: webhook, url: 'http://127.0.0.1:1/'}]\n")
			app, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), WebConfigFile: webCfg})
			if err == nil {
				app.Close(t.Context())
			}
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}
