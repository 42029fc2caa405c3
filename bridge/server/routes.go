package server

import (
	"net/http"
	"strings"
)

// Route is an endpoint served by another package (the web console) under
// the same rules as the API: its class decides whether a flag must enable
// it and which credential admits it, cross-origin protection and the Host
// allow-list apply, and it is served under the route prefix.
type Route struct {
	// Path is a gorilla/mux path template below the route prefix
	// ("/alerts/{id:[0-9]+}"); with Prefix set, every path under it.
	Path   string
	Prefix bool
	// Methods lists the methods served; empty means any.
	Methods []string
	Class   Class
	Handler http.Handler
	// Refuse, when set, writes the answer to a request the class or its
	// credential refuses (403, 401 with WWW-Authenticate already set, 415),
	// so a page can answer a person in HTML; nil answers JSON, as the API
	// does. msg never carries a secret.
	Refuse func(w http.ResponseWriter, r *http.Request, code int, msg string)
}

// WithRoutes adds endpoints served under the server's rules. A route may
// not shadow an API path: the API's routes are matched first.
func WithRoutes(routes ...Route) Option {
	return func(s *Server) { s.routes = append(s.routes, routes...) }
}

// WithRoutePrefix serves every endpoint under prefix ("/alertbridge"),
// as Prometheus's --web.route-prefix does: a request outside it gets 404,
// except "/", which is redirected to the prefix. Empty or "/" serves at
// the root.
func WithRoutePrefix(prefix string) Option {
	return func(s *Server) { s.prefix = CleanPrefix(prefix) }
}

// CleanPrefix normalizes a route prefix: a leading slash, no trailing
// one, and "" for the root.
func CleanPrefix(prefix string) string {
	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return ""
	}
	return "/" + prefix
}

// underPrefix serves next under s.prefix: the prefix is taken off the
// path before routing, the bare prefix and "/" are redirected to
// prefix+"/", and anything else outside it is 404.
func (s *Server) underPrefix(next http.Handler) http.Handler {
	if s.prefix == "" {
		return next
	}
	strip := http.StripPrefix(s.prefix, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch p := r.URL.Path; {
		case strings.HasPrefix(p, s.prefix+"/"):
			strip.ServeHTTP(w, r)
		case p == s.prefix || p == "/":
			http.Redirect(w, r, s.prefix+"/", http.StatusFound)
		default:
			writeError(w, http.StatusNotFound, "not found: every endpoint is under the route prefix "+s.prefix+"/")
		}
	})
}
