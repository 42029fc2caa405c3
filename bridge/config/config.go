// Package config holds the YAML configuration: types, defaults, strict
// decoding (an unknown key is an error naming its path and line) and
// validation with field paths. Every exported type validates itself; Load
// returns a Config that is ready to build a runtime from.
package config

import (
	"errors"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"gopkg.in/yaml.v3"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// Config is the whole configuration file.
type Config struct {
	Global    Global    `yaml:"global"`
	Inbound   Inbound   `yaml:"inbound"`
	API       API       `yaml:"api"`
	Templates []string  `yaml:"templates"`
	Targets   []*Target `yaml:"targets"`
	// Watchdog is the alert pipeline's heartbeat check; nil: none.
	Watchdog *Watchdog `yaml:"watchdog,omitempty"`

	// Dir is the folder relative paths resolve against (the file's folder).
	Dir string `yaml:"-"`
	// Location is the parsed global.timezone.
	Location *time.Location `yaml:"-"`
}

// Global holds settings every target inherits.
type Global struct {
	// Timeout bounds one delivery attempt.
	Timeout model.Duration `yaml:"timeout"`
	Retry   Retry          `yaml:"retry"`
	// MaxInFlight bounds the delivery attempts in flight to one target
	// (still one at a time per alert group).
	MaxInFlight int `yaml:"max_in_flight"`
	// Timezone is an IANA name for rendered times; default UTC.
	Timezone string `yaml:"timezone"`
	// ExternalURL replaces the Alertmanager externalURL in links.
	ExternalURL string `yaml:"external_url"`
	// SeverityLabel is the label priorities are read from.
	SeverityLabel string `yaml:"severity_label"`
	// Priorities maps severity values to HertzBeat priorities (0, 1, 2),
	// merged over the built-in map.
	Priorities map[string]int `yaml:"priorities"`
	// DedupWindow is how long an identical notification (an Alertmanager
	// retry, or the same group from an HA peer) is recognised and
	// delivered only once. Keep it below your shortest repeat_interval:
	// the default (30s) lets repeats of a 1m repeat_interval through.
	DedupWindow model.Duration `yaml:"dedup_window"`
	// AlertRetention is how long the bridge remembers an alert after a
	// notification last carried it: its counters (times, gmtCreate) and
	// its alert center entry.
	AlertRetention model.Duration `yaml:"alert_retention"`
}

// Retry is the retry schedule: exponential backoff from Interval, doubling,
// capped at MaxInterval, with jitter, until MaxAge after the notification
// arrived, and for at most Attempts attempts when Attempts is set (0: no
// limit but MaxAge).
type Retry struct {
	Attempts    int            `yaml:"attempts"`
	Interval    model.Duration `yaml:"interval"`
	MaxInterval model.Duration `yaml:"max_interval"`
	MaxAge      model.Duration `yaml:"max_age"`
}

// RateLimit is a token bucket: Requests per Interval, bursts up to Burst
// (default Requests).
type RateLimit struct {
	Requests int            `yaml:"requests"`
	Interval model.Duration `yaml:"interval"`
	Burst    int            `yaml:"burst"`
}

// Verify is a success check on a target's responses.
type Verify struct {
	Status       []int  `yaml:"status"`
	BodyContains string `yaml:"body_contains"`
}

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
	MaxInFlight int     `yaml:"max_in_flight"`
	Verify      *Verify `yaml:"verify"`
	// RateLimit caps requests to the target; nil means unlimited.
	RateLimit *RateLimit `yaml:"rate_limit"`

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
	// urlKeySet and secretKeySet record that url (or url_file) and secret
	// (or secret_file) are written in the file, even as "": then an empty
	// value is an error (see credentialOrFile).
	urlKeySet, secretKeySet bool
	// TemplateLine is the line of the configuration file where an inline
	// template's first line is (0 when unknown), so errors can name it.
	TemplateLine int `yaml:"-"`
	// TextBody is set when a Content-Type header names a media type other
	// than JSON: the body is sent as rendered, neither JSON-escaped nor
	// checked to be JSON.
	TextBody bool `yaml:"-"`
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

// Defaults.
var (
	DefaultTimeout = model.Duration(10 * time.Second)
	// DefaultRetry retries by time, not count: until max_age, backing off
	// up to 5m between attempts.
	DefaultRetry = Retry{Interval: model.Duration(time.Second), MaxInterval: model.Duration(5 * time.Minute), MaxAge: model.Duration(6 * time.Hour)}
	// DefaultDedup recognises Alertmanager's retries and HA copies (seconds
	// apart) but not its repeats (repeat_interval is at least 1m).
	DefaultDedup = model.Duration(30 * time.Second)
	// DefaultMaxInFlight lets a target answering in 200 ms take over 300
	// notifications a second.
	DefaultMaxInFlight = 128
	// MaxMaxInFlight bounds max_in_flight.
	MaxMaxInFlight = 1024
	// DefaultAlertRetention is global.alert_retention when unset.
	DefaultAlertRetention = model.Duration(7 * 24 * time.Hour)
	// MinAlertRetention is the shortest global.alert_retention: a shorter
	// one would forget steadily firing alerts between Alertmanager's
	// repeat notifications.
	MinAlertRetention = model.Duration(time.Hour)
)

// Load reads, decodes and validates a configuration file.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg, err := Parse(b, filepath.Dir(abs))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Parse decodes and validates configuration bytes; dir is the folder
// relative paths resolve against.
func Parse(b []byte, dir string) (*Config, error) {
	cfg, errs := parseAll(b, dir)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// targetNodes returns the YAML nodes of the targets list, for
// type-specific decoding with line numbers.
func targetNodes(doc *yaml.Node) []*yaml.Node {
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "targets" && root.Content[i+1].Kind == yaml.SequenceNode {
			return root.Content[i+1].Content
		}
	}
	return nil
}

func (c *Config) validate(nodes []*yaml.Node) error {
	var errs []error
	if err := c.Global.validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Inbound.validate(c.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := c.API.validate(c.Dir, &c.Inbound); err != nil {
		errs = append(errs, err)
	}
	loc, err := time.LoadLocation(c.Global.Timezone)
	if err != nil {
		errs = append(errs, fmt.Errorf("global.timezone: %w", err))
	}
	c.Location = loc
	for i, g := range c.Templates {
		if !filepath.IsAbs(g) {
			c.Templates[i] = filepath.Join(c.Dir, g)
		}
		if _, err := filepath.Glob(c.Templates[i]); err != nil {
			errs = append(errs, fmt.Errorf("templates[%d]: %w", i, err))
		}
	}
	if len(c.Targets) == 0 {
		errs = append(errs, errors.New("targets: at least one target is required"))
	}
	seen := map[string]int{}
	for i, t := range c.Targets {
		path := fmt.Sprintf("targets[%d]", i)
		if t == nil {
			errs = append(errs, fmt.Errorf("%s: empty target", path))
			continue
		}
		if t.Name != "" {
			path = fmt.Sprintf("targets[%d] (%s)", i, t.Name)
			if j, dup := seen[t.Name]; dup {
				errs = append(errs, fmt.Errorf("%s.name: %q is already used by targets[%d]", path, t.Name, j))
			}
			seen[t.Name] = i
		}
		var node *yaml.Node
		if i < len(nodes) {
			node = nodes[i]
		}
		if err := t.validate(path, c, node); err != nil {
			errs = append(errs, err)
			t.invalid = true
		}
	}
	if err := c.Watchdog.validate(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func (g *Global) validate() error {
	var errs []error
	if g.Timeout == 0 {
		g.Timeout = DefaultTimeout
	}
	if g.Timeout < 0 {
		errs = append(errs, errors.New("global.timeout: must be positive"))
	}
	g.Retry = g.Retry.withDefaults(DefaultRetry)
	if err := g.Retry.validate("global.retry"); err != nil {
		errs = append(errs, err)
	}
	if g.MaxInFlight == 0 {
		g.MaxInFlight = DefaultMaxInFlight
	}
	if err := validateMaxInFlight("global.max_in_flight", g.MaxInFlight); err != nil {
		errs = append(errs, err)
	}
	if g.Timezone == "" {
		g.Timezone = "UTC"
	}
	if g.ExternalURL != "" {
		if err := checkHTTPURL(g.ExternalURL); err != nil {
			errs = append(errs, fmt.Errorf("global.external_url: %w", err))
		}
	}
	if g.DedupWindow == 0 {
		g.DedupWindow = DefaultDedup
	}
	if g.DedupWindow < 0 {
		errs = append(errs, errors.New("global.dedup_window: must not be negative"))
	}
	if g.AlertRetention == 0 {
		g.AlertRetention = DefaultAlertRetention
	}
	if g.AlertRetention < MinAlertRetention {
		errs = append(errs, fmt.Errorf("global.alert_retention: must be at least %s", MinAlertRetention))
	}
	if g.SeverityLabel == "" {
		g.SeverityLabel = "severity"
	}
	prios := alert.DefaultPriorities()
	for k, v := range g.Priorities {
		if v < alert.PriorityHigh || v > alert.PriorityLow {
			errs = append(errs, fmt.Errorf("global.priorities.%s: %d is not a priority (0 high, 1 medium, 2 low)", k, v))
		}
		prios[strings.ToLower(k)] = v
	}
	g.Priorities = prios
	return errors.Join(errs...)
}

func (r Retry) withDefaults(d Retry) Retry {
	if r.Attempts == 0 {
		r.Attempts = d.Attempts
	}
	if r.Interval == 0 {
		r.Interval = d.Interval
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = d.MaxInterval
	}
	if r.MaxAge == 0 {
		r.MaxAge = d.MaxAge
	}
	return r
}

func (r Retry) validate(path string) error {
	var errs []error
	if r.Attempts < 0 {
		errs = append(errs, fmt.Errorf("%s.attempts: must not be negative (0: retry until max_age)", path))
	}
	if r.Interval <= 0 {
		errs = append(errs, fmt.Errorf("%s.interval: must be positive", path))
	}
	if r.MaxInterval < r.Interval {
		errs = append(errs, fmt.Errorf("%s.max_interval: must not be below interval (%s)", path, r.Interval))
	}
	if r.MaxAge < r.Interval {
		errs = append(errs, fmt.Errorf("%s.max_age: must not be below interval (%s)", path, r.Interval))
	}
	return errors.Join(errs...)
}

func validateMaxInFlight(path string, n int) error {
	if n < 1 || n > MaxMaxInFlight {
		return fmt.Errorf("%s: must be between 1 and %d", path, MaxMaxInFlight)
	}
	return nil
}

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

func (t *Target) validate(path string, c *Config, node *yaml.Node) error {
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
	in, canonical, ok := registry.Lookup(t.Type)
	switch {
	case t.Type == "":
		fail("type", "required (one of %s)", strings.Join(registry.Types(), ", "))
	case !ok:
		fail("type", "unknown type %q (one of %s)", t.Type, strings.Join(registry.Types(), ", "))
	default:
		t.Type = canonical
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
		} else if ok && in.CheckURL != nil {
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
	if secret != "" && ok && !in.Signs && t.Dialect != alert.DialectAMMDS {
		fail("secret", "type %s does not sign requests, so a secret would be ignored; the credential is in the url", t.Type)
	}

	t.Matchers = nil
	for j, m := range t.Match {
		parsed, err := parse.Matcher(m)
		if err != nil {
			fail(fmt.Sprintf("match[%d]", j), "%q: %v", m, err)
			continue
		}
		t.Matchers = append(t.Matchers, parsed)
	}
	if t.MaxAlerts < 0 {
		fail("max_alerts", "must not be negative")
	}
	switch {
	case t.Template != "" && t.TemplateFile != "":
		fail("template", "set template or template_file, not both")
	case t.TemplateFile != "":
		p := resolve(c.Dir, t.TemplateFile)
		b, err := os.ReadFile(p)
		if err != nil {
			fail("template_file", "%v", err)
		}
		t.BodyText = string(b)
	default:
		t.BodyText = t.Template
		t.TemplateLine = valueLine(node, "template")
	}
	switch {
	case t.Dialect == "":
		t.Dialect = alert.DialectAlertmanager
	case !slices.Contains(alert.Dialects(), t.Dialect):
		fail("dialect", "unknown dialect %q (one of %s)", t.Dialect, strings.Join(alert.Dialects(), ", "))
	case t.Dialect != alert.DialectAlertmanager && ok && !in.Generic && t.BodyText == "":
		fail("template", "required with dialect %s for type %s: its presets speak the alertmanager dialect (or use type webhook, whose preset sends the dialect's data as JSON)", t.Dialect, t.Type)
	}
	if len(t.Headers) > 0 && ok && !in.Generic {
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
	t.TextBody = textContentType(t.Headers)
	t.HTTPConfig.SetDirectory(c.Dir)
	if err := t.HTTPConfig.Validate(); err != nil {
		fail("http_config", "%v", err)
	}
	if t.Timeout < 0 {
		fail("timeout", "must not be negative")
	}
	if t.Timeout == 0 {
		t.Timeout = c.Global.Timeout
	}
	if t.Retry == nil {
		t.Retry = &Retry{}
	}
	*t.Retry = t.Retry.withDefaults(c.Global.Retry)
	if err := t.Retry.validate(path + ".retry"); err != nil {
		errs = append(errs, err)
	}
	if t.MaxInFlight == 0 {
		t.MaxInFlight = c.Global.MaxInFlight // validated with global
	} else if err := validateMaxInFlight(path+".max_in_flight", t.MaxInFlight); err != nil {
		errs = append(errs, err)
	}
	if t.RateLimit == nil && ok && in.RateLimit != nil {
		t.RateLimit = &RateLimit{Requests: in.RateLimit.Requests, Interval: model.Duration(in.RateLimit.Interval), Burst: in.RateLimit.Burst}
	}
	if rl := t.RateLimit; rl != nil {
		if rl.Requests < 1 {
			fail("rate_limit.requests", "must be at least 1")
		}
		if rl.Interval <= 0 {
			fail("rate_limit.interval", "must be positive")
		}
		if rl.Burst < 0 {
			fail("rate_limit.burst", "must not be negative")
		}
		if rl.Burst == 0 {
			rl.Burst = rl.Requests
		}
	}
	if t.Verify != nil {
		for j, code := range t.Verify.Status {
			if code < 100 || code > 599 {
				fail(fmt.Sprintf("verify.status[%d]", j), "%d is not an HTTP status code", code)
			}
		}
	}
	return errors.Join(errs...)
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

// envRef matches ${NAME} references in secret values.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} with the environment variable's value. An
// unset variable is an error (an empty URL or token is never what was
// meant); the message names the variable, never the value.
func expandEnv(s string) (string, error) {
	var missing []string
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// secretOrFile resolves a secret given inline (with ${ENV} references
// expanded) or in a file (used as is).
func secretOrFile(inline, file, dir string) (string, error) {
	if inline != "" && file != "" {
		return "", errors.New("set the value or the _file variant, not both")
	}
	if file == "" {
		v, err := expandEnv(inline)
		return strings.TrimSpace(v), err
	}
	b, err := os.ReadFile(resolve(dir, file))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

func resolve(dir, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// checkHTTPURL accepts absolute http and https URLs. Its errors never echo
// the URL, which may carry a token.
func checkHTTPURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("must be an absolute http or https URL")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	return nil
}
