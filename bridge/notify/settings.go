package notify

import (
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// Settings is what an integration receives to build its Notifier: the
// target's resolved values, never the config types themselves, so
// integrations stay leaves.
type Settings struct {
	Name string
	// URL is the webhook URL; it carries credentials.
	URL string
	// Secret is the signing secret, if any.
	Secret string
	// Templates is the frozen template set of this configuration.
	Templates *render.Set
	// BodyTemplate names the template that renders the body; empty means the
	// type's preset.
	BodyTemplate string
	// HeaderTemplates maps a header name to the template rendering its value.
	HeaderTemplates map[string]string
	// Verify overrides what counts as success; nil means the type's rule.
	Verify *Verify
	// Dialect is the template vocabulary: what data the body and header
	// templates see. nil is Alertmanager's, the group itself (or, for chat
	// presets, chat data around it).
	Dialect *dialect.Dialect
	// TextBody marks a body that is not JSON (the target set another
	// Content-Type): it is sent as rendered, only checked to be non-empty
	// UTF-8.
	TextBody bool
	// Options holds the decoded type-specific options (nil if the type has
	// none).
	Options any
	// Update is the target's update mode (its update key); empty means
	// UpdateNew. Config only passes a mode the type registered.
	Update Update
	// Now is the clock for signatures and timestamps; nil means time.Now.
	Now func() time.Time
}

// Clock returns s.Now or time.Now.
func (s Settings) Clock() func() time.Time {
	if s.Now != nil {
		return s.Now
	}
	return time.Now
}

// Verify is a user-defined success check on a response (a target's
// verify key).
type Verify struct {
	// Status lists accepted status codes; empty means any 2xx.
	Status []int `yaml:"status"`
	// BodyContains must appear in the response body when set.
	BodyContains string `yaml:"body_contains"`
}

// RateLimit is a token bucket: Requests per Interval, bursts up to Burst
// (a target's rate_limit key, or its type's default; Burst 0 means
// Requests).
type RateLimit struct {
	Requests int            `yaml:"requests"`
	Interval model.Duration `yaml:"interval"`
	Burst    int            `yaml:"burst"`
}

// Limit is the bucket's refill rate; 0 (unlimited) for a nil bucket.
func (rl *RateLimit) Limit() rate.Limit {
	if rl == nil {
		return 0
	}
	return rate.Limit(float64(rl.Requests) / time.Duration(rl.Interval).Seconds())
}

// BurstSize is the bucket's size; 0 for a nil bucket.
func (rl *RateLimit) BurstSize() int {
	if rl == nil {
		return 0
	}
	return rl.Burst
}

// Check reports whether resp passes the check.
func (v *Verify) Check(resp *Response) bool {
	if len(v.Status) > 0 {
		if !slices.Contains(v.Status, resp.StatusCode) {
			return false
		}
	} else if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return false
	}
	return v.BodyContains == "" || strings.Contains(string(resp.Body), v.BodyContains)
}

// Classify judges resp by the check: passing it is delivery; otherwise the
// common HTTP rules decide, and a 2xx that fails the check is retried, as a
// receiver that answers "busy" in its body expects.
func (v *Verify) Classify(resp *Response, now time.Time) Result {
	if v.Check(resp) {
		return OK()
	}
	if r := ClassifyHTTP(resp, now); r.Verdict != Delivered {
		return r
	}
	return Retryable(ReasonIMRejected, 0, "response failed verify (HTTP %d): %s", resp.StatusCode, Snippet(resp.Body))
}
