package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := RocketChatOptions{ID: "rcConformanceIntegration", Token: "rcConformanceSecretToken"}
	jsonType := map[string]string{"Content-Type": "application/json"}
	return notifytest.Conformance{
		Type: "rocketchat",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewRocketChat(t, opts)
			return f.Fake, "    url: " + f.URL
		},
		Secrets:   []string{opts.Token},
		Retryable: notifytest.Reply{Status: http.StatusInternalServerError, Header: jsonType, Body: `{"success":false,"error":"Internal server error"}`},
		Permanent: notifytest.Reply{Status: http.StatusNotFound, Header: jsonType, Body: `{"success":false,"error":"Invalid integration id or token provided."}`},
		// The limiter's answer without X-RateLimit-Reset, an absolute time
		// that cannot ask for an exact wait here: the error's seconds are
		// used instead (TestClassify covers the header with a fixed clock).
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Content-Type": "application/json", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"},
			Body:   `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}`},
		RateLimitWait: 52 * time.Second,
	}
}

// APIConformance is the case of the API mode: a personal access token in
// secret, messages through chat.postMessage.
func APIConformance() notifytest.Conformance {
	opts := RocketChatOptions{UserID: "rcConformanceUser", AuthToken: "rcConformanceAuthToken0123456789", RoomID: "rcConformanceRoom"}
	jsonType := map[string]string{"Content-Type": "application/json"}
	return notifytest.Conformance{
		Type: "rocketchat",
		Mode: "api",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewRocketChat(t, opts)
			return f.Fake, "    url: " + f.ServerURL + "\n    secret: " + opts.AuthToken + "\n    user_id: " + opts.UserID + "\n    room_id: " + opts.RoomID
		},
		Secrets:   []string{opts.AuthToken},
		Retryable: notifytest.Reply{Status: http.StatusInternalServerError, Header: jsonType, Body: `{"success":false,"error":"Internal server error"}`},
		Permanent: notifytest.Reply{Status: http.StatusUnauthorized, Header: jsonType, Body: `{"status":"error","message":"You must be logged in to do this."}`},
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests,
			Header: map[string]string{"Content-Type": "application/json", "X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"},
			Body:   `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}`},
		RateLimitWait: 52 * time.Second,
	}
}
