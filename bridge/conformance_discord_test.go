package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.DiscordOptions{ID: "223456789012345678", Token: "dc-conformance-token_0123456789"}
	registerConformance(conformanceCase{
		typ:  "discord",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewDiscord(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		secrets:   []string{opts.Token},
		retryable: notifytest.Reply{Status: http.StatusBadGateway, Body: `{"message":"502: Bad Gateway","code":0}`},
		permanent: notifytest.Reply{Status: http.StatusNotFound, Body: `{"message":"Unknown Webhook","code":10015}`},
		// Discord's 429: the body's float retry_after wins over the
		// whole-second Retry-After header.
		rateLimited: notifytest.Reply{
			Status: http.StatusTooManyRequests,
			Header: map[string]string{"Retry-After": "3", "X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "2.250", "X-RateLimit-Scope": "user"},
			Body:   `{"message":"You are being rate limited.","retry_after":2.25,"global":false}`,
		},
		rateLimitWait: 2250 * time.Millisecond,
	})
}
