package importer

import (
	_ "embed"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template/parse"

	"go.yaml.in/yaml/v3"
)

// dingtalkCompat defines prometheus-webhook-dingtalk's template names
// (ding.link.*, default.*, legacy.*, __subject, ...) for the bridge.
//
//go:embed dingtalk_compat.tmpl
var dingtalkCompat string

// DingTalkTemplatesFile is the template file a dingtalk import writes
// next to the configuration.
const DingTalkTemplatesFile = "dingtalk-templates.tmpl"

// The message prometheus-webhook-dingtalk sends when a target sets none.
const (
	dingDefaultTitle = `{{ template "ding.link.title" . }}`
	dingDefaultText  = `{{ template "ding.link.content" . }}`
)

// dingConfig is prometheus-webhook-dingtalk's config.yml (v2).
type dingConfig struct {
	NoBuiltinTemplate bool                  `yaml:"no_builtin_template"`
	Template          string                `yaml:"template"`
	Templates         []string              `yaml:"templates"`
	DefaultMessage    *dingMessage          `yaml:"default_message"`
	Timeout           string                `yaml:"timeout"`
	Targets           map[string]dingTarget `yaml:"targets"`
}

type dingTarget struct {
	URL     string `yaml:"url"`
	Secret  string `yaml:"secret"`
	Mention *struct {
		All     bool     `yaml:"all"`
		Mobiles []string `yaml:"mobiles"`
	} `yaml:"mention"`
	Message *dingMessage `yaml:"message"`
}

type dingMessage struct {
	Title *string `yaml:"title"`
	Text  *string `yaml:"text"`
}

// dingFuncs renames that bridge's function names to the bridge's
// equivalents: its "markdown" escapes only _ * and `, as markdownBasic
// does; upper and lower are sprig's.
var dingFuncs = map[string]string{"markdown": "markdownBasic", "upper": "toUpper", "lower": "toLower"}

// dingtalk imports a prometheus-webhook-dingtalk config.yml: one dingtalk
// target per target, sending markdown messages built from the same title
// and text templates, and the template file those need.
func (c *conv) dingtalk(path string, b []byte) error {
	c.source = filepath.Base(path)
	var cfg dingConfig
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&cfg); err != nil {
		return fmt.Errorf("not a prometheus-webhook-dingtalk configuration: %w", err)
	}
	dir := filepath.Dir(path)
	var tmpl strings.Builder
	tmpl.WriteString("{{/* Written by `alertbridge import` from " + c.source + ". */}}\n")
	if cfg.NoBuiltinTemplate {
		c.note("no_builtin_template", "", Differs, "", "the built-in template names are provided anyway; your templates replace them where they define the same names")
	}
	tmpl.WriteString(dingtalkCompat)
	globs := cfg.Templates
	if cfg.Template != "" {
		globs = append(globs, cfg.Template)
	}
	for _, g := range globs {
		c.dingTemplates(&tmpl, dir, g)
	}
	def := dingMessage{Title: ptr(dingDefaultTitle), Text: ptr(dingDefaultText)}
	if cfg.DefaultMessage != nil {
		def = mergeMessage(def, cfg.DefaultMessage)
	}
	for _, name := range sortedKeys(cfg.Targets) {
		c.dingTarget(&tmpl, name, cfg.Targets[name], def)
	}
	if cfg.Timeout != "" {
		c.note("timeout", "", Differs, "", "the bridge bounds each attempt with global.timeout (default 10s) and retries")
	}
	c.files[DingTalkTemplatesFile] = []byte(tmpl.String())
	c.globs = []string{DingTalkTemplatesFile}
	return nil
}

func ptr(s string) *string { return &s }

// mergeMessage fills the fields m leaves out from def, as that bridge
// does (an unset field keeps its default).
func mergeMessage(def dingMessage, m *dingMessage) dingMessage {
	if m.Title != nil {
		def.Title = m.Title
	}
	if m.Text != nil {
		def.Text = m.Text
	}
	return def
}

// dingTemplates copies the defines of the user's template files into the
// output file, with that bridge's function names renamed.
func (c *conv) dingTemplates(out *strings.Builder, dir, glob string) {
	if !filepath.IsAbs(glob) {
		glob = filepath.Join(dir, glob)
	}
	files, err := filepath.Glob(glob)
	if err != nil || len(files) == 0 {
		c.note("templates", glob, NotCarried, "", "matches no file")
		return
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			c.note("templates", c.rel(f), NotCarried, "", "cannot read: %v", err)
			continue
		}
		trees, err := parseText(f, string(b))
		if err != nil {
			c.note("templates", c.rel(f), NotCarried, "", "does not parse: %v", err)
			continue
		}
		fmt.Fprintf(out, "\n{{/* from %s */}}\n", filepath.Base(f))
		for _, name := range sortedKeys(trees) {
			if name == f {
				continue
			}
			c.renameFuncs(trees[name].Root, c.rel(f))
			fmt.Fprintf(out, "{{ define %q }}%s{{ end }}\n", name, trees[name].Root.String())
		}
	}
}

// renameFuncs rewrites function names in a template tree to the
// bridge's, and notes sprig functions the bridge does not have.
func (c *conv) renameFuncs(n parse.Node, file string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, x := range n.Nodes {
			c.renameFuncs(x, file)
		}
	case *parse.ActionNode:
		c.renameFuncs(n.Pipe, file)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, cmd := range n.Cmds {
			for _, arg := range cmd.Args {
				c.renameFuncs(arg, file)
			}
		}
	case *parse.IdentifierNode:
		if to, ok := dingFuncs[n.Ident]; ok {
			n.Ident = to
		}
	case *parse.IfNode:
		c.renameFuncs(n.Pipe, file)
		c.renameFuncs(n.List, file)
		c.renameFuncs(n.ElseList, file)
	case *parse.RangeNode:
		c.renameFuncs(n.Pipe, file)
		c.renameFuncs(n.List, file)
		c.renameFuncs(n.ElseList, file)
	case *parse.WithNode:
		c.renameFuncs(n.Pipe, file)
		c.renameFuncs(n.List, file)
		c.renameFuncs(n.ElseList, file)
	case *parse.TemplateNode:
		c.renameFuncs(n.Pipe, file)
	}
}

// dingBody is the markdown message that bridge sends: title, text, and
// the at block when the target mentions anyone.
const dingBody = `{"msgtype": "markdown", "markdown": {"title": "{{ include %q . }}", "text": "{{ include %q . }}"}{{ if .Mentions.Any }},
 "at": {"isAtAll": {{ .Mentions.All }}, "atMobiles": {{ json (or .Mentions.Mobiles (stringSlice)) }}}{{ end }}}
`

func (c *conv) dingTarget(tmpl *strings.Builder, name string, t dingTarget, def dingMessage) {
	src := fmt.Sprintf("target %q", name)
	if t.URL == "" {
		c.note(src, "url", NotCarried, "", "has no url")
		return
	}
	out := &outTarget{Name: c.targetName(name), Type: "dingtalk", Options: map[string]any{}}
	out.URL = c.secret(out.Name, "URL", t.URL, "the robot's webhook URL", "https://oapi.dingtalk.com/robot/send?access_token=abc")
	out.Secret = c.secret(out.Name, "SECRET", t.Secret, "the robot's signing secret", "SEC000")
	if t.Mention != nil && (t.Mention.All || len(t.Mention.Mobiles) > 0) {
		out.Mention = &outMention{All: t.Mention.All, Mobiles: t.Mention.Mobiles, Resolved: true}
		if len(t.Mention.Mobiles) > 0 {
			c.note(src, "mention.mobiles", Differs, out.Name, "as before, the at block names the phone numbers and the text does not add @ them; resolved messages mention too")
		}
	}
	msg := def
	if t.Message != nil {
		msg = mergeMessage(def, t.Message)
	}
	title, text := "ding.link.title", "ding.link.content"
	if *msg.Title != dingDefaultTitle && c.dingDefine(tmpl, "alertbridge.import."+out.Name+".title", *msg.Title, src) {
		title = "alertbridge.import." + out.Name + ".title"
	}
	if *msg.Text != dingDefaultText && c.dingDefine(tmpl, "alertbridge.import."+out.Name+".text", *msg.Text, src) {
		text = "alertbridge.import." + out.Name + ".text"
	}
	out.Template = fmt.Sprintf(dingBody, title, text)
	c.add(out)
	c.note(src, "", Imported, out.Name, "type dingtalk, markdown from %s and %s", title, text)
}

// dingDefine writes a target's message template as a named template; it
// reports false (after a note) when the text is not one template.
func (c *conv) dingDefine(out *strings.Builder, name, text, src string) bool {
	trees, err := parseText(name, text)
	if err != nil || len(trees) != 1 || trees[name] == nil {
		if err == nil {
			err = fmt.Errorf("a message cannot {{ define }} templates")
		}
		c.note(src, "message", NotCarried, "", "%v; the default message is used", err)
		return false
	}
	c.renameFuncs(trees[name].Root, src)
	fmt.Fprintf(out, "{{ define %q }}%s{{ end }}\n", name, trees[name].Root.String())
	return true
}
