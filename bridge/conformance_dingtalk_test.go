package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.DingTalkOptions{Token: "dt-conformance-token", Secret: "SECconformance0123456789", Keyword: "alert"}
	registerConformance(conformanceCase{
		typ:  "dingtalk",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewDingTalk(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    secret: " + opts.Secret + "\n    keyword: " + opts.Keyword
		},
		secrets:       []string{opts.Token, opts.Secret},
		retryable:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":-1,"errmsg":"系统繁忙"}`},
		permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":300001,"errmsg":"token is not exist"}`},
		rateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`},
		rateLimitWait: 10 * time.Minute,
	})
}
