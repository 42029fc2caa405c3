package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
)

func TestLoadGood(t *testing.T) {
	cfg, err := Load("testdata/full.good.yml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Global.AlertRetention != model.Duration(30*24*time.Hour) {
		t.Errorf("alert_retention %v, want 30d", cfg.Global.AlertRetention)
	}
	if cfg.Location.String() != "Asia/Shanghai" {
		t.Errorf("location %v", cfg.Location)
	}
	if cfg.Global.Priorities["p1"] != 0 || cfg.Global.Priorities["critical"] != 0 || cfg.Global.Priorities["warning"] != 2 {
		t.Errorf("priorities not merged over defaults: %v", cfg.Global.Priorities)
	}
	abs, _ := filepath.Abs("testdata/tmpl/*.tmpl")
	if cfg.Templates[0] != abs {
		t.Errorf("template glob %q not resolved against the config folder (%q)", cfg.Templates[0], abs)
	}
	ops := cfg.Targets[0]
	if string(ops.URL) != "https://hooks.example.com/x?key=FILETOKEN" || string(ops.Secret) != "s3cret" {
		t.Errorf("url_file/secret_file not read and trimmed")
	}
	if len(ops.Matchers) != 2 || !ops.Matchers[0].Matches("warning") || ops.Matchers[1].Matches("dev") {
		t.Errorf("matchers = %v", ops.Matchers)
	}
	if ops.SendsResolved() || !ops.IsEnabled() || ops.MaxAlerts != 10 {
		t.Errorf("flags: send_resolved %v enabled %v max %d", ops.SendsResolved(), ops.IsEnabled(), ops.MaxAlerts)
	}
	if !strings.Contains(ops.BodyText, `"a":`) {
		t.Errorf("template_file not read: %q", ops.BodyText)
	}
	if want := (Retry{Attempts: 2, Interval: model.Duration(500 * time.Millisecond), MaxInterval: model.Duration(10 * time.Second), MaxAge: DefaultRetry.MaxAge}); *ops.Retry != want {
		t.Errorf("retry = %+v, want global values filling the gaps %+v", *ops.Retry, want)
	}
	if ops.Timeout != model.Duration(3*time.Second) || cfg.Targets[1].Timeout != model.Duration(5*time.Second) {
		t.Errorf("timeouts %v %v", ops.Timeout, cfg.Targets[1].Timeout)
	}
	abs, _ = filepath.Abs("testdata/secrets/token")
	if ops.HTTPConfig.Authorization == nil || ops.HTTPConfig.Authorization.CredentialsFile != abs {
		t.Errorf("http_config token file not resolved against the config folder: %+v", ops.HTTPConfig.Authorization)
	}
	min := cfg.Targets[1]
	if min.IsEnabled() || !min.SendsResolved() {
		t.Errorf("minimal: enabled %v send_resolved %v", min.IsEnabled(), min.SendsResolved())
	}
	if *min.Retry != cfg.Global.Retry {
		t.Errorf("minimal retry %+v, want global %+v", *min.Retry, cfg.Global.Retry)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg, err := Parse([]byte("targets: [{name: a, type: webhook, url: 'http://127.0.0.1/x'}]"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Global
	if g.Timeout != DefaultTimeout || g.Retry != DefaultRetry || g.Timezone != "UTC" || g.SeverityLabel != "severity" ||
		g.DedupWindow != DefaultDedup || g.AlertRetention != DefaultAlertRetention || g.MaxInFlight != DefaultMaxInFlight {
		t.Errorf("defaults: %+v", g)
	}
}

// TestDeliveryDefaults: retries are bounded by time, not count, and the
// dedup window lets Alertmanager's repeats through.
func TestDeliveryDefaults(t *testing.T) {
	cfg, err := Parse([]byte("targets: [{name: a, type: webhook, url: 'http://127.0.0.1/x'}]"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	r := *cfg.Targets[0].Retry
	if r.Attempts != 0 || r.MaxAge != model.Duration(6*time.Hour) || r.MaxInterval != model.Duration(5*time.Minute) || r.Interval != model.Duration(time.Second) {
		t.Errorf("default retry %+v: want no attempt limit, 1s doubling up to 5m, until 6h", r)
	}
	// Alertmanager's smallest sensible repeat_interval is 1m; its retries
	// and HA copies come seconds apart.
	if w := time.Duration(cfg.Global.DedupWindow); w >= time.Minute || w < 10*time.Second {
		t.Errorf("default dedup_window %s: want between 10s and 1m", w)
	}
	if cfg.Targets[0].MaxInFlight != DefaultMaxInFlight {
		t.Errorf("target max_in_flight %d, want the default %d", cfg.Targets[0].MaxInFlight, DefaultMaxInFlight)
	}
}

func TestDeliveryKeys(t *testing.T) {
	const target = "{name: a, type: webhook, url: 'http://127.0.0.1/x'"
	cases := []struct {
		name, yaml string
		// want is the target's max_in_flight and retry attempts, or err
		// the error.
		inFlight, attempts int
		err                string
	}{
		{"inherit", "global: {max_in_flight: 8, retry: {attempts: 3}}\ntargets: [" + target + "}]", 8, 3, ""},
		{"own", "global: {max_in_flight: 8}\ntargets: [" + target + ", max_in_flight: 2, retry: {attempts: 5}}]", 2, 5, ""},
		{"one at a time", "targets: [" + target + ", max_in_flight: 1}]", 1, 0, ""},
		{"global too low", "global: {max_in_flight: -1}\ntargets: [" + target + "}]", 0, 0, "global.max_in_flight: must be between 1 and 1024"},
		{"target too high", "targets: [" + target + ", max_in_flight: 5000}]", 0, 0, "targets[0] (a).max_in_flight: must be between 1 and 1024"},
		{"negative attempts", "targets: [" + target + ", retry: {attempts: -1}}]", 0, 0, "targets[0] (a).retry.attempts: must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse([]byte(c.yaml), t.TempDir())
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Targets[0]; got.MaxInFlight != c.inFlight || got.Retry.Attempts != c.attempts {
				t.Errorf("max_in_flight %d attempts %d, want %d and %d", got.MaxInFlight, got.Retry.Attempts, c.inFlight, c.attempts)
			}
		})
	}
}

func TestLoadBad(t *testing.T) {
	cases := map[string][]string{
		"unknown-key.bad.yml": {
			"global.retry.atempts: unknown field (line 3)",
			"targets[0].http_config.bearer_tokn: unknown field (line 9)",
			"targets[1] (b).chat_id: unknown field for type webhook (line 13)",
		},
		"invalid.bad.yml": {
			"global.timezone:",
			"global.priorities.sev9: 7 is not a priority",
			"global.alert_retention: must be at least 1h",
			`targets[0] (has space).name: "has space" must be URL-safe`,
			"targets[0] (has space).url: must be an absolute http or https URL",
			`targets[1] (dup).type: unknown type "carrier-pigeon" (one of `,
			`targets[2] (dup).name: "dup" is already used by targets[1]`,
			"targets[2] (dup).url: required",
			"targets[2] (dup).match[0]:",
			"targets[2] (dup).match[1]:",
			"targets[2] (dup).max_alerts: must not be negative",
			"targets[2] (dup).template: set template or template_file, not both",
			"targets[2] (dup).verify.status[0]: 999 is not an HTTP status code",
			"targets[2] (dup).retry.max_interval: must not be below interval",
			`targets[2] (dup).headers: "Bad Header" is not a valid header name`,
			`targets[3] (dialect-unknown).dialect: unknown dialect "nagios" (one of alertmanager, hertzbeat, api7, coroot, ammds)`,
			"targets[4] (dialect-chat-without-template).template: required with dialect coroot for type slack",
			"targets[5] (chat-headers).headers: type dingtalk sends its platform's headers only",
			"targets[6] (chat-secret).secret: type discord does not sign requests",
		},
	}
	for file, wants := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", file))
			if err == nil {
				t.Fatal("Load succeeded")
			}
			for _, w := range wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q; got:\n%v", w, err)
				}
			}
		})
	}
}

func TestErrorsNeverEchoSecrets(t *testing.T) {
	dir := t.TempDir()
	_, err := Parse([]byte(`
targets:
  - name: a
    type: webhook
    url: "gopher://hooks.example.com/x?token=SECRETTOKEN"
  - name: b
    type: webhook
    url: "http://[::1/SECRETTOKEN"
`), dir)
	if err == nil {
		t.Fatal("bad URLs accepted")
	}
	if strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Errorf("error echoes the URL: %v", err)
	}
}

func TestMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "c.yml"), []byte(`
targets:
  - {name: a, type: webhook, url_file: nope.txt}
  - {name: b, type: webhook, url: 'http://x.example', url_file: nope.txt}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(dir, "c.yml"))
	for _, w := range []string{"targets[0] (a).url: open", "targets[1] (b).url: set the value or the _file variant, not both"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q: %v", w, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "absent.yml")); err == nil {
		t.Error("missing config file accepted")
	}
	if _, err := Parse([]byte(""), dir); err == nil {
		t.Error("empty config accepted")
	}
	if _, err := Parse([]byte("targets: []"), dir); err == nil || !strings.Contains(err.Error(), "at least one target") {
		t.Errorf("no targets: %v", err)
	}
}

func TestExampleConfigIsValid(t *testing.T) {
	if _, err := Load("../../examples/alertbridge.yml"); err != nil {
		t.Fatalf("examples/alertbridge.yml: %v", err)
	}
}

func TestRedirectsOffUnlessAskedFor(t *testing.T) {
	cfg, err := Parse([]byte(`
targets:
  - {name: none, type: webhook, url: 'http://x.example'}
  - {name: given, type: webhook, url: 'http://x.example', http_config: {enable_http2: false}}
  - {name: on, type: webhook, url: 'http://x.example', http_config: {follow_redirects: true}}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{false, false, true} {
		if got := cfg.Targets[i].HTTPConfig.FollowRedirects; got != want {
			t.Errorf("%s: follow_redirects %v, want %v", cfg.Targets[i].Name, got, want)
		}
	}
	if !cfg.Targets[0].HTTPConfig.EnableHTTP2 || cfg.Targets[1].HTTPConfig.EnableHTTP2 {
		t.Errorf("enable_http2 defaults not applied")
	}
}

func TestEnvExpansionInSecrets(t *testing.T) {
	t.Setenv("AB_TEST_TOKEN", "tok123")
	t.Setenv("AB_TEST_HOST", "hooks.example.com")
	cfg, err := Parse([]byte(`
inbound: {bearer_token: '${AB_TEST_TOKEN}'}
targets:
  - name: a
    type: webhook
    url: 'https://${AB_TEST_HOST}/x?key=${AB_TEST_TOKEN}'
    secret: 'whsec_${AB_TEST_TOKEN}'
    template: '{"literal": "${not_expanded_in_templates}"}'
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.Targets[0].URL) != "https://hooks.example.com/x?key=tok123" || string(cfg.Targets[0].Secret) != "whsec_tok123" ||
		string(cfg.Inbound.BearerToken) != "tok123" {
		t.Errorf("not expanded: %q %q %q", cfg.Targets[0].URL, cfg.Targets[0].Secret, cfg.Inbound.BearerToken)
	}
	if !strings.Contains(cfg.Targets[0].BodyText, "${not_expanded_in_templates}") {
		t.Errorf("template text must stay literal: %q", cfg.Targets[0].BodyText)
	}
	_, err = Parse([]byte("targets: [{name: a, type: webhook, url: 'https://${AB_TEST_UNSET_VAR}/x'}]"), t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "targets[0] (a).url: environment variable AB_TEST_UNSET_VAR is not set") {
		t.Errorf("unset variable: %v", err)
	}
}

func TestTypeOptionErrorsNameTargetAndField(t *testing.T) {
	_, err := Parse([]byte(`
targets:
  - name: dt
    type: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=x
    msg_type: feed
    max_messages: 99
    chat_id: 1
`), t.TempDir())
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{"targets[0] (dt).chat_id: unknown field (line 8)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	_, err = Parse([]byte(`
targets:
  - name: dt
    type: dingtalk
    url: https://oapi.dingtalk.com/robot/send?access_token=x
    msg_type: feed
    max_messages: 99
`), t.TempDir())
	for _, want := range []string{`targets[0] (dt).msg_type: "feed" is not one of`, "targets[0] (dt).max_messages: 99 is outside"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
}

func TestTypeDefaultRateLimitAndOverride(t *testing.T) {
	cfg, err := Parse([]byte(`
targets:
  - {name: a, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=x"}
  - {name: b, type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=y", rate_limit: {requests: 5, interval: 1m}}
  - {name: c, type: webhook, url: "http://127.0.0.1:1/"}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rl := cfg.Targets[0].RateLimit; rl == nil || rl.Requests != 18 || rl.Burst != 2 || time.Duration(rl.Interval) != time.Minute {
		t.Errorf("dingtalk default rate limit = %+v", rl)
	}
	if rl := cfg.Targets[1].RateLimit; rl == nil || rl.Requests != 5 || rl.Burst != 5 {
		t.Errorf("override = %+v", rl)
	}
	if cfg.Targets[2].RateLimit != nil {
		t.Errorf("webhook has a default rate limit: %+v", cfg.Targets[2].RateLimit)
	}
}

func TestDialectAndTextBody(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yml")
	yml := `targets:
  - name: plain
    type: webhook
    url: https://x.example/
  - name: coroot-text
    type: webhook
    url: https://x.example/
    dialect: coroot
    headers: {content-type: "text/plain; charset=utf-8"}
    template: "{{ .Status }}"
  - name: api7-lark
    type: feishu
    url: https://open.feishu.cn/open-apis/bot/v2/hook/x
    dialect: api7
    template: '{"msg_type":"text","content":{"text":"{{ .Title }}"}}'
  - name: json-typed
    type: webhook
    url: https://x.example/
    headers: {Content-Type: application/cloudevents+json}
`
	if err := os.WriteFile(path, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct {
		dialect string
		text    bool
	}{{"alertmanager", false}, {"coroot", true}, {"api7", false}, {"alertmanager", false}} {
		if got := cfg.Targets[i]; got.Dialect != want.dialect || got.TextBody != want.text {
			t.Errorf("targets[%d]: dialect %q, text body %v; want %q, %v", i, got.Dialect, got.TextBody, want.dialect, want.text)
		}
	}
}
