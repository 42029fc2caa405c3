package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

const watchdogTargets = `
targets:
  - name: ops
    type: webhook
    url: https://hooks.example.com/ops
  - name: oncall
    type: webhook
    url: https://hooks.example.com/oncall
`

// TestWatchdogGood: defaults fill the matcher and the repeat interval;
// given values are parsed.
func TestWatchdogGood(t *testing.T) {
	cfg, err := Parse([]byte(watchdogTargets+"watchdog:\n  timeout: 10m\n  targets: [ops]\n"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Watchdog
	if len(w.Matchers) != 1 || w.Matchers[0].String() != DefaultWatchdogMatch || w.Repeat != DefaultWatchdogRepeat || time.Duration(w.Timeout) != 10*time.Minute {
		t.Fatalf("defaults: %+v", w)
	}
	cfg, err = Parse([]byte(watchdogTargets+`watchdog:
  match: ['alertname="DeadMansSwitch"', 'cluster=~"prod-.*"']
  timeout: 5m
  repeat_interval: 30m
  targets: [ops, oncall]
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if w = cfg.Watchdog; len(w.Matchers) != 2 || w.Repeat != 30*time.Minute || len(w.Targets) != 2 {
		t.Fatalf("given: %+v", w)
	}
	if cfg, err = Parse([]byte(watchdogTargets), t.TempDir()); err != nil || cfg.Watchdog != nil {
		t.Fatalf("no section: %v %+v", err, cfg.Watchdog)
	}
}

// TestWatchdogBad: each mistake is reported with its key path, all of them
// in one run.
func TestWatchdogBad(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		want       []string
	}{
		{"timeout missing and no targets", "watchdog: {}\n", []string{
			"watchdog.timeout: required and must be positive", "watchdog.targets: at least one target is required"}},
		{"non-positive durations", "watchdog:\n  timeout: 0s\n  repeat_interval: 0s\n  targets: [ops]\n", []string{
			"watchdog.timeout: required and must be positive", "watchdog.repeat_interval: must be positive"}},
		{"negative timeout", "watchdog:\n  timeout: -1m\n  targets: [ops]\n", []string{"watchdog.timeout"}},
		{"bad duration", "watchdog:\n  timeout: 10x\n  targets: [ops]\n", []string{"watchdog.timeout"}},
		{"unknown and repeated targets", "watchdog:\n  timeout: 10m\n  targets: [ops, nosuch, ops]\n", []string{
			`watchdog.targets[1]: unknown target "nosuch"`, `watchdog.targets[2]: "ops" is already listed as targets[0]`}},
		{"bad matcher", "watchdog:\n  match: ['alertname=~\"(\"', 'ok=\"1\"', '{{']\n  timeout: 10m\n  targets: [ops]\n", []string{
			"watchdog.match[0]: ", "watchdog.match[2]: "}},
		{"unknown key", "watchdog:\n  timeout: 10m\n  targets: [ops]\n  repeat: 1h\n", []string{"watchdog.repeat: unknown field (line"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(watchdogTargets+tc.yaml), t.TempDir())
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\ndoes not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "match[1]") {
				t.Errorf("a good matcher was reported: %v", err)
			}
		})
	}
}

// TestWatchdogDocExample: the bridge configuration of the worked example
// in docs/operations.md loads (with an inline URL for its url_file).
func TestWatchdogDocExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	var block string
	for _, part := range strings.Split(string(doc), "```yaml\n")[1:] {
		if body, _, _ := strings.Cut(part, "```"); strings.Contains(body, "watchdog:") {
			block = body
		}
	}
	if block == "" {
		t.Fatal("docs/operations.md: no yaml block with a watchdog section")
	}
	block = strings.ReplaceAll(block, "url_file: /etc/alertbridge/slack-url", "url: https://hooks.slack.com/services/T0/B0/x")
	cfg, err := Parse([]byte(block), t.TempDir())
	if err != nil {
		t.Fatalf("the example does not load: %v\n%s", err, block)
	}
	if w := cfg.Watchdog; w == nil || time.Duration(w.Timeout) != 5*time.Minute || w.Targets[0] != "oncall" {
		t.Fatalf("watchdog %+v", cfg.Watchdog)
	}
}
