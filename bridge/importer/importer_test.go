package importer_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge"
	"github.com/alertbridge/alertbridge/bridge/importer"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/golden/name, or rewrites it with
// -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v\nto create it, run: go test ./bridge/importer -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s\nif intended, run: go test ./bridge/importer -update", path, got, want)
	}
}

// materialize writes the result into dir as `alertbridge import --out`
// does, sets the variables it names to their examples and creates the
// files it names (pointing missing absolute ones at temporary files), and
// returns the configuration's path.
func materialize(t *testing.T, dir string, res *importer.Result) string {
	t.Helper()
	cfg := string(res.Config)
	for _, e := range res.Env {
		t.Setenv(e.Name, e.Example)
	}
	for i, f := range res.FileRefs {
		p := f.Path
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if filepath.IsAbs(f.Path) {
			p = filepath.Join(dir, "ref", strings.Repeat("x", i+1))
			cfg = strings.ReplaceAll(cfg, f.Path, p)
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(f.Example), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range res.Files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg = fillKeys(t, cfg, res.Keys)
	path := filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fillKeys sets each key the configuration leaves empty to its example,
// as the user would.
func fillKeys(t *testing.T, cfg string, keys []importer.KeyRef) string {
	t.Helper()
	if len(keys) == 0 {
		return cfg
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(cfg), &doc); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !setKey(doc.Content[0], k) {
			t.Fatalf("target %s has no empty %s to fill in:\n%s", k.Target, k.Key, cfg)
		}
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// setKey sets k's empty key in the targets list of root.
func setKey(root *yaml.Node, k importer.KeyRef) bool {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "targets" {
			continue
		}
		for _, tg := range root.Content[i+1].Content {
			name := ""
			for j := 0; j+1 < len(tg.Content); j += 2 {
				if tg.Content[j].Value == "name" {
					name = tg.Content[j+1].Value
				}
			}
			if name != k.Target {
				continue
			}
			for j := 0; j+1 < len(tg.Content); j += 2 {
				if tg.Content[j].Value == k.Key && tg.Content[j+1].Value == "" {
					tg.Content[j+1].Value = k.Example
					return true
				}
			}
		}
	}
	return false
}

// check runs the bridge's check-config on the result.
func check(t *testing.T, res *importer.Result, dir string) string {
	t.Helper()
	path := materialize(t, dir, res)
	if errs := bridge.CheckConfig(path); len(errs) > 0 {
		cfg, _ := os.ReadFile(path)
		t.Fatalf("the imported configuration does not pass check-config: %v\n%s", errors.Join(errs...), cfg)
	}
	return path
}

func report(res *importer.Result) []byte {
	var b bytes.Buffer
	res.WriteReport(&b)
	return b.Bytes()
}

func TestImportGolden(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		format     importer.Format
		secrets    bool
	}{
		{"alertmanager", "testdata/am/custom.yml", importer.Alertmanager, false},
		{"alertmanager-secrets", "testdata/am/custom.yml", importer.Alertmanager, true},
		{"dingtalk", "testdata/dingtalk/config.yml", importer.DingTalk, false},
		{"msteams", "testdata/msteams/config.yml", importer.MSTeams, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Detected, and named: the same result.
			res, err := importer.Import(tc.file, importer.Options{IncludeSecrets: tc.secrets, OutDir: "testdata"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Format != tc.format {
				t.Errorf("detected %s, want %s", res.Format, tc.format)
			}
			golden(t, tc.name+".yml", res.Config)
			golden(t, tc.name+".report", report(res))
			for name, b := range res.Files {
				golden(t, tc.name+"."+name, b)
			}
			if !tc.secrets {
				for _, secret := range []string{"secret-token", "hunter2", "123:secret", "access_token=aaaa", "SEC0000000000000000000000", "/token"} {
					if bytes.Contains(res.Config, []byte(secret)) || bytes.Contains(report(res), []byte(secret)) {
						t.Errorf("the output contains the input's secret %q", secret)
					}
				}
			}
			// Imported for a folder of its own, the output passes check-config.
			dir := t.TempDir()
			res, err = importer.Import(tc.file, importer.Options{Format: tc.format, IncludeSecrets: tc.secrets, OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			check(t, res, dir)
		})
	}
}

// TestAlertmanagerExamples imports Alertmanager's own example
// configurations from the module: each either is refused with
// Alertmanager's error, or every receiver is imported or reported, and
// the output passes check-config.
func TestAlertmanagerExamples(t *testing.T) {
	dir := alertmanagerDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "config", "testdata", "*.yml"))
	more, _ := filepath.Glob(filepath.Join(dir, "doc", "examples", "*.yml"))
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d example files under %s", len(files), dir)
	}
	imported := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			dir := t.TempDir()
			res, err := importer.Import(f, importer.Options{Format: importer.Alertmanager, OutDir: dir})
			switch {
			case errors.Is(err, importer.ErrNothingImported):
				if len(res.Notes) == 0 {
					t.Error("nothing imported and nothing reported")
				}
				return
			case err != nil:
				if !strings.Contains(err.Error(), "Alertmanager would refuse this configuration") {
					t.Errorf("unexpected error: %v", err)
				}
				return
			}
			imported++
			check(t, res, dir)
			rep := string(report(res))
			for _, name := range receiverNames(t, f) {
				if !strings.Contains(rep, "receiver \""+name+"\"") {
					t.Errorf("receiver %q is neither imported nor reported:\n%s", name, rep)
				}
			}
		})
	}
	if imported < 5 {
		t.Errorf("only %d example files had something to import", imported)
	}
}

func TestImportErrors(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		format     importer.Format
		want       string
	}{
		{"broken YAML", "testdata/am/bad-yaml.yml", "", "not YAML"},
		{"broken YAML named", "testdata/am/bad-yaml.yml", importer.Alertmanager, "Alertmanager would refuse this configuration"},
		{"unknown key", "testdata/am/unknown-key.yml", "", "colour"},
		{"nothing to import", "testdata/am/nothing.yml", "", "nothing to import"},
		{"dingtalk unknown key", "testdata/dingtalk/unknown-key.yml", "", "secrett"},
		{"a bridge config", "../../examples/alertbridge.yml", "", "already an alertbridge configuration"},
		{"missing file", "testdata/none.yml", "", "no such file"},
		{"undetectable", "testdata/payload.json", "", "cannot tell the format"},
		{"wrong format", "testdata/dingtalk/config.yml", importer.MSTeams, "not a prometheus-msteams configuration"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := importer.Import(tc.file, importer.Options{Format: tc.format})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// TestDingTalkMessages renders a notification through imported dingtalk
// targets and compares the markdown with what prometheus-webhook-dingtalk's
// templates give for the same data (written out by hand from their
// structure).
func TestDingTalkMessages(t *testing.T) {
	dir := t.TempDir()
	res, err := importer.Import("testdata/dingtalk/config.yml", importer.Options{OutDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	path := check(t, res, dir)
	const subject = "[FIRING:1] HighCPU (node)"
	const heading = "#### \\[FIRING:1\\] **[HighCPU](http://am.example:9093/#/alerts?receiver=dingtalk)**\n"
	defaultContent := heading +
		"### Alerts Firing\n" +
		"\n**Alert:** \\[CRITICAL\\] CPU high\n\n**Description:** above 95%\n\n**Graph:** [📈](http://prom.example/graph)\n\n**Details:**\n" +
		"> - alertname: HighCPU\n> - instance: web\\_1\n> - job: node\n\n" +
		"\n### Alerts Resolved\n" +
		"\n**Alert:** \\[WARNING\\] CPU ok\n\n**Description:** \n\n**Graph:** [📈](http://prom.example/graph2)\n\n**Details:**\n" +
		"> - alertname: HighCPU\n> - instance: web2\n> - job: node\n\n"
	legacyContent := heading +
		"\n**Labels**\n> - alertname: HighCPU\n> - instance: web\\_1\n> - job: node\n> - severity: critical\n" +
		"\n**Annotations**\n> - description: above 95%\n> - summary: CPU high\n" +
		"\n**Source:** [http://prom.example/graph](http://prom.example/graph)\n"
	for _, tc := range []struct {
		target, title, text string
		at                  string
	}{
		{"webhook2", subject, defaultContent, ""},
		{"webhook_legacy", subject, legacyContent, ""},
		{"webhook1", subject, defaultContent, ""},
		{"webhook_mention_all", subject, defaultContent, `{"atMobiles":[],"isAtAll":true}`},
		{"webhook_custom", subject, "- HIGHCPU: CPU high\n- HIGHCPU: CPU ok\n", `{"atMobiles":["156xxxx8827","189xxxx8325"],"isAtAll":false}`},
	} {
		t.Run(tc.target, func(t *testing.T) {
			f, err := os.Open("testdata/payload.json")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			reqs, err := bridge.Render(path, tc.target, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != 1 {
				t.Fatalf("%d requests, want 1", len(reqs))
			}
			var body struct {
				MsgType  string `json:"msgtype"`
				Markdown struct {
					Title, Text string
				}
				At json.RawMessage `json:"at"`
			}
			if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
				t.Fatalf("%v: %s", err, reqs[0].Body)
			}
			if body.MsgType != "markdown" || body.Markdown.Title != tc.title {
				t.Errorf("msgtype %q title %q, want markdown %q", body.MsgType, body.Markdown.Title, tc.title)
			}
			if body.Markdown.Text != tc.text {
				t.Errorf("text:\n%s\nwant:\n%s", body.Markdown.Text, tc.text)
			}
			if got := compactJSON(t, body.At); got != tc.at {
				t.Errorf("at %s, want %s", body.At, tc.at)
			}
		})
	}
}

// compactJSON re-encodes raw JSON with sorted keys ("" for none).
func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	if len(raw) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// TestSlackBotImport: a slack_config that posts with a bot token (global
// or its own app_token, or a bearer authorization to chat.postMessage)
// becomes a slack target in the bot mode, the token its secret and its url
// the Web API's base, the token never left in http_config; one whose URL
// names no chat.postMessage is a to-do.
func TestSlackBotImport(t *testing.T) {
	for _, tc := range []struct {
		name, config string
		secrets      bool
		want, not    []string
	}{
		{"global token, proxy app_url", `
global:
  slack_app_token: xoxb-global-token-42
  slack_app_url: https://slack-proxy.internal/api/chat.postMessage
route: {receiver: r}
receivers:
  - name: r
    slack_configs: [{channel: C0ALERTS01, send_resolved: true}]
`, false, []string{"secret: ${ALERTBRIDGE_R_TOKEN}", "url: https://slack-proxy.internal/api/", "channel: C0ALERTS01"}, []string{"xoxb-global-token-42", "authorization", "update:"}},
		{"authorization to chat.postMessage, update_message", `
route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - api_url: https://slack.com/api/chat.postMessage
        http_config: {authorization: {type: Bearer, credentials: xoxb-inline-token-7}}
        channel: '#alerts'
        update_message: true
`, true, []string{"secret: xoxb-inline-token-7", "update: edit", "channel: '#alerts'", "url: https://slack.com/api/"}, []string{"authorization"}},
		{"app_url of another method", `
route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - app_token: xoxb-other-token-9
        app_url: https://slack-proxy.internal/post
        channel: C0ALERTS01
`, false, []string{"url: ${ALERTBRIDGE_R_URL}"}, []string{"xoxb-other-token-9", "authorization", "secret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "alertmanager.yml")
			if err := os.WriteFile(in, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := importer.Import(in, importer.Options{Format: importer.Alertmanager, IncludeSecrets: tc.secrets, OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			cfg := string(res.Config)
			for _, w := range tc.want {
				if !strings.Contains(cfg, w) {
					t.Errorf("the output lacks %q:\n%s", w, cfg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(cfg, n) {
					t.Errorf("the output has %q:\n%s", n, cfg)
				}
			}
			check(t, res, dir)
		})
	}
}

// TestRocketchatImport: a rocketchat_config becomes a rocketchat target in
// the API mode (url the server, secret the token, user_id the token_id),
// room_id a key to fill in; the token never in the output without
// --include-secrets, and neither token nor token_id ever in the report.
// Filled in, the target posts where Alertmanager posted.
func TestRocketchatImport(t *testing.T) {
	const (
		token   = "Tok3n-ultra-SECRET-value_99"
		tokenID = "SecretLookingUserId42"
	)
	for _, tc := range []struct {
		name, config string
		secrets      bool
		want, not    []string
		notes        []string
		post         string // the chat.postMessage URL, when the url is carried
	}{
		{"inline token and token_id, api_url with a path", `
route: {receiver: r}
receivers:
  - name: r
    rocketchat_configs:
      - api_url: https://chat.example.com/rocket/
        token_id: ` + tokenID + `
        token: ` + token + `
        channel: '#alerts'
        emoji: ':fire:'
`, false, []string{"url: https://chat.example.com/rocket/", "secret: ${ALERTBRIDGE_R_TOKEN}", "user_id: " + tokenID, "room_id: \"\"", "emoji: ':fire:'"},
			[]string{token, "channel:"}, []string{`set room_id to the id of "#alerts"`}, "https://chat.example.com/rocket/api/v1/chat.postMessage"},
		{"include secrets, global defaults", `
global:
  rocketchat_token_id: ` + tokenID + `
  rocketchat_token: ` + token + `
route: {receiver: r}
receivers:
  - name: r
    rocketchat_configs: [{channel: '@oncall'}]
`, true, []string{"url: https://open.rocket.chat/", "secret: " + token, "user_id: " + tokenID},
			nil, []string{`the direct room with "@oncall"`}, "https://open.rocket.chat/api/v1/chat.postMessage"},
		{"token and token_id from files", `
global:
  rocketchat_api_url: https://chat.example.com
route: {receiver: r}
receivers:
  - name: r
    rocketchat_configs:
      - token_id_file: /etc/am/rc-user-id
        token_file: /etc/am/rc-token
        channel: '{{ .CommonLabels.room }}'
`, false, []string{"secret_file: /etc/am/rc-token", "user_id: \"\"", "room_id: \"\""}, []string{"{{"},
			[]string{`copy the user id from "/etc/am/rc-user-id" into user_id`, "a template; the API mode posts to one fixed room"}, "https://chat.example.com/api/v1/chat.postMessage"},
		{"token_id not an id, api_url an API path with a secret query", `
route: {receiver: r}
receivers:
  - name: r
    rocketchat_configs:
      - api_url: https://chat.example.com/api/v1/?key=` + token + `
        token_id: "` + token + ` $x"
        token: ` + token + `
`, true, []string{"url: ${ALERTBRIDGE_R_URL}", "user_id: \"\""}, []string{"api/v1", "$x"},
			[]string{"is not a Rocket.Chat user id", "set ALERTBRIDGE_R_URL to the server's address", "channel: none set"}, ""},
		{"api_url with a password", `
route: {receiver: r}
receivers:
  - name: r
    rocketchat_configs:
      - api_url: https://bot:` + token + `@chat.example.com/
        token_id: ` + tokenID + `
        token: ` + token + `
`, false, []string{"url: ${ALERTBRIDGE_R_URL}", "secret: ${ALERTBRIDGE_R_TOKEN}"}, []string{token}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "alertmanager.yml")
			if err := os.WriteFile(in, []byte(tc.config), 0o600); err != nil {
				t.Fatal(err)
			}
			res, err := importer.Import(in, importer.Options{Format: importer.Alertmanager, IncludeSecrets: tc.secrets, OutDir: dir})
			if err != nil {
				t.Fatal(err)
			}
			cfg, rep := string(res.Config), string(report(res))
			for _, w := range tc.want {
				if !strings.Contains(cfg, w) {
					t.Errorf("the output lacks %q:\n%s", w, cfg)
				}
			}
			for _, n := range tc.not {
				if strings.Contains(cfg, n) {
					t.Errorf("the output has %q:\n%s", n, cfg)
				}
			}
			for _, n := range tc.notes {
				if !strings.Contains(rep, n) {
					t.Errorf("the report lacks %q:\n%s", n, rep)
				}
			}
			for _, secret := range []string{token, tokenID} {
				if strings.Contains(rep, secret) {
					t.Errorf("the report has %q:\n%s", secret, rep)
				}
			}
			if !strings.Contains(rep, "room_id of target r") {
				t.Errorf("the report does not ask for room_id:\n%s", rep)
			}
			// Left as it is, check-config asks for the empty keys.
			raw := filepath.Join(t.TempDir(), "raw.yml")
			if err := os.WriteFile(raw, res.Config, 0o600); err != nil {
				t.Fatal(err)
			}
			for _, e := range res.Env {
				t.Setenv(e.Name, e.Example)
			}
			if errs := bridge.CheckConfig(raw); len(res.FileRefs) == 0 && !strings.Contains(fmt.Sprint(errs), "room_id: required") {
				t.Errorf("check-config of the unfilled output: %v, want room_id required", errs)
			}
			path := check(t, res, dir)
			if tc.post == "" {
				return
			}
			f, err := os.Open("testdata/payload.json")
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			reqs, err := bridge.Render(path, "r", f)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != 1 || reqs[0].URL != tc.post || reqs[0].Header.Get("X-User-Id") == "" {
				t.Errorf("requests %+v, want one to %s with X-User-Id", reqs, tc.post)
			}
		})
	}
}
