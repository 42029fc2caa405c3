package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/rocketchat"
)

func init() {
	register("rocketchat", Integration{
		JSONBody: true,
		Options:  func() any { return &rocketchat.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return rocketchat.New(s) },
		// Rocket.Chat's REST rate limiter (API_Enable_Rate_Limiter, on by
		// default) also covers /hooks: 10 calls per 60 s per client and
		// route. A burst of 1 plus 9 refilled per minute is at most 10 in
		// any 60 s window.
		RateLimit: &RateLimit{Requests: 9, Interval: time.Minute, Burst: 1},
		CheckURL:  rocketchat.CheckURL,
	})
}
