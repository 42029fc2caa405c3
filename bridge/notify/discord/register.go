package discord

import (
	goembed "embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds discord.tmpl, the "discord.*" templates.
//
//go:embed discord.tmpl
var preset goembed.FS

func init() {
	registry.Register("discord", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Discord reports (in its headers, not its docs) 5 requests per 2 s
		// per webhook, and a hidden 30 messages per minute per channel.
		// 26/min with a burst of 4 keeps both: any 2 s sees at most
		// 4 + 26*2/60 = 4.9 < 5 requests, any minute 4 + 26 = 30.
		RateLimit: &notify.RateLimit{Requests: 26, Interval: model.Duration(time.Minute), Burst: 4},
		CheckURL:  CheckURL,
		// A webhook edits its own messages (PATCH .../messages/{id}); it
		// cannot reply to one.
		Updates:       []notify.Update{notify.UpdateEdit},
		DefaultUpdate: notify.UpdateNew,
	})
}
