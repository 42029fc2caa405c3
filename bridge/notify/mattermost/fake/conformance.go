package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := MattermostOptions{Key: "mmconformancekey0123456789"}
	return notifytest.Conformance{
		Type: "mattermost",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewMattermost(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		Secrets: []string{opts.Key},
		Retryable: notifytest.Reply{Status: http.StatusInternalServerError, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"id":"app.post.save.app_error","message":"Unable to save the post.","detailed_error":"","request_id":"r","status_code":500}`},
		Permanent: notifytest.Reply{Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"id":"web.incoming_webhook.invalid.app_error","message":"Invalid webhook.","detailed_error":"","request_id":"r","status_code":400}`},
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Retry-After": "1", "X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1"}, Body: "limit exceeded"},
		RateLimitWait: time.Second,
	}
}

// APIConformance is the case of the API mode: a bot token in secret,
// posts through /api/v4/posts.
func APIConformance() notifytest.Conformance {
	opts := MattermostOptions{Token: "mmconformancebottoken0123456789", ChannelID: "ch00000000000000000000conf"}
	jsonType := map[string]string{"Content-Type": "application/json"}
	return notifytest.Conformance{
		Type: "mattermost",
		Mode: "api",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewMattermost(t, opts)
			return f.Fake, "    url: " + f.ServerURL + "\n    secret: " + opts.Token + "\n    channel_id: " + opts.ChannelID
		},
		Secrets: []string{opts.Token},
		Retryable: notifytest.Reply{Status: http.StatusInternalServerError, Header: jsonType,
			Body: `{"id":"app.post.save.app_error","message":"Unable to save the post.","detailed_error":"","request_id":"r","status_code":500}`},
		Permanent: notifytest.Reply{Status: http.StatusUnauthorized, Header: jsonType,
			Body: `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","detailed_error":"","request_id":"r","status_code":401}`},
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Retry-After": "1", "X-Ratelimit-Limit": "10", "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1"}, Body: "limit exceeded"},
		RateLimitWait: time.Second,
	}
}
