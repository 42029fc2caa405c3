package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	const key = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
	registerConformance(conformanceCase{
		typ:  "wecom",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewWeCom(t, key)
			return f.Fake, "    url: " + f.URL
		},
		secrets:       []string{key},
		retryable:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":-1,"errmsg":"system busy"}`},
		permanent:     notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":93000,"errmsg":"invalid webhook url, hint: [1700000000_13_4b6f1e1a8c7e5d3f], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}`},
		rateLimited:   notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":45009,"errmsg":"api freq out of limit, hint: [1700000000_13_4b6f1e1a8c7e5d3f], from ip: 203.0.113.7, more info at https://open.work.weixin.qq.com/devtool/query?e=45009"}`},
		rateLimitWait: time.Minute,
	})
}
