package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := LarkOptions{Token: "lark-conformance-token", Secret: "larkconformancesecret", Keyword: "alert"}
	return notifytest.Conformance{
		Type: "lark",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewLark(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    secret: " + opts.Secret + "\n    keyword: " + opts.Keyword
		},
		Secrets: []string{opts.Token, opts.Secret},
		// Lark has no retryable body code but its rate limit; its gateway
		// answers 5xx when busy.
		Retryable:     notifytest.Reply{Status: http.StatusServiceUnavailable, Body: `{"code":503,"msg":"service unavailable"}`},
		Permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"code":19001,"msg":"param invalid: incoming webhook access token invalid","data":{}}`},
		RateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]","data":{}}`},
		RateLimitWait: time.Minute,
	}
}
