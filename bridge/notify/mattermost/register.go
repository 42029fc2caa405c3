package mattermost

import (
	"embed"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// preset holds mattermost.tmpl, the "mattermost.*" templates.
//
//go:embed mattermost.tmpl
var preset embed.FS

func init() {
	registry.Register("mattermost", registry.Integration{
		Presets:  preset,
		JSONBody: true,
		Options:  func() any { return &Options{} },
		New:      func(s notify.Settings) (notify.Notifier, error) { return New(s) },
		// Mattermost's rate limiting is a server setting, off by default,
		// with no documented default to stay under: no limit here. A server
		// that limits answers 429 with Retry-After, which is honoured; set
		// rate_limit on the target to match such a server.
		RateLimit: nil,
		// The url, secret and update keys choose between the incoming
		// webhook and the API mode (CheckTarget).
		CheckTarget: CheckTarget,
		// With a token (the API mode) a post is patched
		// (PUT /api/v4/posts/{id}/patch) or answered in its thread
		// (root_id); an incoming webhook can do neither.
		Updates:       []notify.Update{notify.UpdateEdit, notify.UpdateReply},
		DefaultUpdate: notify.UpdateNew,
	})
}
