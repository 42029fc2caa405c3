package registry

import (
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/webhook"
)

func init() {
	register("webhook", Integration{
		JSONBody: true,
		Signs:    true,
		Generic:  true,
		New:      func(s notify.Settings) (notify.Notifier, error) { return webhook.New(s) },
	})
}
