package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/lark"
)

func init() {
	register("lark", Integration{
		JSONBody: true,
		Signs:    true,
		Options:  func() any { return &lark.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return lark.New(s) },
		// 100 messages per minute and 5 per second per bot. A bucket of 3
		// refilled at 95 a minute (1.58 a second) sends at most 3 + 1.58 =
		// 4 messages in any second and 3 + 95 = 98 in any minute.
		RateLimit: &RateLimit{Requests: 95, Interval: time.Minute, Burst: 3},
		CheckURL:  lark.CheckURL,
	}, "feishu")
}
