package bridge

import (
	"net/url"

	"github.com/alertbridge/alertbridge/bridge/console"
	"github.com/alertbridge/alertbridge/bridge/server"
)

var _ console.Backend = (*App)(nil)

// console builds the web console for the App's options: its links start
// with the external URL's path (the route prefix when no external URL is
// given), and its state-changing buttons show when the admin API is on.
func (a *App) console() *console.Console {
	return console.New(a, console.Options{
		BasePath:     BasePath(a.opts.ExternalURL, a.opts.RoutePrefix),
		Admin:        a.opts.EnableAdminAPI,
		MaxBodyBytes: a.opts.MaxBodyBytes,
		Now:          a.now,
		Log:          a.log.Named("console"),
	})
}

// BasePath is the path links to the bridge start with: the external URL's
// path when one is given, as in Prometheus, else the route prefix.
func BasePath(externalURL, routePrefix string) string {
	if externalURL != "" {
		if u, err := url.Parse(externalURL); err == nil {
			return server.CleanPrefix(u.Path)
		}
	}
	return server.CleanPrefix(routePrefix)
}
