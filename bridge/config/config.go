// Package config holds the YAML configuration: types, defaults, strict
// decoding (an unknown key is an error naming its path and line) and
// validation with field paths; see docs/configuration.md. Load returns a
// Config that is ready to build a runtime from.
package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Config is the whole configuration file.
type Config struct {
	Global    Global    `yaml:"global"`
	Inbound   Inbound   `yaml:"inbound"`
	API       API       `yaml:"api"`
	Templates []string  `yaml:"templates"`
	Targets   []*Target `yaml:"targets"`
	// Storage chooses the storage engine (read at start only).
	Storage Storage `yaml:"storage,omitempty"`
	// Watchdog is the alert pipeline's heartbeat check; nil: none.
	Watchdog *Watchdog `yaml:"watchdog,omitempty"`
	// TargetFiles are globs (relative to Dir) of target files: YAML lists
	// of targets loaded after Targets (see targetfiles.go).
	TargetFiles []string `yaml:"target_files,omitempty"`
	// TargetFileRules constrain the targets of target files; nil: none
	// but the ones that always apply.
	TargetFileRules *TargetFileRules `yaml:"target_file_rules,omitempty"`

	// TargetFileStates is the outcome of each target file, in path order;
	// the good files' targets follow the main file's in Targets.
	TargetFileStates []TargetFile `yaml:"-"`
	// TargetFilesLoaded is the digest of the target files as loaded (see
	// TargetFilesDigest).
	TargetFilesLoaded string `yaml:"-"`
	targetGlobErrors  []error

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

// Load reads, decodes and validates a configuration file, then loads the
// target files it names: a bad target file is skipped and reported in
// TargetFileStates (and TargetFileErrors), never an error of Load.
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
// relative paths (and target_files globs) resolve against. Target files
// are loaded as Load does.
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

// load checks the decoded configuration and completes it: each part is
// resolved (files read, paths made absolute), validated without being
// changed, and given its defaults (see defaults.go).
func (c *Config) load(nodes []*yaml.Node) error {
	var errs []error
	if err := c.Global.validate(); err != nil {
		errs = append(errs, err)
	}
	c.Global = c.Global.withDefaults()
	if err := c.Inbound.load(c.Dir); err != nil {
		errs = append(errs, err)
	}
	if err := c.API.load(c.Dir, &c.Inbound); err != nil {
		errs = append(errs, err)
	}
	if err := c.Storage.load(c.Dir); err != nil {
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
	if err := c.TargetFileRules.validate(); err != nil {
		errs = append(errs, err)
	}
	for i, g := range c.TargetFiles {
		if _, err := filepath.Glob(resolve(c.Dir, g)); err != nil || g == "" {
			errs = append(errs, fmt.Errorf("target_files[%d]: %q is not a valid glob", i, g))
		}
	}
	if len(c.Targets) == 0 && len(c.TargetFiles) == 0 {
		errs = append(errs, errors.New("targets: at least one target is required (or target_files)"))
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
		if err := t.load(path, c, node); err != nil {
			errs = append(errs, err)
			t.invalid = true
		}
	}
	if err := c.Watchdog.validate(c); err != nil {
		errs = append(errs, err)
	}
	if err := c.Storage.validateWith(c); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validate checks the global settings as given, with the defaults of the
// keys not set; it changes nothing.
func (g *Global) validate() error {
	var errs []error
	e := g.withDefaults()
	if e.Timeout < 0 {
		errs = append(errs, errors.New("global.timeout: must be positive"))
	}
	if err := e.Retry.validate("global.retry"); err != nil {
		errs = append(errs, err)
	}
	if err := validateMaxInFlight("global.max_in_flight", e.MaxInFlight); err != nil {
		errs = append(errs, err)
	}
	if e.ExternalURL != "" {
		if err := checkHTTPURL(e.ExternalURL); err != nil {
			errs = append(errs, fmt.Errorf("global.external_url: %w", err))
		}
	}
	if e.DedupWindow < 0 {
		errs = append(errs, errors.New("global.dedup_window: must not be negative"))
	}
	if e.AlertRetention < MinAlertRetention {
		errs = append(errs, fmt.Errorf("global.alert_retention: must be at least %s", MinAlertRetention))
	}
	for k, v := range g.Priorities {
		if v < alert.PriorityHigh || v > alert.PriorityLow {
			errs = append(errs, fmt.Errorf("global.priorities.%s: %d is not a priority (0 high, 1 medium, 2 low)", k, v))
		}
	}
	return errors.Join(errs...)
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
