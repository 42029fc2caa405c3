// Package console is the bridge's web console: server-rendered pages for
// the targets, the deliveries (with dead letter retry and delete), the
// alert center, a template playground and the bridge's status. Its assets
// are embedded, so it works offline and makes no request outside the
// bridge (a Content-Security-Policy enforces that in the browser).
//
// The console is a client of the same Backend interfaces the HTTP API
// handlers use, and it is served under the same endpoint classes and
// credentials (see server.Route): pages are reads; the buttons that change
// state call the admin API from the page and are shown only when the admin
// endpoints are enabled. Store types are converted to the console's own
// views at its edge (views.go), and no page ever shows a target's URL,
// secret or credential headers.
package console

import (
	"net/http"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/server"
)

// Backend is what the console needs from the application: the API's
// interfaces, plus the playground and the status page.
type Backend interface {
	server.Deliveries
	server.Alerts
	server.Targets
	Playground
	Status
}

// Options configure the console.
type Options struct {
	// BasePath is the path of the bridge's external URL ("" at the root,
	// "/alertbridge" behind a proxy): every link, redirect and request of
	// the pages starts with it.
	BasePath string
	// Admin: the admin endpoints are enabled, so the retry, delete,
	// test-send and custom-template buttons are shown.
	Admin bool
	// MaxBodyBytes bounds a pasted playground payload; <= 0 means
	// server.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	Log *zap.Logger
}

// Console serves the pages.
type Console struct {
	b    Backend
	o    Options
	tmpl *templates
}

// New builds the console. It panics only if the embedded templates do
// not parse, which the package's tests rule out.
func New(b Backend, o Options) *Console {
	o.BasePath = server.CleanPrefix(o.BasePath)
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = server.DefaultMaxBodyBytes
	}
	return &Console{b: b, o: o, tmpl: mustParse()}
}

// Routes are the console's endpoints, for server.WithRoutes. Pages and
// assets are reads; the playground's render is a read for a target's own
// templates and an admin call for an edited one (see playgroundClass).
func (c *Console) Routes() []server.Route {
	get := []string{http.MethodGet, http.MethodHead}
	page := func(path string, h http.HandlerFunc) server.Route {
		return server.Route{Path: path, Methods: get, Class: server.ClassRead, Handler: c.secure(h), Refuse: c.refuse}
	}
	return []server.Route{
		{Path: "/", Methods: get, Class: server.ClassHealth, Handler: c.secure(http.HandlerFunc(c.root))},
		page("/alerts", c.alertsPage),
		page("/alerts/{id}", c.alertPage),
		page("/deliveries", c.deliveriesPage),
		page("/targets", c.targetsPage),
		page("/playground", c.playgroundPage),
		page("/status", c.statusPage),
		{Path: "/static/", Prefix: true, Methods: get, Class: server.ClassRead, Handler: c.secure(c.static()), Refuse: c.refuse},
		{Path: "/console/render", Methods: []string{http.MethodPost}, Class: server.ClassRead, Handler: c.secure(http.HandlerFunc(c.playgroundRender))},
		{Path: "/console/render-custom", Methods: []string{http.MethodPost}, Class: server.ClassAdmin, Handler: c.secure(http.HandlerFunc(c.playgroundRender))},
	}
}

// root redirects "/" to the alerts page.
func (c *Console) root(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, c.o.BasePath+"/alerts", http.StatusFound)
}

// csp allows nothing from outside the bridge: no CDN, no external
// request, no inline script.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
	"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// secure sets the headers every console answer carries.
func (c *Console) secure(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}
