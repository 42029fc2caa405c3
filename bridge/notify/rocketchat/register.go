package rocketchat

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds rocketchat.tmpl, the "rocketchat.*" templates.
//
//go:embed rocketchat.tmpl
var preset embed.FS

func init() {
	registry.Register("rocketchat", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Rocket.Chat's REST rate limiter (API_Enable_Rate_Limiter, on by
		// default) also covers /hooks: 10 calls per 60 s per client and
		// route. A burst of 1 plus 9 refilled per minute is at most 10 in
		// any 60 s window.
		RateLimit: &notify.RateLimit{Requests: 9, Interval: model.Duration(time.Minute), Burst: 1},
		// The url, secret and update keys choose between the incoming
		// webhook and the API mode (CheckTarget).
		CheckTarget: CheckTarget,
		// With a personal access token (the API mode) a message is
		// answered in its thread (tmid). Neither mode edits: chat.update
		// changes a message's text, never its attachments.
		Updates:       []notify.Update{notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
	})
}
