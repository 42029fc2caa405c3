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

// AppConformance is the case of the app mode: the App Secret in secret,
// posts through the message API with a tenant access token.
func AppConformance() notifytest.Conformance {
	opts := AppOptions{AppID: "cli_conformance", AppSecret: "larkconformanceappsecret0123", ChatID: "oc_conformance"}
	jsonType := map[string]string{"Content-Type": "application/json; charset=utf-8"}
	return notifytest.Conformance{
		Type: "lark",
		Mode: "app",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewApp(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    app_id: " + opts.AppID + "\n    chat_id: " + opts.ChatID + "\n    secret: " + opts.AppSecret + "\n    keyword: alert"
		},
		Secrets:       []string{opts.AppSecret},
		Retryable:     notifytest.Reply{Status: http.StatusServiceUnavailable, Header: jsonType, Body: `{"code":503,"msg":"service unavailable"}`},
		Permanent:     notifytest.Reply{Status: http.StatusBadRequest, Header: jsonType, Body: `{"code":230002,"msg":"The bot can not be outside the group.","data":{}}`},
		RateLimited:   notifytest.Reply{Status: http.StatusBadRequest, Header: jsonType, Body: `{"code":230020,"msg":"This operation triggers the frequency limit.","data":{}}`},
		RateLimitWait: time.Minute,
	}
}
