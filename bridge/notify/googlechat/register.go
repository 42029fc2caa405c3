package googlechat

import (
	"embed"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds googlechat.tmpl, the "googlechat.*" templates.
//
//go:embed googlechat.tmpl
var preset embed.FS

func init() {
	registry.Register("googlechat", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Google Chat allows 60 writes per minute per space, shared by every
		// app and webhook in it: 5 + 55 refilled stays at 60 in any minute.
		RateLimit: &notify.RateLimit{Requests: 55, Interval: model.Duration(time.Minute), Burst: 5},
		CheckURL:  CheckURL,
		// A webhook can post in a thread (thread.name plus
		// messageReplyOption); editing a message takes the Chat API's app
		// authentication, which a webhook has not.
		Updates:       []notify.Update{notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
		CheckTarget:   CheckTarget,
	}, "google_chat", "gchat")
}
