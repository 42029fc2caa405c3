package registry

import (
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/mattermost"
)

func init() {
	register("mattermost", Integration{
		JSONBody: true,
		Options:  func() any { return &mattermost.Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return mattermost.New(s) },
		// Mattermost's rate limiting is a server setting, off by default,
		// with no documented default to stay under: no limit here. A server
		// that limits answers 429 with Retry-After, which is honoured; set
		// rate_limit on the target to match such a server.
		RateLimit: nil,
		CheckURL:  mattermost.CheckURL,
	})
}
