package lark

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds lark.tmpl, the "lark.*" templates.
//
//go:embed lark.tmpl
var preset embed.FS

func init() {
	registry.Register("lark", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Signs:    true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// 100 messages per minute and 5 per second per bot. A bucket of 3
		// refilled at 95 a minute (1.58 a second) sends at most 3 + 1.58 =
		// 4 messages in any second and 3 + 95 = 98 in any minute.
		RateLimit: &notify.RateLimit{Requests: 95, Interval: model.Duration(time.Minute), Burst: 3},
		CheckURL:  CheckURL,
		// A custom bot cannot change or answer its messages; the app mode
		// (app_id) updates its cards and replies (CheckTarget refuses the
		// modes without it).
		Updates:       []notify.Update{notify.UpdateEdit, notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
		CheckTarget:   CheckTarget,
	}, "feishu")
}
