package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	return notifytest.Conformance{
		Type: "wecom",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewWeCom(t, key)
			return f.Fake, "    url: " + f.URL
		},
		Secrets:       []string{key},
		Retryable:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":-1,"errmsg":"system busy"}`},
		Permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_13_4b6f1e1a8c7e5d3f], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}`},
		RateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":45009,"errmsg":"api freq out of limit, hint: [1700000000_13_4b6f1e1a8c7e5d3f], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=45009"}`},
		RateLimitWait: time.Minute,
	}
}
