package registry

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/googlechat"
)

func init() {
	register("googlechat", Integration{
		JSONBody: true,
		Options:  func() any { return &googlechat.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return googlechat.New(s) },
		// Google Chat allows 60 writes per minute per space, shared by every
		// app and webhook in it: 5 + 55 refilled stays at 60 in any minute.
		RateLimit: &RateLimit{Requests: 55, Interval: time.Minute, Burst: 5},
		CheckURL:  googlechat.CheckURL,
	}, "google_chat", "gchat")
}
