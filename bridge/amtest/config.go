package amtest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Defaults applied by Start to zero-valued Options fields.
const (
	DefaultGroupWait      = 100 * time.Millisecond
	DefaultGroupInterval  = 1 * time.Second
	DefaultRepeatInterval = 1 * time.Hour
	DefaultResolveTimeout = 5 * time.Minute
)

// ReceiverName is the name of the single receiver in the generated
// configuration; it is what webhook payloads carry in their "receiver" field.
const ReceiverName = "bridge"

// defaultGroupBy is the route's group_by used when Options.GroupBy is empty.
var defaultGroupBy = []string{"alertname"}

// Options configures the Alertmanager started by Start. The zero value of
// every field except WebhookURL selects a test-friendly default.
//
// The generated alertmanager.yml has a global section with resolve_timeout,
// a root route to the receiver named ReceiverName with group_by, group_wait,
// group_interval and repeat_interval, and that receiver has exactly one
// webhook_configs entry with url, send_resolved and max_alerts.
type Options struct {
	// WebhookURL is the URL the webhook receiver POSTs notifications to,
	// e.g. "http://127.0.0.1:1234/webhook". Required.
	WebhookURL string

	// GroupBy is the root route's group_by. Empty means ["alertname"]. The special value "..." groups by all labels.
	GroupBy []string

	// GroupWait, GroupInterval and RepeatInterval are the root route's timing
	// settings. Zero means DefaultGroupWait (100ms), DefaultGroupInterval (1s)
	// and DefaultRepeatInterval (1h) respectively. Negative values are
	// rejected. Values are written with millisecond precision (rounded down;
	// a positive value below 1ms becomes 1ms).
	GroupWait, GroupInterval, RepeatInterval time.Duration

	// NoResolved disables send_resolved on the webhook. By default
	// (NoResolved == false) resolved notifications are sent.
	NoResolved bool

	// MaxAlerts is the webhook's max_alerts: the maximum number of alerts
	// per notification, excess alerts being truncated (reported in the
	// payload's truncatedAlerts). Zero means unlimited; negative is rejected.
	MaxAlerts int

	// ResolveTimeout is the global resolve_timeout: how long after its last
	// update an alert posted without EndsAt is considered resolved. Zero means
	// DefaultResolveTimeout (5m). Negative values are rejected.
	ResolveTimeout time.Duration
}

type amConfig struct {
	Global    amGlobal     `yaml:"global"`
	Route     amRoute      `yaml:"route"`
	Receivers []amReceiver `yaml:"receivers"`
}

type amGlobal struct {
	ResolveTimeout string `yaml:"resolve_timeout"`
}

type amRoute struct {
	Receiver       string   `yaml:"receiver"`
	GroupBy        []string `yaml:"group_by,flow"`
	GroupWait      string   `yaml:"group_wait"`
	GroupInterval  string   `yaml:"group_interval"`
	RepeatInterval string   `yaml:"repeat_interval"`
}

type amReceiver struct {
	Name           string      `yaml:"name"`
	WebhookConfigs []amWebhook `yaml:"webhook_configs"`
}

type amWebhook struct {
	URL          string `yaml:"url"`
	SendResolved bool   `yaml:"send_resolved"`
	MaxAlerts    int    `yaml:"max_alerts"`
}

// renderConfig validates opts, applies defaults and returns the contents of
// alertmanager.yml.
func renderConfig(opts Options) ([]byte, error) {
	if opts.WebhookURL == "" {
		return nil, errors.New("Options.WebhookURL is required")
	}
	if opts.MaxAlerts < 0 {
		return nil, fmt.Errorf("Options.MaxAlerts must not be negative, got %d", opts.MaxAlerts)
	}
	groupBy := opts.GroupBy
	if len(groupBy) == 0 {
		groupBy = defaultGroupBy
	}

	var durErrs []string
	dur := func(name string, d, def time.Duration) string {
		switch {
		case d < 0:
			durErrs = append(durErrs, fmt.Sprintf("Options.%s must not be negative, got %v", name, d))
		case d == 0:
			d = def
		}
		return promDuration(d)
	}
	cfg := amConfig{
		Global: amGlobal{
			ResolveTimeout: dur("ResolveTimeout", opts.ResolveTimeout, DefaultResolveTimeout),
		},
		Route: amRoute{
			Receiver:       ReceiverName,
			GroupBy:        groupBy,
			GroupWait:      dur("GroupWait", opts.GroupWait, DefaultGroupWait),
			GroupInterval:  dur("GroupInterval", opts.GroupInterval, DefaultGroupInterval),
			RepeatInterval: dur("RepeatInterval", opts.RepeatInterval, DefaultRepeatInterval),
		},
		Receivers: []amReceiver{{
			Name: ReceiverName,
			WebhookConfigs: []amWebhook{{
				URL:          opts.WebhookURL,
				SendResolved: !opts.NoResolved,
				MaxAlerts:    opts.MaxAlerts,
			}},
		}},
	}
	if len(durErrs) > 0 {
		return nil, errors.New(strings.Join(durErrs, "; "))
	}
	return yaml.Marshal(cfg)
}

// promDuration formats a non-negative d in the syntax accepted by Prometheus'
// model.ParseDuration (e.g. "1h", "1m30s", "100ms"), with millisecond
// precision. A positive d below one millisecond is rounded up to "1ms".
func promDuration(d time.Duration) string {
	ms := d.Milliseconds()
	if d > 0 && ms == 0 {
		ms = 1
	}
	if ms == 0 {
		return "0s"
	}
	var b strings.Builder
	for _, u := range []struct {
		suffix string
		ms     int64
	}{{"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1}} {
		if n := ms / u.ms; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.suffix)
			ms -= n * u.ms
		}
	}
	return b.String()
}
