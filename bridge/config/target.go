package config

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// Target is one destination.
type Target struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	Description string `yaml:"description"`
	// Enabled defaults to true.
	Enabled *bool `yaml:"enabled"`
	// URL is the webhook URL (it carries credentials); or URLFile, read at
	// load time.
	URL     commoncfg.Secret `yaml:"url"`
	URLFile string           `yaml:"url_file"`
	// Secret is the signing secret; or SecretFile.
	Secret     commoncfg.Secret `yaml:"secret"`
	SecretFile string           `yaml:"secret_file"`
	// Match lists Alertmanager matchers; all must hold for an alert to
	// select the target.
	Match []string `yaml:"match"`
	// SendResolved defaults to true; false drops resolved alerts.
	SendResolved *bool `yaml:"send_resolved"`
	// MaxAlerts caps the alerts in one message (0: no cap).
	MaxAlerts int `yaml:"max_alerts"`
	// Dialect is the template vocabulary: alertmanager (default),
	// hertzbeat, api7, coroot or ammds.
	Dialect string `yaml:"dialect"`
	// Template is the body template text; or TemplateFile.
	Template     string `yaml:"template"`
	TemplateFile string `yaml:"template_file"`
	// Headers are extra request headers; values are templates.
	Headers    map[string]string          `yaml:"headers"`
	HTTPConfig commoncfg.HTTPClientConfig `yaml:"http_config"`
	Timeout    model.Duration             `yaml:"timeout"`
	Retry      *Retry                     `yaml:"retry"`
	// MaxInFlight bounds concurrent attempts to this target (default
	// global.max_in_flight).
	MaxInFlight int            `yaml:"max_in_flight"`
	Verify      *notify.Verify `yaml:"verify"`
	// RateLimit caps requests to the target; nil means unlimited.
	RateLimit *notify.RateLimit `yaml:"rate_limit"`
	// Update is what a later notification of a group does with the
	// messages an earlier one posted: edit, reply or new (default: the
	// type's, new for a type that cannot change its messages).
	Update notify.Update `yaml:"update"`

	// Extra holds the type-specific keys, decoded into Options.
	Extra map[string]any `yaml:",inline"`

	// Set by Load:
	Matchers labels.Matchers `yaml:"-"`
	// Options is the decoded type-specific options struct (or nil).
	Options any `yaml:"-"`
	// BodyText is the body template from Template or TemplateFile.
	BodyText string `yaml:"-"`
	// invalid is set when validation found a problem in the target.
	invalid bool
	// TemplateLine is the line of the configuration file where an inline
	// template's first line is (0 when unknown), so errors can name it.
	TemplateLine int `yaml:"-"`
	// TextBody is set when a Content-Type header names a media type other
	// than JSON: the body is sent as rendered, neither JSON-escaped nor
	// checked to be JSON.
	TextBody bool `yaml:"-"`
	// urlKeySet and secretKeySet record that url (or url_file) and secret
	// (or secret_file) are written in the file, even as "": then an empty
	// value is an error (see credentialOrFile).
	urlKeySet, secretKeySet bool
}

// UnmarshalYAML applies the defaults a target starts from: HTTP/2 on, and
// redirects not followed (a redirect could carry the body and its
// signature to a host the user never configured; set
// http_config.follow_redirects to allow them).
func (t *Target) UnmarshalYAML(node *yaml.Node) error {
	type plain Target
	*t = Target{HTTPConfig: commoncfg.DefaultHTTPClientConfig}
	if err := node.Decode((*plain)(t)); err != nil {
		return err
	}
	// HTTPClientConfig resets itself to Prometheus' defaults (redirects
	// followed) when present, so apply ours unless the key is set.
	if !hasKey(node, "http_config", "follow_redirects") {
		t.HTTPConfig.FollowRedirects = false
	}
	// secret: "" (or url: "") written out is set but empty, an error.
	t.urlKeySet = hasKey(node, "url") || hasKey(node, "url_file")
	t.secretKeySet = hasKey(node, "secret") || hasKey(node, "secret_file")
	return nil
}

// hasKey reports whether the mapping node has the nested key path.
func hasKey(n *yaml.Node, path ...string) bool {
	for _, key := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// IsEnabled reports whether the target takes deliveries.
func (t *Target) IsEnabled() bool { return t.Enabled == nil || *t.Enabled }

// SendsResolved reports whether resolved alerts go to the target.
func (t *Target) SendsResolved() bool { return t.SendResolved == nil || *t.SendResolved }

var (
	nameRE   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	headerRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
)

// commonKeys are the target keys every type shares; the rest belong to the
// type.
var commonKeys = func() map[string]bool {
	f, _ := yamlFields(reflect.TypeOf(Target{}))
	m := map[string]bool{}
	for k := range f {
		m[k] = true
	}
	return m
}()

// load makes a decoded target ready for the runtime: resolve reads what it
// names and derives what the runtime needs, validate checks it without
// changing it, and applyDefaults fills in what is not set.
func (t *Target) load(path string, c *Config, node *yaml.Node) error {
	in, canonical, known := registry.Lookup(t.Type)
	if known {
		t.Type = canonical
	}
	errs := t.resolve(path, c, node, in, known)
	errs = append(errs, t.validate(path, &c.Global, in, known)...)
	t.applyDefaults(&c.Global, in)
	return errors.Join(errs...)
}

// resolve decodes the type's own keys into Options, resolves the url and
// secret (inline with ${ENV} expanded, or from their files; the url is
// checked here, its errors never quoting it), parses the matchers, reads
// the body template, and derives TextBody and http_config's folder.
func (t *Target) resolve(path string, c *Config, node *yaml.Node, in registry.Integration, known bool) []error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	if known {
		if err := t.decodeOptions(path, in, node); err != nil {
			errs = append(errs, err)
		}
	}
	rawURL, err := credentialOrFile(string(t.URL), t.URLFile, c.Dir, t.urlKeySet)
	switch {
	case err != nil:
		fail("url", "%v", err)
	case rawURL == "":
		fail("url", "required (url or url_file)")
	default:
		if err := checkHTTPURL(rawURL); err != nil {
			fail("url", "%v", err)
		} else if known && in.CheckURL != nil {
			if u, _ := url.Parse(rawURL); u != nil {
				if err := in.CheckURL(u); err != nil {
					fail("url", "%v", err)
				}
			}
		}
		t.URL = commoncfg.Secret(rawURL)
	}
	secret, err := credentialOrFile(string(t.Secret), t.SecretFile, c.Dir, t.secretKeySet)
	if err != nil {
		fail("secret", "%v", err)
	}
	t.Secret = commoncfg.Secret(secret)
	t.Matchers = nil
	for j, m := range t.Match {
		parsed, err := parse.Matcher(m)
		if err != nil {
			fail(fmt.Sprintf("match[%d]", j), "%q: %v", m, err)
			continue
		}
		t.Matchers = append(t.Matchers, parsed)
	}
	switch {
	case t.Template != "" && t.TemplateFile != "":
		// Refused by validate.
	case t.TemplateFile != "":
		b, err := os.ReadFile(resolve(c.Dir, t.TemplateFile))
		if err != nil {
			fail("template_file", "%v", err)
		}
		t.BodyText = string(b)
	default:
		t.BodyText = t.Template
		t.TemplateLine = valueLine(node, "template")
	}
	t.TextBody = textContentType(t.Headers)
	t.HTTPConfig.SetDirectory(c.Dir)
	return errs
}

// validate checks the resolved target, with the defaults of the keys not
// set; it changes nothing.
func (t *Target) validate(path string, g *Global, in registry.Integration, known bool) []error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s", path, field, fmt.Sprintf(format, args...)))
	}
	switch {
	case t.Name == "":
		fail("name", "required")
	case !nameRE.MatchString(t.Name):
		fail("name", "%q must be URL-safe: letters, digits, '_', '.', '-', starting with a letter or digit", t.Name)
	}
	switch {
	case t.Type == "":
		fail("type", "required (one of %s)", strings.Join(registry.Types(), ", "))
	case !known:
		fail("type", "unknown type %q (one of %s)", t.Type, strings.Join(registry.Types(), ", "))
	}
	if t.Secret != "" && known && !in.Signs && in.CheckTarget == nil && !dialect.Signs(t.Dialect) {
		fail("secret", "type %s does not sign requests, so a secret would be ignored; the credential is in the url", t.Type)
	}
	if t.MaxAlerts < 0 {
		fail("max_alerts", "must not be negative")
	}
	if t.Template != "" && t.TemplateFile != "" {
		fail("template", "set template or template_file, not both")
	}
	switch {
	case t.Dialect == "" || t.Dialect == dialect.Alertmanager:
	case !slices.Contains(dialect.Names(), t.Dialect):
		fail("dialect", "unknown dialect %q (one of %s)", t.Dialect, strings.Join(dialect.Names(), ", "))
	case known && !in.Generic && t.BodyText == "":
		fail("template", "required with dialect %s for type %s: its presets speak the alertmanager dialect (or use type webhook, whose preset sends the dialect's data as JSON)", t.Dialect, t.Type)
	}
	if len(t.Headers) > 0 && known && !in.Generic {
		fail("headers", "type %s sends its platform's headers only; custom headers need type webhook (static ones: http_config.http_headers)", t.Type)
	}
	for h := range t.Headers {
		if !headerRE.MatchString(h) {
			fail("headers", "%q is not a valid header name", h)
		}
		if strings.EqualFold(h, "Host") || strings.EqualFold(h, "Content-Length") {
			fail("headers", "%q is set by the bridge", h)
		}
	}
	if err := t.HTTPConfig.Validate(); err != nil {
		fail("http_config", "%v", err)
	}
	if t.Timeout < 0 {
		fail("timeout", "must not be negative")
	}
	if err := t.retryWithDefaults(g).validate(path + ".retry"); err != nil {
		errs = append(errs, err)
	}
	if t.Update != "" && known && !in.SupportsUpdate(t.Update) {
		fail("update", "%q is not an update mode of type %s: %s", t.Update, t.Type, in.UpdateModes())
	}
	if known && in.CheckTarget != nil && t.Options != nil {
		u, _ := url.Parse(string(t.URL))
		if u != nil && u.Host == "" {
			u = nil
		}
		if err := in.CheckTarget(registry.Target{URL: u, Secret: t.Secret != "", Update: t.Update, Options: t.Options}); err != nil {
			errs = append(errs, prefixErrors(path+".", err))
		}
	}
	if t.MaxInFlight != 0 { // else global.max_in_flight, validated with global
		if err := validateMaxInFlight(path+".max_in_flight", t.MaxInFlight); err != nil {
			errs = append(errs, err)
		}
	}
	if rl := t.rateLimitWithDefaults(in); rl != nil {
		if rl.Requests < 1 {
			fail("rate_limit.requests", "must be at least 1")
		}
		if rl.Interval <= 0 {
			fail("rate_limit.interval", "must be positive")
		}
		if rl.Burst < 0 {
			fail("rate_limit.burst", "must not be negative")
		}
	}
	if t.Verify != nil {
		for j, code := range t.Verify.Status {
			if code < 100 || code > 599 {
				fail(fmt.Sprintf("verify.status[%d]", j), "%d is not an HTTP status code", code)
			}
		}
	}
	return errs
}

// textContentType reports whether headers set a Content-Type other than
// JSON (application/json or any +json type). A value with template actions
// counts as JSON.
func textContentType(headers map[string]string) bool {
	for h, v := range headers {
		if !strings.EqualFold(h, "Content-Type") {
			continue
		}
		mt, _, err := mime.ParseMediaType(v)
		return err == nil && mt != "application/json" && !strings.HasSuffix(mt, "+json")
	}
	return false
}

// decodeOptions decodes the keys a target does not share with every type
// into the type's own options struct, rejecting keys the type lacks.
func (t *Target) decodeOptions(path string, in registry.Integration, node *yaml.Node) error {
	t.Options = nil
	var extra yaml.Node
	extra.Kind = yaml.MappingNode
	if node != nil {
		for i := 0; i+1 < len(node.Content); i += 2 {
			if !commonKeys[node.Content[i].Value] {
				extra.Content = append(extra.Content, node.Content[i], node.Content[i+1])
			}
		}
	}
	if in.Options == nil {
		var errs []error
		for i := 0; i < len(extra.Content); i += 2 {
			k := extra.Content[i]
			errs = append(errs, fmt.Errorf("%s.%s: unknown field for type %s (line %d)", path, k.Value, t.Type, k.Line))
		}
		return errors.Join(errs...)
	}
	opts := in.Options()
	errs := unknownKeys(&extra, reflect.TypeOf(opts), path)
	errs = append(errs, badValues(&extra, reflect.TypeOf(opts), path)...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	if err := extra.Decode(opts); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if v, ok := opts.(interface{ Validate() error }); ok {
		if err := v.Validate(); err != nil {
			return prefixErrors(path+".", err)
		}
	}
	t.Options = opts
	return nil
}

// prefixErrors puts prefix before each error of a joined error (options'
// Validate methods name their fields relative to the target).
func prefixErrors(prefix string, err error) error {
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			errs = append(errs, prefixErrors(prefix, e))
		}
		return errors.Join(errs...)
	}
	return fmt.Errorf("%s%w", prefix, err)
}
