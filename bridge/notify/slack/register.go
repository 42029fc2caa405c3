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
		// Slack allows about one message per second per webhook's channel,
		// with short bursts it does not size. One per second with a burst
		// of one never needs the burst allowance: no second sees more
		// than one message.
		RateLimit: &notify.RateLimit{Requests: 1, Interval: model.Duration(time.Second), Burst: 1},
		CheckURL:  CheckURL,
	})
}
