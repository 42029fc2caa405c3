package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.SlackOptions{
		Path: "/services/TCONF0000/BCONF0000/slack-conformance-token",
		// The suite delivers a notification's messages back to back, without
		// the runtime's pacing; Slack lets such short bursts through.
		Burst: chat.DefaultMaxMessages,
	}
	registerConformance(conformanceCase{
		typ:  "slack",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewSlack(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		secrets:       []string{"slack-conformance-token"},
		retryable:     notifytest.Reply{Status: http.StatusInternalServerError, Body: "rollup_error"},
		permanent:     notifytest.Reply{Status: http.StatusNotFound, Body: "no_service"},
		rateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"}, Body: "rate_limited"},
		rateLimitWait: 30 * time.Second,
	})
}
