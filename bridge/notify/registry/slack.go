package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/slack"
)

func init() {
	register("slack", Integration{
		JSONBody: true,
		Options:  func() any { return &slack.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return slack.New(s) },
		// Slack allows about one message per second per webhook's channel,
		// with short bursts it does not size. One per second with a burst
		// of one never needs the burst allowance: no second sees more
		// than one message.
		RateLimit: &RateLimit{Requests: 1, Interval: time.Second, Burst: 1},
		CheckURL:  slack.CheckURL,
	})
}
