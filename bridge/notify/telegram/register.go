package telegram

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds telegram.tmpl, the "telegram.*" templates.
//
//go:embed telegram.tmpl
var preset embed.FS

func init() {
	registry.Register("telegram", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Telegram allows 20 messages per minute in a group (and about one
		// per second in a chat, short bursts tolerated): 2 + 18 refilled
		// stays at 20 in any minute, one message per 3.3 s after a burst of 2.
		RateLimit: &notify.RateLimit{Requests: 18, Interval: model.Duration(time.Minute), Burst: 2},
		CheckURL:  CheckURL,
		// editMessageText changes a message; reply_parameters answers one.
		Updates:       []notify.Update{notify.UpdateEdit, notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
		Markup:        Markup,
	})
}
