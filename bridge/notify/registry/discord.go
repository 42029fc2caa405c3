package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/discord"
)

func init() {
	register("discord", Integration{
		JSONBody: true,
		Options:  func() any { return &discord.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return discord.New(s) },
		// Discord reports (in its headers, not its docs) 5 requests per 2 s
		// per webhook, and a hidden 30 messages per minute per channel.
		// 26/min with a burst of 4 keeps both: any 2 s sees at most
		// 4 + 26*2/60 = 4.9 < 5 requests, any minute 4 + 26 = 30.
		RateLimit: &RateLimit{Requests: 26, Interval: time.Minute, Burst: 4},
		CheckURL:  discord.CheckURL,
	})
}
