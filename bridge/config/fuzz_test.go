package config

import (
	"testing"
)

// FuzzParse feeds any bytes to the configuration loader: it must answer
// with a configuration or an error, never panic, and a configuration it
// accepts must hold what the runtime relies on (targets with names,
// types and URLs, defaults applied).
func FuzzParse(f *testing.F) {
	f.Add([]byte("targets:\n  - {name: a, type: webhook, url: 'https://hooks.example.com/a'}\n"))
	f.Add([]byte("global:\n  timeout: 10x\n  retry: {attempts: many}\ntargets: [{name: a, type: slack, url: 'https://hooks.slack.com/services/T/B/X', colour: red}]\n"))
	f.Add([]byte("targets:\n  - name: t\n    type: telegram\n    chat_id: '-100'\n    url: https://api.telegram.org/bot1:x/sendMessage\n    template: |\n      {\"chat_id\": -100, \"parse_mode\": \"Markdown\", \"text\": \"*{{ .Status }}*\"}\n"))
	f.Add([]byte("a: &x [*x]\ntargets: *x\n"))
	f.Add([]byte("targets:\n- name: 'x'\n  type: lark\n  url: ${NOPE}\n  http_config: {bearer_token: a, bearer_token_file: b}\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		cfg, err := Parse(b, dir)
		if err != nil {
			if cfg != nil {
				t.Fatalf("an error and a configuration: %v", err)
			}
			return
		}
		if len(cfg.Targets) == 0 || cfg.Location == nil || cfg.Global.Timeout <= 0 {
			t.Fatalf("accepted a configuration without targets, time zone or timeout: %q", b)
		}
		for _, tg := range cfg.Targets {
			if tg == nil || tg.Name == "" || tg.Type == "" || tg.URL == "" || tg.Retry == nil || tg.Timeout <= 0 {
				t.Fatalf("accepted an incomplete target %+v from %q", tg, b)
			}
		}
	})
}
