package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/dingtalk"
)

func init() {
	register("dingtalk", Integration{
		JSONBody: true,
		Signs:    true,
		Options:  func() any { return &dingtalk.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return dingtalk.New(s) },
		// 20 messages per minute per robot, then ten minutes throttled:
		// 2 + 18 refilled stays at 20 in any minute.
		RateLimit: &RateLimit{Requests: 18, Interval: time.Minute, Burst: 2},
	})
}
