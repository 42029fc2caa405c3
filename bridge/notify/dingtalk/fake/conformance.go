package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := DingTalkOptions{Token: "dt-conformance-token", Secret: "SECconformance0123456789", Keyword: "alert"}
	return notifytest.Conformance{
		Type: "dingtalk",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewDingTalk(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    secret: " + opts.Secret + "\n    keyword: " + opts.Keyword
		},
		Secrets:       []string{opts.Token, opts.Secret},
		Retryable:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":-1,"errmsg":"系统繁忙"}`},
		Permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":300001,"errmsg":"token is not exist"}`},
		RateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`},
		RateLimitWait: 10 * time.Minute,
	}
}
