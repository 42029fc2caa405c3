package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	return notifytest.Conformance{
		Type: "webhook",
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewSignedWebhook(t, secret)
			return f.Fake, "    url: " + f.URL + "/hook/webhook-conformance-token\n    secret: " + secret
		},
		Secrets:       []string{"webhook-conformance-token", secret},
		Retryable:     notifytest.Reply{Status: http.StatusServiceUnavailable, Body: "busy"},
		Permanent:     notifytest.Reply{Status: http.StatusGone, Body: "gone"},
		RateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "7"}, Body: "slow down"},
		RateLimitWait: 7 * time.Second,
	}
}
