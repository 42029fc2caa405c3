package importer

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// msteamsConfig is prometheus-msteams' config.yml: connectors, each a
// request path (the key) and an Office 365 connector URL, and connectors
// with their own MessageCard template.
type msteamsConfig struct {
	Connectors       []map[string]string `yaml:"connectors"`
	CustomTemplates  []msteamsCustom     `yaml:"connectors_with_custom_templates"`
	RequestPathLimit any                 `yaml:"request_path_limit"`
}

type msteamsCustom struct {
	RequestPath       string `yaml:"request_path"`
	TemplateFile      string `yaml:"template_file"`
	WebhookURL        string `yaml:"webhook_url"`
	EscapeUnderscores bool   `yaml:"escape_underscores"`
}

// msteams imports a prometheus-msteams config.yml: one teams target per
// connector. Office 365 connectors are retired, so each target needs a new
// Teams Workflows URL; MessageCard templates do not apply to the Adaptive
// Cards a workflow posts, so the bridge's Teams preset is used.
func (c *conv) msteams(path string, b []byte) error {
	c.source = filepath.Base(path)
	var cfg msteamsConfig
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("not a prometheus-msteams configuration: %w", err)
	}
	var snippet strings.Builder
	add := func(reqPath, url string) {
		src := fmt.Sprintf("connector %q", reqPath)
		if url == "" {
			c.note(src, "webhook_url", NotCarried, "", "has no URL")
			return
		}
		t := &outTarget{Name: c.targetName(strings.Trim(reqPath, "/")), Type: "teams", Options: map[string]any{}}
		t.URL = c.placeholder(t.Name, "URL", "a Teams Workflows webhook URL to create", teamsExample)
		c.add(t)
		c.note(src, "", Imported, t.Name, "type teams")
		c.note(src, "webhook_url", Todo, t.Name, "Office 365 connectors are retired: in the channel, create a workflow from \"Post to a channel when a webhook request is received\" and set %s to its URL", envName(t.Name, "URL"))
		fmt.Fprintf(&snippet, "#   http://prometheus-msteams:2000/%s  ->  %s/webhook/%s\n", strings.TrimLeft(reqPath, "/"), strings.TrimRight(c.opts.BridgeURL, "/"), t.Name)
	}
	for i, m := range cfg.Connectors {
		if len(m) != 1 {
			c.note(fmt.Sprintf("connectors[%d]", i), "", NotCarried, "", "expected one request path and its URL")
		}
		for _, k := range sortedKeys(m) {
			add(k, m[k])
		}
	}
	for _, x := range cfg.CustomTemplates {
		add(x.RequestPath, x.WebhookURL)
		src := fmt.Sprintf("connector %q", x.RequestPath)
		if x.TemplateFile != "" {
			c.note(src, "template_file", NotCarried, "", "a MessageCard template (Office 365 connectors); workflows post Adaptive Cards, so the bridge's Teams preset is used: re-create the card in a target template if the preset does not do")
		}
		if x.EscapeUnderscores {
			c.note(src, "escape_underscores", Differs, "", "the bridge escapes every value for Teams markdown itself")
		}
	}
	if cfg.RequestPathLimit != nil {
		c.note("request_path_limit", "", NotCarried, "", "the bridge has no equivalent")
	}
	if snippet.Len() > 0 {
		c.snippet = "# In Alertmanager's webhook_configs, replace the prometheus-msteams URLs:\n" + snippet.String()
	}
	return nil
}
