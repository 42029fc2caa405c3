package bridge

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// targetFileConfig is a main configuration with one target, ops, and the
// target files under targets.d, which may point at the fake only.
func targetFileConfig(sinkURL string) string {
	return webhookConfig(`
  - name: ops
    type: webhook
    url: `+sinkURL+`/ops
`) + `target_files: [targets.d/*.yml]
target_file_rules:
  allowed_types: [webhook]
  allowed_url_hosts: [127.0.0.1]
`
}

// teamFile is a target file with one webhook target posting to path.
func teamFile(name, sinkURL string) string {
	return "- name: " + name + "\n  type: webhook\n  url: " + sinkURL + "/" + name + "\n"
}

// writeTeamFile writes a file under the configuration's targets.d.
func writeTeamFile(t *testing.T, app *App, name, body string) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(app.opts.ConfigFile), "targets.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	// Write and rename, so the poller never reads half a file.
	tmp := filepath.Join(dir, "."+name+".tmp")
	if err := os.WriteFile(tmp, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}

// hasTarget reports whether the runtime in force has the target.
func hasTarget(app *App, name string) bool {
	_, ok := app.rt.Load().targets[name]
	return ok
}

// sendRound posts a notification no earlier round sent (a new group) and
// waits until the sink has received want more requests; it returns the
// paths of those requests.
func sendRound(t *testing.T, b *testBridge, sink *webhookfake.Webhook, round string, want int) map[string]bool {
	t.Helper()
	before := len(sink.Received())
	body := strings.ReplaceAll(string(readFile(t, "../examples/payload-firing.json")), "HighCPU", "HighCPU"+round)
	if code, ans := b.post(t, "/webhook", []byte(body)); code != http.StatusOK {
		t.Fatalf("round %s: status %d, answer %v", round, code, ans)
	}
	got := sink.WaitFor(before+want, 10*time.Second)
	if len(got) != before+want {
		t.Fatalf("round %s: sink received %d requests, want %d (violations %v)", round, len(got)-before, want, sink.Violations())
	}
	paths := map[string]bool{}
	for _, r := range got[before:] {
		paths[r.Path] = true
	}
	return paths
}

func getBody(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestTargetFilesPickedUpWhileRunning(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "targets.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "targets.d", "team-a.yml"), []byte(teamFile("team-a", sink.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfgFile := filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(cfgFile, []byte(targetFileConfig(sink.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	app, err := New(Options{ConfigFile: cfgFile, StoragePath: filepath.Join(dir, "data"), Logger: zaptest.NewLogger(t), TargetFilesPollInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	b := serveTestApp(t, app)

	// At start: the main file's target and team-a's.
	if p := sendRound(t, b, sink, "1", 2); !p["/ops"] || !p["/team-a"] {
		t.Fatalf("round 1 reached %v", p)
	}

	// A file added while running is picked up.
	writeTeamFile(t, app, "team-b.yml", teamFile("team-b", sink.URL))
	if !eventually(10*time.Second, func() bool { return hasTarget(app, "team-b") }) {
		t.Fatal("team-b.yml was not picked up")
	}
	if p := sendRound(t, b, sink, "2", 3); !p["/ops"] || !p["/team-a"] || !p["/team-b"] {
		t.Fatalf("round 2 reached %v", p)
	}

	// A changed file: team-b's target renamed.
	writeTeamFile(t, app, "team-b.yml", teamFile("team-b2", sink.URL))
	if !eventually(10*time.Second, func() bool { return hasTarget(app, "team-b2") && !hasTarget(app, "team-b") }) {
		t.Fatal("the change to team-b.yml was not picked up")
	}

	// A broken file (hostile: an internal address) is skipped and
	// reported; the main file's and team-b's targets keep delivering.
	writeTeamFile(t, app, "team-a.yml", teamFile("team-a", "http://169.254.169.254"))
	if !eventually(10*time.Second, func() bool { return !hasTarget(app, "team-a") }) {
		t.Fatal("the broken team-a.yml was not skipped")
	}
	if p := sendRound(t, b, sink, "3", 2); !p["/ops"] || !p["/team-b2"] {
		t.Fatalf("round 3 reached %v", p)
	}
	status := getBody(t, b.url+"/status")
	if !strings.Contains(status, "targets.d/team-a.yml: [0] (team-a).url: host &#34;169.254.169.254&#34; is not allowed") {
		t.Errorf("the status page does not show team-a.yml's problem:\n%s", status)
	}
	metrics := getBody(t, b.url+"/metrics")
	for _, want := range []string{`alertbridge_target_files{state="loaded"} 1`, `alertbridge_target_files{state="skipped"} 1`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// Fixed, it is back.
	writeTeamFile(t, app, "team-a.yml", teamFile("team-a", sink.URL))
	if !eventually(10*time.Second, func() bool { return hasTarget(app, "team-a") }) {
		t.Fatal("the fixed team-a.yml was not picked up")
	}
	if p := sendRound(t, b, sink, "4", 3); !p["/ops"] || !p["/team-a"] || !p["/team-b2"] {
		t.Fatalf("round 4 reached %v", p)
	}
	if v := sink.Violations(); len(v) > 0 {
		t.Errorf("contract violations: %v", v)
	}
}

func TestTargetFilesReloadWithoutPolling(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	app := newTestApp(t, targetFileConfig(sink.URL), Options{EnableLifecycle: true, TargetFilesPollInterval: -1})
	b := serveTestApp(t, app)
	writeTeamFile(t, app, "team-c.yml", teamFile("team-c", sink.URL))
	// Duplicate of the main file's target: this file is skipped, not the
	// configuration.
	writeTeamFile(t, app, "team-d.yml", teamFile("ops", sink.URL))
	// Valid, but its template renders no JSON: the runtime cannot be
	// built with it, so this file is skipped too.
	writeTeamFile(t, app, "team-f.yml", teamFile("team-f", sink.URL)+"  template: '{\"status\": {{ .Status }}}'\n")
	if hasTarget(app, "team-c") {
		t.Fatal("loaded without a reload while polling is off")
	}
	resp, err := http.Post(b.url+"/-/reload", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reload: status %d", resp.StatusCode)
	}
	if !hasTarget(app, "team-c") {
		t.Fatal("team-c.yml not loaded by /-/reload")
	}
	states := app.rt.Load().cfg.TargetFileStates
	if len(states) != 3 || states[1].Err == nil || !strings.Contains(states[1].Err.Error(), `targets.d/team-d.yml: [0] (ops).name: "ops" is already used`) {
		t.Errorf("states %+v", states)
	}
	if len(states) == 3 && (states[2].Err == nil || !strings.HasPrefix(states[2].Err.Error(), "targets.d/team-f.yml: ")) {
		t.Errorf("team-f.yml: %v, want skipped for its template", states[2].Err)
	}
	if hasTarget(app, "team-f") {
		t.Error("team-f loaded")
	}
	if p := sendRound(t, b, sink, "1", 2); !p["/ops"] || !p["/team-c"] {
		t.Fatalf("reached %v", p)
	}
}

func TestCheckConfigReportsTargetFiles(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(cfgFile, []byte(targetFileConfig("http://127.0.0.1:1")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "targets.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "targets.d", "team-e.yml"), []byte("- name: e\n  type: webhook\n  url: http://127.0.0.1:1/e\n  secret_file: /etc/alertbridge/secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errs := CheckConfig(cfgFile)
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "targets.d/team-e.yml: [0].secret_file: not allowed in a target file") || !strings.Contains(errs[0].Error(), "(line 4)") {
		t.Errorf("check-config: %v", errs)
	}
}
