package importer

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"

	commoncfg "github.com/prometheus/common/config"
	yaml2 "go.yaml.in/yaml/v2"
	"go.yaml.in/yaml/v3"
)

// conv collects the output of one import.
type conv struct {
	opts    Options
	format  Format
	names   map[string]bool
	targets []*outTarget
	globs   []string
	files   map[string][]byte
	notes   []Note
	env     []EnvVar
	refs    []FileRef
	keys    []KeyRef
	snippet string
	source  string
}

func newConv(opts Options, f Format) *conv {
	return &conv{opts: opts, format: f, names: map[string]bool{}, files: map[string][]byte{}}
}

// outTarget is one target of the output, in the bridge's key order.
type outTarget struct {
	Name         string         `yaml:"name"`
	Type         string         `yaml:"type"`
	Description  string         `yaml:"description,omitempty"`
	URL          string         `yaml:"url,omitempty"`
	URLFile      string         `yaml:"url_file,omitempty"`
	Secret       string         `yaml:"secret,omitempty"`
	SecretFile   string         `yaml:"secret_file,omitempty"`
	Update       string         `yaml:"update,omitempty"`
	SendResolved *bool          `yaml:"send_resolved,omitempty"`
	MaxAlerts    int            `yaml:"max_alerts,omitempty"`
	Timeout      string         `yaml:"timeout,omitempty"`
	Options      map[string]any `yaml:",inline"`
	Mention      *outMention    `yaml:"mention,omitempty"`
	HTTPConfig   map[string]any `yaml:"http_config,omitempty"`
	Template     string         `yaml:"template,omitempty"`
}

type outMention struct {
	All      bool     `yaml:"all,omitempty"`
	Mobiles  []string `yaml:"mobiles,omitempty"`
	Resolved bool     `yaml:"resolved,omitempty"`
}

type outConfig struct {
	Templates []string     `yaml:"templates,omitempty"`
	Targets   []*outTarget `yaml:"targets"`
}

func (c *conv) note(source, field, kind, target, format string, args ...any) {
	c.notes = append(c.notes, Note{Source: source, Field: field, Kind: kind, Target: target, Text: fmt.Sprintf(format, args...)})
}

func (c *conv) add(t *outTarget) {
	if t.Options == nil {
		t.Options = map[string]any{}
	}
	c.targets = append(c.targets, t)
}

// envName is the variable that stands for an inline secret of a target.
func envName(target, what string) string {
	up := strings.ToUpper(target + "_" + what)
	var b strings.Builder
	b.WriteString("ALERTBRIDGE_")
	for _, r := range up {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

// secret returns how the output writes a secret value of the input:
// value itself with IncludeSecrets, else a ${VARIABLE} reference that
// Result.Env explains. An empty value stays empty.
func (c *conv) secret(target, what, value, meaning, example string) string {
	if value == "" {
		return ""
	}
	if c.opts.IncludeSecrets {
		return value
	}
	name := envName(target, what)
	c.env = append(c.env, EnvVar{Name: name, Target: target, Meaning: meaning, Example: example})
	return "${" + name + "}"
}

// placeholder is a ${VARIABLE} for a value the input does not have at all
// (a webhook URL the user must create).
func (c *conv) placeholder(target, what, meaning, example string) string {
	name := envName(target, what)
	c.env = append(c.env, EnvVar{Name: name, Target: target, Meaning: meaning, Example: example})
	return "${" + name + "}"
}

// fileRef records a file the output names and returns its path as
// written.
func (c *conv) fileRef(target, key, path, example string) string {
	p := c.rel(path)
	c.refs = append(c.refs, FileRef{Target: target, Key: key, Path: p, Example: example})
	return p
}

// keyRef records a key the output leaves empty for the user to fill in.
func (c *conv) keyRef(target, key, meaning, example string) {
	c.keys = append(c.keys, KeyRef{Target: target, Key: key, Meaning: meaning, Example: example})
}

// httpConfig converts an HTTP client configuration. It returns nil when
// it is Alertmanager's default. Inline secrets become *_file references
// (the bridge expands no variables there) unless IncludeSecrets is set.
func (c *conv) httpConfig(source, target string, hc *commoncfg.HTTPClientConfig) map[string]any {
	if hc == nil {
		return nil
	}
	def := commoncfg.DefaultHTTPClientConfig
	if reflect.DeepEqual(*hc, def) {
		return nil
	}
	old := commoncfg.MarshalSecretValue
	commoncfg.MarshalSecretValue = c.opts.IncludeSecrets
	b, err := yaml2.Marshal(hc)
	commoncfg.MarshalSecretValue = old
	if err != nil {
		c.note(source, "http_config", NotCarried, target, "cannot be written out: %v", err)
		return nil
	}
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil || m == nil {
		return nil
	}
	// Alertmanager's defaults; the bridge has its own (redirects not
	// followed unless asked for).
	if v, ok := m["follow_redirects"].(bool); ok && v {
		delete(m, "follow_redirects")
		c.note(source, "http_config.follow_redirects", Differs, target, "Alertmanager follows redirects by default, the bridge does not; set http_config.follow_redirects: true if the receiver redirects")
	}
	if v, ok := m["enable_http2"].(bool); ok && v {
		delete(m, "enable_http2")
	}
	c.secretFiles(source, target, "http_config", m)
	if len(m) == 0 {
		return nil
	}
	return m
}

// secretFiles replaces each hidden secret ("<secret>") in m by a *_file
// key naming a file the user creates.
func (c *conv) secretFiles(source, target, path string, m map[string]any) {
	for _, k := range sortedKeys(m) {
		switch v := m[k].(type) {
		case map[string]any:
			c.secretFiles(source, target, path+"."+k, v)
		case string:
			if v != "<secret>" {
				continue
			}
			delete(m, k)
			file := "secrets/" + target + "." + strings.ReplaceAll(path+"."+k, "http_config.", "")
			m[k+"_file"] = file
			c.refs = append(c.refs, FileRef{Target: target, Key: path + "." + k + "_file", Path: file, Example: "secret", Create: true})
			c.note(source, path+"."+k, Todo, target, "secret left out: write it to %s (or import with --include-secrets)", file)
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// result assembles the output.
func (c *conv) result() (*Result, error) {
	out := outConfig{Templates: c.globs, Targets: c.targets}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# alertbridge configuration imported from %s (%s) by `alertbridge import`.\n", c.source, c.format)
	if len(c.env) > 0 {
		buf.WriteString("# Set these environment variables before starting the bridge:\n")
		for _, e := range c.env {
			fmt.Fprintf(&buf, "#   %s: %s\n", e.Name, e.Meaning)
		}
	}
	if len(c.keys) > 0 {
		buf.WriteString("# Fill in these keys, left empty, before starting the bridge:\n")
		for _, k := range c.keys {
			fmt.Fprintf(&buf, "#   %s of target %s: %s\n", k.Key, k.Target, k.Meaning)
		}
	}
	buf.WriteString("\n")
	if len(c.targets) > 0 {
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(out); err != nil {
			return nil, err
		}
		if err := enc.Close(); err != nil {
			return nil, err
		}
	}
	return &Result{
		Format: c.format, Config: buf.Bytes(), Files: c.files, Notes: c.notes,
		Env: c.env, FileRefs: c.refs, Keys: c.keys, Snippet: c.snippet, Targets: len(c.targets),
	}, nil
}
