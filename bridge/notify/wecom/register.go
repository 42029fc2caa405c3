package wecom

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds wecom.tmpl, the "wecom.*" templates.
//
//go:embed wecom.tmpl
var preset embed.FS

func init() {
	registry.Register("wecom", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// 20 messages per minute per robot: a bucket of 2 refilled at 18
		// a minute sends at most 2 + 18 = 20 in any minute.
		RateLimit: &notify.RateLimit{Requests: 18, Interval: model.Duration(time.Minute), Burst: 2},
		CheckURL:  CheckURL,
	})
}
