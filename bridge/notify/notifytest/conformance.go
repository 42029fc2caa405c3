package notifytest

import (
	"testing"
	"time"
)

// Conformance is what the bridge's conformance suite
// (bridge/conformance_test.go) needs to know about one target type: how to
// start its fake and configure a target for it, the secrets no result may
// show, and the platform's own answers for a transient error, a permanent
// one and a rate limit. Each type's fake package returns its own from
// Conformance().
type Conformance struct {
	Type string
	// Mode names another way of posting the type offers (its REST API
	// with a token, say); empty for the default one. The suite runs every
	// mode's case.
	Mode string
	// Start starts the type's strict fake (verifying signatures when the
	// returned keys set a secret) and returns it with the target's keys
	// beyond name and type, as YAML lines indented by four spaces.
	Start func(t testing.TB) (*Fake, string)
	// Secrets must never appear in any result message: URL tokens and the
	// signing secret.
	Secrets []string
	// The platform's own answers: a transient error, a permanent one, and
	// a rate limit asking for RateLimitWait.
	Retryable, Permanent, RateLimited Reply
	RateLimitWait                     time.Duration
	// Chat is false for the generic webhook: no visible text, no split.
	Chat bool
}
