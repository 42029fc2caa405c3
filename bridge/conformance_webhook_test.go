package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	registerConformance(conformanceCase{
		typ: "webhook",
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewSignedWebhook(t, secret)
			return f.Fake, "    url: " + f.URL + "/hook/webhook-conformance-token\n    secret: " + secret
		},
		secrets:       []string{"webhook-conformance-token", secret},
		retryable:     notifytest.Reply{Status: http.StatusServiceUnavailable, Body: "busy"},
		permanent:     notifytest.Reply{Status: http.StatusGone, Body: "gone"},
		rateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "7"}, Body: "slow down"},
		rateLimitWait: 7 * time.Second,
	})
}
