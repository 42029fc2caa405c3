package webhook

import (
	"embed"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds webhook.tmpl, the "webhook.*" templates.
//
//go:embed webhook.tmpl
var preset embed.FS

func init() {
	registry.Register("webhook", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Signs:    true,
		Generic:  true,
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
	})
}
