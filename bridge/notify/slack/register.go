package slack

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds slack.tmpl, the "slack.*" templates.
//
//go:embed slack.tmpl
var preset embed.FS

func init() {
	registry.Register("slack", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Slack allows about one message per second per channel (webhooks
		// and chat.postMessage alike), with short bursts it does not size.
		// One per second with a burst of one never needs the burst
		// allowance: no second sees more than one message.
		RateLimit: &notify.RateLimit{Requests: 1, Interval: model.Duration(time.Second), Burst: 1},
		CheckURL:  CheckURL,
		// The secret chooses between the incoming webhook and the Web API
		// with a bot token (CheckTarget). A webhook answers "ok", naming
		// no message; a bot edits with chat.update and replies in the
		// message's thread.
		CheckTarget:   CheckTarget,
		Updates:       []notify.Update{notify.UpdateEdit, notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
	})
}
