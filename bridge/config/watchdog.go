package config

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"
)

// Watchdog is the heartbeat check of the alert pipeline: when no accepted
// notification carries a firing alert that Match selects for Timeout, the
// bridge tells Targets that the pipeline is silent, again every
// RepeatInterval while it stays silent, and once more when it recovers.
type Watchdog struct {
	// Match lists Alertmanager matchers, all of which a firing alert must
	// satisfy to count as the heartbeat. Empty means DefaultWatchdogMatch.
	Match []string `yaml:"match"`
	// Timeout is the longest silence allowed. Required and positive.
	Timeout model.Duration `yaml:"timeout"`
	// RepeatInterval is how often the notice is sent again while the
	// silence lasts; nil means DefaultWatchdogRepeat. Positive.
	RepeatInterval *model.Duration `yaml:"repeat_interval"`
	// Targets are the names of the configured targets told. At least one.
	Targets []string `yaml:"targets"`

	// Set by Load: the parsed Match (the default's when Match is empty)
	// and the repeat interval in force.
	Matchers labels.Matchers `yaml:"-"`
	Repeat   time.Duration   `yaml:"-"`
}

// Watchdog defaults.
const (
	// DefaultWatchdogMatch selects the Watchdog alert kube-prometheus
	// and the Prometheus Operator's rules fire all the time.
	DefaultWatchdogMatch = `alertname="Watchdog"`
	// DefaultWatchdogRepeat is watchdog.repeat_interval when unset.
	DefaultWatchdogRepeat = time.Hour
)

// validate checks the watchdog section (nil: none configured) against the
// configuration's targets and fills Matchers and Repeat. Every error names
// its key path.
func (w *Watchdog) validate(c *Config) error {
	if w == nil {
		return nil
	}
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("watchdog.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	w.Matchers = nil
	if len(w.Match) == 0 {
		m, err := parse.Matcher(DefaultWatchdogMatch)
		if err != nil { // cannot happen: a constant
			return fmt.Errorf("watchdog.match: default %q: %v", DefaultWatchdogMatch, err)
		}
		w.Matchers = labels.Matchers{m}
	}
	for i, s := range w.Match {
		m, err := parse.Matcher(s)
		if err != nil {
			fail(fmt.Sprintf("match[%d]", i), "%q: %v", s, err)
			continue
		}
		w.Matchers = append(w.Matchers, m)
	}
	if w.Timeout <= 0 {
		fail("timeout", "required and must be positive: the longest silence allowed, longer than the repeat_interval of the Alertmanager route that sends the heartbeat (for example 10m)")
	}
	w.Repeat = DefaultWatchdogRepeat
	if w.RepeatInterval != nil {
		if *w.RepeatInterval <= 0 {
			fail("repeat_interval", "must be positive")
		}
		w.Repeat = time.Duration(*w.RepeatInterval)
	}
	if len(w.Targets) == 0 {
		fail("targets", "at least one target is required")
	}
	known := map[string]bool{}
	for _, t := range c.Targets {
		if t != nil {
			known[t.Name] = true
		}
	}
	listed := map[string]int{}
	for i, name := range w.Targets {
		path := fmt.Sprintf("targets[%d]", i)
		if j, dup := listed[name]; dup {
			fail(path, "%q is already listed as targets[%d]", name, j)
			continue
		}
		listed[name] = i
		if !known[name] {
			fail(path, "unknown target %q", name)
		}
	}
	return errors.Join(errs...)
}
