package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.TeamsOptions{WorkflowID: "4f2e9a0c1b3d4e5f8a7b6c5d4e3f2a1b", Sig: "teamsConformanceSig_0123456789-abcdef"}
	registerConformance(conformanceCase{
		typ:  "teams",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewTeams(t, opts)
			return f.Fake, "    url: '" + f.URL + "'"
		},
		secrets: []string{opts.Sig},
		retryable: notifytest.Reply{Status: http.StatusBadGateway, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":{"code":"BadGateway","message":"The gateway did not receive a response within the specified time."}}`},
		permanent: notifytest.Reply{Status: http.StatusUnauthorized, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`},
		// Power Automate throttling: 429 with Retry-After in seconds.
		rateLimited: notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Content-Type": "application/json", "Retry-After": "7"},
			Body: `{"error":{"code":"WorkflowRequestsThrottled","message":"The workflow's requests are being throttled."}}`},
		rateLimitWait: 7 * time.Second,
	})
}
