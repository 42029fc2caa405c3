package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.RocketChatOptions{ID: "rcConformanceIntegration", Token: "rcConformanceSecretToken"}
	jsonType := map[string]string{"Content-Type": "application/json"}
	registerConformance(conformanceCase{
		typ:  "rocketchat",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewRocketChat(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		secrets:   []string{opts.Token},
		retryable: notifytest.Reply{Status: http.StatusInternalServerError, Header: jsonType, Body: `{"success":false,"error":"Internal server error"}`},
		permanent: notifytest.Reply{Status: http.StatusNotFound, Header: jsonType, Body: `{"success":false,"error":"Invalid integration id or token provided."}`},
		// The limiter's answer without X-RateLimit-Reset, an absolute time
		// that cannot ask for an exact wait here: the error's seconds are
		// used instead (TestClassify covers the header with a fixed clock).
		rateLimited: notifytest.Reply{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Content-Type": "application/json", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"},
			Body:   `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}`},
		rateLimitWait: 52 * time.Second,
	})
}
