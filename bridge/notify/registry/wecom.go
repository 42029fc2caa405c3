package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/wecom"
)

func init() {
	register("wecom", Integration{
		JSONBody: true,
		Options:  func() any { return &wecom.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return wecom.New(s) },
		// 20 messages per minute per robot: a bucket of 2 refilled at 18
		// a minute sends at most 2 + 18 = 20 in any minute.
		RateLimit: &RateLimit{Requests: 18, Interval: time.Minute, Burst: 2},
		CheckURL:  wecom.CheckURL,
	})
}
