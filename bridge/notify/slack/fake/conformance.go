package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := SlackOptions{
		Path: "/services/TCONF0000/BCONF0000/slack-conformance-token",
		// The suite delivers a notification's messages back to back, without
		// the runtime's pacing; Slack lets such short bursts through.
		Burst: chat.DefaultMaxMessages,
	}
	return notifytest.Conformance{
		Type: "slack",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewSlack(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		Secrets:       []string{"slack-conformance-token"},
		Retryable:     notifytest.Reply{Status: http.StatusInternalServerError, Body: "rollup_error"},
		Permanent:     notifytest.Reply{Status: http.StatusNotFound, Body: "no_service"},
		RateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"}, Body: "rate_limited"},
		RateLimitWait: 30 * time.Second,
	}
}

// APIConformance is the case of the bot mode: a bot token in secret,
// posts through the Web API's chat.postMessage.
func APIConformance() notifytest.Conformance {
	opts := APIOptions{
		Token:     "xoxb-7777-8888-slackconformancetoken",
		ChannelID: "C0CONFORM1",
		// As above: the suite sends a notification's messages back to back.
		Burst: chat.DefaultMaxMessages,
	}
	return notifytest.Conformance{
		Type: "slack",
		Mode: "bot",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewAPI(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    secret: " + opts.Token + "\n    channel: " + opts.ChannelID
		},
		Secrets:       []string{opts.Token, "slackconformancetoken"},
		Retryable:     notifytest.Reply{Status: http.StatusOK, Body: `{"ok":false,"error":"internal_error"}`},
		Permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"ok":false,"error":"not_in_channel"}`},
		RateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": "30"}, Body: `{"ok":false,"error":"ratelimited"}`},
		RateLimitWait: 30 * time.Second,
	}
}
