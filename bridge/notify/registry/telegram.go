package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram"
)

func init() {
	register("telegram", Integration{
		JSONBody: true,
		Options:  func() any { return &telegram.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return telegram.New(s) },
		// Telegram allows 20 messages per minute in a group (and about one
		// per second in a chat, short bursts tolerated): 2 + 18 refilled
		// stays at 20 in any minute, one message per 3.3 s after a burst of 2.
		RateLimit: &RateLimit{Requests: 18, Interval: time.Minute, Burst: 2},
		CheckURL:  telegram.CheckURL,
		Markup:    telegram.Markup,
	})
}
