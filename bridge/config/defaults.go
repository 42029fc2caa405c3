package config

import (
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// The defaults of the configuration, all applied here: Global.withDefaults
// for the global settings, Target.applyDefaults for a target (which
// inherits the global ones, then its type's). Validation checks the values
// with these defaults filled in, and changes nothing.

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

// withDefaults returns g with every key that is not set given its default,
// and the priorities merged over the built-in map.
func (g Global) withDefaults() Global {
	if g.Timeout == 0 {
		g.Timeout = DefaultTimeout
	}
	g.Retry = g.Retry.withDefaults(DefaultRetry)
	if g.MaxInFlight == 0 {
		g.MaxInFlight = DefaultMaxInFlight
	}
	if g.Timezone == "" {
		g.Timezone = "UTC"
	}
	if g.DedupWindow == 0 {
		g.DedupWindow = DefaultDedup
	}
	if g.AlertRetention == 0 {
		g.AlertRetention = DefaultAlertRetention
	}
	if g.SeverityLabel == "" {
		g.SeverityLabel = "severity"
	}
	prios := alert.DefaultPriorities()
	for k, v := range g.Priorities {
		prios[strings.ToLower(k)] = v
	}
	g.Priorities = prios
	return g
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

// retryWithDefaults is the target's retry schedule, each key not set
// inherited from global.retry.
func (t *Target) retryWithDefaults(g *Global) Retry {
	var r Retry
	if t.Retry != nil {
		r = *t.Retry
	}
	return r.withDefaults(g.Retry)
}

// rateLimitWithDefaults is the target's rate limit, or its type's default
// one; the burst defaults to the requests. Nil: unlimited.
func (t *Target) rateLimitWithDefaults(in registry.Integration) *notify.RateLimit {
	rl := t.RateLimit
	if rl == nil {
		rl = in.RateLimit
	}
	if rl == nil {
		return nil
	}
	r := *rl
	if r.Burst == 0 {
		r.Burst = r.Requests
	}
	return &r
}

// applyDefaults gives the target's keys that are not set their defaults:
// the dialect, the global timeout, retry and max_in_flight, and its type's
// rate limit. g has its own defaults applied.
func (t *Target) applyDefaults(g *Global, in registry.Integration) {
	if t.Dialect == "" {
		t.Dialect = dialect.Alertmanager
	}
	if t.Timeout == 0 {
		t.Timeout = g.Timeout
	}
	r := t.retryWithDefaults(g)
	t.Retry = &r
	if t.MaxInFlight == 0 {
		t.MaxInFlight = g.MaxInFlight
	}
	t.RateLimit = t.rateLimitWithDefaults(in)
	if t.Update == "" {
		t.Update = in.DefaultUpdate
	}
	if t.Update == "" {
		t.Update = notify.UpdateNew
	}
}
