package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.LarkOptions{Token: "lark-conformance-token", Secret: "larkconformancesecret", Keyword: "alert"}
	registerConformance(conformanceCase{
		typ:  "lark",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewLark(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    secret: " + opts.Secret + "\n    keyword: " + opts.Keyword
		},
		secrets: []string{opts.Token, opts.Secret},
		// Lark has no retryable body code but its rate limit; its gateway
		// answers 5xx when busy.
		retryable:     notifytest.Reply{Status: http.StatusServiceUnavailable, Body: `{"code":503,"msg":"service unavailable"}`},
		permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"code":19001,"msg":"param invalid: incoming webhook access token invalid","data":{}}`},
		rateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]appID[1]","data":{}}`},
		rateLimitWait: time.Minute,
	})
}
