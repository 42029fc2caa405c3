package importer

import (
	"fmt"
	htmltemplate "html/template"
	"os"
	"path"
	"path/filepath"
	"strings"
	"text/template"
	"text/template/parse"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/render"
)

// amFromGlobs loads Alertmanager's default templates and hands their text
// template to capture.
func amFromGlobs(capture func(*template.Template)) (*amtemplate.Template, error) {
	return amtemplate.FromGlobs(nil, func(text *template.Template, _ *htmltemplate.Template) { capture(text) })
}

// amConv converts one Alertmanager configuration.
type amConv struct {
	*conv
	rw      *rewriter
	snippet strings.Builder
	// dir is the configuration's folder, which relative *_file paths
	// Alertmanager does not resolve itself are relative to.
	dir string
}

// alertmanager imports the receivers of an alertmanager.yml, loaded as
// Alertmanager loads it (amconfig.go: global defaults, *_file fields and
// template paths resolve as Alertmanager resolves them).
func (c *conv) alertmanager(path string) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	c.source = filepath.Base(path)
	cfg, err := amLoadFile(abs)
	if err != nil {
		return fmt.Errorf("Alertmanager would refuse this configuration: %w", err)
	}
	builtin, err := amBuiltins()
	if err != nil {
		return err
	}
	a := &amConv{conv: c, rw: &rewriter{builtin: builtin, userTrees: map[string]*parse.Tree{}}, dir: filepath.Dir(abs)}
	a.loadTemplates(cfg.Templates)
	for _, r := range cfg.Receivers {
		a.receiver(r)
	}
	if a.snippet.Len() > 0 {
		c.snippet = "receivers:\n" + a.snippet.String()
	}
	return nil
}

// loadTemplates reads the user's template files, for the output's
// templates list and for the rewriter, and notes names that would replace
// a bridge preset.
func (a *amConv) loadTemplates(globs []string) {
	presets := presetNames()
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			a.note("templates", g, NotCarried, "", "bad glob: %v", err)
			continue
		}
		a.globs = append(a.globs, a.rel(g))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				a.note("templates", a.rel(f), NotCarried, "", "cannot read: %v", err)
				continue
			}
			trees, err := parseText(f, string(b))
			if err != nil {
				a.note("templates", a.rel(f), NotCarried, "", "does not parse: %v", err)
				continue
			}
			for name, t := range trees {
				if name == f {
					continue
				}
				a.rw.userTrees[name] = t
				if presets[name] {
					a.note("templates", a.rel(f), Differs, "", "defines %q, which is also a piece of the bridge's presets: the bridge's messages will use your version; rename it if that is not wanted", name)
				}
			}
		}
	}
}

// presetNames lists the template names the bridge's presets define.
func presetNames() map[string]bool {
	out := map[string]bool{}
	_ = render.EachPreset(func(f, text string) error {
		trees, err := parseText(path.Base(f), text)
		if err != nil {
			return nil
		}
		for name := range trees {
			out[name] = true
		}
		return nil
	})
	return out
}

// receiver converts every integration of one receiver and writes its part
// of the snippet.
func (a *amConv) receiver(r *amReceiver) {
	src := func(kind string, i int) string { return fmt.Sprintf("receiver %q %s[%d]", r.Name, kind, i) }
	var made []string
	add := func(t *outTarget) {
		if t != nil {
			a.add(t)
			made = append(made, t.Name)
		}
	}
	convertEach(add, src, "webhook_configs", r.Name, r.WebhookConfigs, a.webhook)
	convertEach(add, src, "slack_configs", r.Name, r.SlackConfigs, a.slack)
	convertEach(add, src, "discord_configs", r.Name, r.DiscordConfigs, a.discord)
	convertEach(add, src, "telegram_configs", r.Name, r.TelegramConfigs, a.telegram)
	convertEach(add, src, "mattermost_configs", r.Name, r.MattermostConfigs, a.mattermost)
	convertEach(add, src, "rocketchat_configs", r.Name, r.RocketchatConfigs, a.rocketchat)
	convertEach(add, src, "msteams_configs", r.Name, r.MSTeamsConfigs, a.msteamsV1)
	convertEach(add, src, "msteamsv2_configs", r.Name, r.MSTeamsV2Configs, a.msteamsV2)
	convertEach(add, src, "wechat_configs", r.Name, r.WechatConfigs, a.wechat)
	var kept []string
	un := r.Unsupported
	for _, k := range sortedKeys(un) {
		if un[k] == 0 {
			continue
		}
		kept = append(kept, k)
		a.note(fmt.Sprintf("receiver %q %s", r.Name, k), "", NotCarried, "", "the bridge has no %s target; keep it in Alertmanager", strings.TrimSuffix(k, "_configs"))
	}
	if len(made) == 0 && len(kept) == 0 {
		a.note(fmt.Sprintf("receiver %q", r.Name), "", NotCarried, "", "has no integrations (a receiver that drops alerts); nothing to carry")
		return
	}
	if len(made) == 0 {
		return
	}
	fmt.Fprintf(&a.snippet, "  - name: %q\n    webhook_configs:\n", r.Name)
	for _, t := range made {
		fmt.Fprintf(&a.snippet, "      - url: %s/webhook/%s\n        send_resolved: true\n", strings.TrimRight(a.opts.BridgeURL, "/"), t)
	}
	if len(kept) > 0 {
		fmt.Fprintf(&a.snippet, "    # keep from the original receiver: %s\n", strings.Join(kept, ", "))
	}
}

// base starts a target for an integration: name, type, send_resolved
// (Alertmanager's default differs per integration, the bridge's is true)
// and http_config.
func (a *amConv) base(src, receiver, kind, typ string, sendResolved bool) *outTarget {
	name := receiver
	if a.names[name] {
		name = receiver + "-" + kind
	}
	t := &outTarget{Name: a.targetName(name), Type: typ, Options: map[string]any{}}
	if !sendResolved {
		f := false
		t.SendResolved = &f
	}
	a.note(src, "", Imported, t.Name, "type %s", typ)
	return t
}

// message rewrites the template fields of an integration for a JSON body.
// It returns ok=false (after a note) when a field cannot be rewritten;
// the caller then keeps the bridge's preset.
func (a *amConv) message(src, target string, fields [][2]string) (map[string]string, bool) {
	out := map[string]string{}
	for _, f := range fields {
		s, err := a.rw.Rewrite(f[1])
		if err != nil {
			a.note(src, f[0], NotCarried, target, "%v; the bridge's preset message is used instead", err)
			return nil, false
		}
		out[f[0]] = s
	}
	return out, true
}

// customised reports whether any of the fields differs from its default.
func customised(pairs ...[2]string) bool {
	for _, p := range pairs {
		if p[0] != p[1] {
			return true
		}
	}
	return false
}

// convertEach converts every integration of one list of a receiver,
// naming each by its key and index, and adds what converts.
func convertEach[C any](add func(*outTarget), src func(string, int) string, key, receiver string, list []C, conv func(src, receiver string, c C) *outTarget) {
	for i, c := range list {
		add(conv(src(key, i), receiver, c))
	}
}
