package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := DiscordOptions{ID: "223456789012345678", Token: "dc-conformance-token_0123456789"}
	return notifytest.Conformance{
		Type: "discord",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewDiscord(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		Secrets:   []string{opts.Token},
		Retryable: notifytest.Reply{Status: http.StatusBadGateway, Body: `{"message":"502: Bad Gateway","code":0}`},
		Permanent: notifytest.Reply{Status: http.StatusNotFound, Body: `{"message":"Unknown Webhook","code":10015}`},
		// Discord's 429: the body's float retry_after wins over the
		// whole-second Retry-After header.
		RateLimited: notifytest.Reply{
			Status: http.StatusTooManyRequests,
			Header: map[string]string{"Retry-After": "3", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "2.250", "X-RateLimit-Scope": "user"},
			Body:   `{"message":"You are being rate limited.","retry_after":2.25,"global":false}`,
		},
		RateLimitWait: 2250 * time.Millisecond,
	}
}
