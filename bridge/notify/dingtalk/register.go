package dingtalk

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds dingtalk.tmpl, the "dingtalk.*" templates.
//
//go:embed dingtalk.tmpl
var preset embed.FS

func init() {
	registry.Register("dingtalk", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Signs:    true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// 20 messages per minute per robot, then ten minutes throttled:
		// 2 + 18 refilled stays at 20 in any minute.
		RateLimit: &notify.RateLimit{Requests: 18, Interval: model.Duration(time.Minute), Burst: 2},
	})
}
