package fake

import (
	"net/http"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify/googlechat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := GoogleChatOptions{Space: "AAAAconformance", Key: "AIzaSyConformanceKey-0123456789abcdef", Token: "conformanceToken_0123456789abcdef"}
	return notifytest.Conformance{
		Type: "googlechat",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewGoogleChat(t, opts)
			return f.Fake, "    url: '" + f.URL + "'"
		},
		Secrets: []string{opts.Key, opts.Token},
		Retryable: notifytest.Reply{Status: http.StatusServiceUnavailable, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
			Body: `{"error":{"code":503,"message":"The service is currently unavailable.","status":"UNAVAILABLE"}}`},
		Permanent: notifytest.Reply{Status: http.StatusNotFound, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
			Body: `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND"}}`},
		// Google's quota answer carries no Retry-After: the integration
		// waits a whole minute for the per-space window to refill.
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
			Body: `{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}`},
		RateLimitWait: googlechat.RateLimitWait,
	}
}
