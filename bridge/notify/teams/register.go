package teams

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds teams.tmpl, the "teams.*" templates.
//
//go:embed teams.tmpl
var preset embed.FS

func init() {
	registry.Register("teams", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Power Automate documents no limit for a Workflows webhook, and
		// answers 202 before the flow posts: when Teams throttles the flow
		// bot, the failure shows only in the flow's run history, never to
		// the bridge. So the default stays within Teams' per-conversation
		// bot limits (8 per 2 s, 60 per 30 s, 1800 per hour): 2 + 28
		// refilled per minute is at most 3 in 2 s, 16 in 30 s and
		// 2 + 28*60 = 1682 in an hour. A 429 is honoured anyway.
		RateLimit: &notify.RateLimit{Requests: 28, Interval: model.Duration(time.Minute), Burst: 2},
		CheckURL:  CheckURL,
	}, "msteams", "msteamsv2")
}
