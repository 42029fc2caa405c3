package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := TeamsOptions{WorkflowID: "4f2e9a0c1b3d4e5f8a7b6c5d4e3f2a1b", Sig: "teamsConformanceSig_0123456789-abcdef"}
	return notifytest.Conformance{
		Type: "teams",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewTeams(t, opts)
			return f.Fake, "    url: '" + f.URL + "'"
		},
		Secrets: []string{opts.Sig},
		Retryable: notifytest.Reply{Status: http.StatusBadGateway, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":{"code":"BadGateway","message":"The gateway did not receive a response within the specified time."}}`},
		Permanent: notifytest.Reply{Status: http.StatusUnauthorized, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`},
		// Power Automate throttling: 429 with Retry-After in seconds.
		RateLimited: notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Content-Type": "application/json", "Retry-After": "7"},
			Body: `{"error":{"code":"WorkflowRequestsThrottled","message":"The workflow's requests are being throttled."}}`},
		RateLimitWait: 7 * time.Second,
	}
}
