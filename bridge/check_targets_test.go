package bridge

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckConfigReportsEveryPhaseInOneRun: a file with a problem in each
// phase (an unknown key, a bad duration, a validation error, a template
// that does not parse, one that cannot render the hostile sample, and a
// broken template file) gets all of them reported in one run, each with
// its key path and line.
func TestCheckConfigReportsEveryPhaseInOneRun(t *testing.T) {
	dir := t.TempDir()
	writeTemp(t, dir, "broken.tmpl", "{{ define \"x\" }}\n{{ .Foo \n{{ end }}")
	cfg := writeTemp(t, dir, "alertbridge.yml", `templates: ['`+filepath.Join(dir, "*.tmpl")+`']
global:
  timeout: 10x
targets:
  - name: typo
    type: webhook
    url: https://hooks.example.com/SECRETTOKEN
    retyr: {attempts: 2}
  - name: parse
    type: webhook
    url: https://hooks.example.com/b
    template: |
      {"a": 1,
       "b": "{{ .Status | nosuchfunc }}"}
  - name: hostile
    type: telegram
    chat_id: "-1001234567890"
    url: https://api.telegram.org/bot123:SECRETTOKEN/sendMessage
    template: |
      {"chat_id": -1001234567890, "parse_mode": "HTML",
       "text": "{{ range .Alerts }}{{ .Annotations.summary | safeHtml }}{{ end }}"}
  - name: invalid
    type: discord
    url: https://discord.com/api/webhooks/1/X
    secret: s
`)
	errs := CheckConfig(cfg)
	var all []string
	for _, e := range errs {
		all = append(all, e.Error())
	}
	out := strings.Join(all, "\n")
	for _, want := range []string{
		`global.timeout: unknown unit "x" in duration "10x" (line 3)`,
		"targets[0] (typo).retyr: unknown field for type webhook (line 8)",
		"targets[3] (invalid).secret: type discord does not sign requests",
		"templates[0]: ",
		"broken.tmpl:3:",
		// A broken file does not hide the targets' own template problems.
		`targets[1] (parse).template (line 14)`,
		`function "nosuchfunc" not defined`,
		"targets[2] (hostile).template: cannot render the hostile sample",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	// With the file fixed, the rest is reported as before.
	writeTemp(t, dir, "broken.tmpl", "{{ define \"x\" }}fine{{ end }}")
	all = all[:0]
	for _, e := range CheckConfig(cfg) {
		all = append(all, e.Error())
	}
	out = strings.Join(all, "\n")
	for _, want := range []string{
		`global.timeout: unknown unit "x" in duration "10x" (line 3)`,
		"targets[0] (typo).retyr: unknown field for type webhook (line 8)",
		`targets[1] (parse).template (line 14)`,
		`function "nosuchfunc" not defined`,
		"targets[2] (hostile).template: cannot render the hostile sample",
		"targets[3] (invalid).secret: type discord does not sign requests",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "SECRETTOKEN") {
		t.Errorf("the output leaks a URL:\n%s", out)
	}
}
