package bridge

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

// unsafeTelegram passes an annotation through safeHtml (trusting it to be
// markup): the built-in sample renders, the hostile sample's bare & and
// unbalanced tags cannot be valid Telegram HTML. Line 4 of the
// configuration is the template's first line.
const unsafeTelegram = `targets:
  - name: tg
    type: telegram
    template: |
      {"chat_id": -1001234567890, "parse_mode": "HTML",
       "text": "<b>{{ .Status }}</b>{{ range .Alerts }} {{ .Annotations.summary | safeHtml }}{{ end }}"}
    chat_id: "-1001234567890"
    url: https://api.telegram.org/bot123:SECRETTOKEN/sendMessage
`

// corootTelegram is Coroot's published Markdown sample from examples/.
func corootTelegram(t *testing.T) string {
	p, err := filepath.Abs("../examples/templates/coroot-telegram-markdown.json.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	return `targets:
  - name: coroot
    type: telegram
    dialect: coroot
    chat_id: "-123456789"
    url: https://api.telegram.org/bot123:SECRETTOKEN/sendMessage
    template_file: ` + p + "\n"
}

func writeTemp(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestATemplateThatCannotRenderHostileValuesIsRefusedAtLoad(t *testing.T) {
	dir := t.TempDir()
	bad := writeTemp(t, dir, "bad.yml", unsafeTelegram)
	wantAll := func(t *testing.T, err error) {
		t.Helper()
		if err == nil {
			t.Fatal("accepted")
		}
		for _, want := range []string{"targets[0] (tg).template", "hostile sample", "Telegram HTML"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not say %q: %v", want, err)
			}
		}
		if strings.Contains(err.Error(), "SECRETTOKEN") {
			t.Errorf("error leaks the URL: %v", err)
		}
	}

	t.Run("start", func(t *testing.T) {
		_, err := New(Options{ConfigFile: bad, StoragePath: filepath.Join(t.TempDir(), "data"), Logger: zaptest.NewLogger(t)})
		wantAll(t, err)
	})
	t.Run("check-config", func(t *testing.T) {
		errs := CheckConfig(bad)
		if len(errs) == 0 {
			t.Fatal("check-config accepts it")
		}
		var all []string
		for _, e := range errs {
			all = append(all, e.Error())
		}
		wantAll(t, errorString(strings.Join(all, "\n")))
	})
	t.Run("reload", func(t *testing.T) {
		app := newTestApp(t, corootTelegram(t), Options{})
		defer app.Close(context.Background())
		if err := os.WriteFile(app.opts.ConfigFile, []byte(unsafeTelegram), 0o600); err != nil {
			t.Fatal(err)
		}
		wantAll(t, app.Reload())
		if _, ok := app.rt.Load().targets["coroot"]; !ok {
			t.Error("the old configuration was not kept")
		}
	})
	t.Run("Coroot's published Markdown sample loads", func(t *testing.T) {
		if errs := CheckConfig(writeTemp(t, dir, "coroot.yml", corootTelegram(t))); len(errs) > 0 {
			t.Errorf("refused: %v", errs)
		}
	})
}

type errorString string

func (e errorString) Error() string { return string(e) }

// TestTemplatesAreCheckedAgainstResolvedAndSingleAlertGroups: a template
// that breaks only when its group resolves, or when the group holds one
// alert, is refused at load (check-config here) and names the sample; one
// that handles every shape loads.
func TestTemplatesAreCheckedAgainstResolvedAndSingleAlertGroups(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name, template, extra string
		want                  string // "" means it loads
	}{
		{"second alert by index", `{"text": {{ (index .Alerts 1).Labels.alertname | toJson }}}`, "", "single-alert sample"},
		{"resolved branch invalid JSON", `{{ if eq .Status "resolved" }}{"text": {{ .CommonLabels.alertname }}}{{ else }}{"text": "firing"}{{ end }}`, "    send_resolved: true\n", "resolved sample"},
		{"resolved branch skipped without send_resolved", `{{ if eq .Status "resolved" }}{"text": {{ .CommonLabels.alertname }}}{{ else }}{"text": "firing"}{{ end }}`, "    send_resolved: false\n", ""},
		{"every shape", `{"text": {{ printf "%s %d" .Status (len .Alerts) | toJson }}}`, "    send_resolved: true\n", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := "targets:\n  - name: wh\n    type: webhook\n    url: http://127.0.0.1:1/hook\n" + c.extra + "    template: '" + strings.ReplaceAll(c.template, "'", "''") + "'\n"
			errs := CheckConfig(writeTemp(t, dir, "c.yml", cfg))
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			got := strings.Join(all, "\n")
			switch {
			case c.want == "" && got != "":
				t.Errorf("refused: %s", got)
			case c.want != "" && !strings.Contains(got, c.want):
				t.Errorf("check-config said %q, want it to name the %s", got, c.want)
			}
		})
	}
}
