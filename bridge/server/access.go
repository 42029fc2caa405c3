package server

import (
	"mime"
	"net"
	"net/http"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/metrics"
)

// Class is the kind of an endpoint. It decides which credential admits a
// request and whether a flag must enable the endpoint first.
type Class int

// The endpoint classes.
const (
	// ClassHealth: /-/healthy and /-/ready, always open.
	ClassHealth Class = iota
	// ClassIngest: /webhook and /webhook/{target}, for Alertmanager.
	ClassIngest
	// ClassRead: the targets, alerts and deliveries lists, render without
	// signatures.
	ClassRead
	// ClassMetrics: /metrics, a read endpoint that stays open until an API
	// credential is configured, so existing scrapes keep working.
	ClassMetrics
	// ClassAdmin: dead letter retry and delete, test sends, render with
	// signatures. Off unless Access.Admin.
	ClassAdmin
	// ClassLifecycle: /-/reload. Off unless Access.Lifecycle.
	ClassLifecycle
	// ClassDebug: /debug/pprof. Off unless Access.Debug.
	ClassDebug
)

// The flags that enable the classes that are off by default; the 403 of a
// disabled endpoint names its flag.
const (
	FlagAdmin     = "--web.enable-admin-api"
	FlagLifecycle = "--web.enable-lifecycle"
	FlagDebug     = "--web.enable-pprof"
)

// Access is the endpoint policy that does not change on reload: which
// optional classes are enabled and which Host names are served.
type Access struct {
	Admin, Lifecycle, Debug bool
	// AllowedHosts, when not empty, lists the Host header values served
	// (a name matches any port, "name:port" only that port); other hosts
	// get 421, which defeats DNS rebinding. Health and readiness answer
	// any host, so probes by IP address keep working.
	AllowedHosts []string
}

// WithAccess sets the endpoint policy; the default enables no optional
// class and serves every host.
func WithAccess(a Access) Option { return func(s *Server) { s.access = a } }

// enabled returns whether class is switched on, and if not the flag that
// would switch it on.
func (a Access) enabled(c Class) (bool, string) {
	switch c {
	case ClassAdmin:
		return a.Admin, FlagAdmin
	case ClassLifecycle:
		return a.Lifecycle, FlagLifecycle
	case ClassDebug:
		return a.Debug, FlagDebug
	}
	return true, ""
}

var classNames = map[Class]string{
	ClassAdmin: "the admin API", ClassLifecycle: "the lifecycle API", ClassDebug: "profiling",
}

// guard admits a request to an endpoint of the class classOf returns for
// it: a disabled class gets 403 naming its flag; a missing or wrong
// credential a bare 401; a state-changing request with a body that is not
// JSON 415. Only then does h run.
func (s *Server) guard(classOf func(*http.Request) Class, h http.Handler) http.Handler {
	return s.guardWith(classOf, h, nil)
}

// guardWith is guard with refuse writing the refusals (nil: JSON errors).
func (s *Server) guardWith(classOf func(*http.Request) Class, h http.Handler, refuse func(http.ResponseWriter, *http.Request, int, string)) http.Handler {
	if refuse == nil {
		refuse = func(w http.ResponseWriter, _ *http.Request, code int, msg string) { writeError(w, code, msg) }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := classOf(r)
		if on, flag := s.access.enabled(c); !on {
			refuse(w, r, http.StatusForbidden, classNames[c]+" is disabled; start the bridge with "+flag+" to enable it")
			return
		}
		if c != ClassHealth {
			switch creds := s.b.Credentials(); s.admit(c, creds, r) {
			case denyNoAPICredential:
				refuse(w, r, http.StatusForbidden, "this endpoint needs an api credential (api.bearer_token or api.basic_auth_users); the inbound credential does not admit it")
				return
			case denyUnauthorized:
				w.Header().Set("WWW-Authenticate", `Bearer realm="alertbridge"`)
				if len(creds.API.Users) > 0 || len(creds.Ingest.Users) > 0 {
					w.Header().Add("WWW-Authenticate", `Basic realm="alertbridge"`)
				}
				refuse(w, r, http.StatusUnauthorized, "unauthorized")
				return
			}
		}
		if !jsonOrEmpty(r) {
			const msg = "Content-Type must be application/json"
			if c == ClassIngest { // counted and logged as every refused notification
				s.reject(w, r, http.StatusUnsupportedMediaType, metrics.ResultInvalid, msg+", not "+quote(clip(r.Header.Get("Content-Type"))), "", 0)
				return
			}
			refuse(w, r, http.StatusUnsupportedMediaType, msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

type verdict int

const (
	admitted verdict = iota
	denyUnauthorized
	denyNoAPICredential
)

// admit applies the credential rules of docs/security.md:
//   - ingest: the ingest credential when one is configured, else open;
//   - read: the API credential when one is configured; else the ingest
//     credential when one is; else open;
//   - metrics: the API credential when one is configured; else open;
//   - admin, lifecycle, debug: the API credential when one is configured;
//     refused when only an ingest credential is (it must never
//     administer); open when none is.
func (s *Server) admit(c Class, creds Credentials, r *http.Request) verdict {
	check := func(cr Credential) verdict {
		if s.pw.admits(cr, r) {
			return admitted
		}
		return denyUnauthorized
	}
	switch {
	case c == ClassIngest && creds.Ingest.Configured():
		return check(creds.Ingest)
	case c == ClassIngest:
		return admitted
	case creds.API.Configured():
		return check(creds.API)
	case c == ClassMetrics:
		return admitted
	case c == ClassRead && creds.Ingest.Configured():
		return check(creds.Ingest)
	case creds.Ingest.Configured():
		return denyNoAPICredential
	}
	return admitted
}

// stateChanging are the methods that need a JSON body.
var stateChanging = map[string]bool{http.MethodPost: true, http.MethodPut: true, http.MethodPatch: true, http.MethodDelete: true}

// jsonOrEmpty reports whether r may proceed as far as its media type goes:
// a state-changing request with a body, or one declaring a Content-Type,
// must declare application/json (parameters allowed). A request without
// body and Content-Type passes (curl -X POST .../-/reload, reload
// sidecars); browsers' cross-site requests are refused before this by
// cross-origin protection.
func jsonOrEmpty(r *http.Request) bool {
	if !stateChanging[r.Method] {
		return true
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" && r.ContentLength == 0 {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// hostAllowed reports whether r's Host is served under the allow-list.
func (a Access) hostAllowed(r *http.Request) bool {
	if len(a.AllowedHosts) == 0 {
		return true
	}
	host := strings.ToLower(r.Host)
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.Trim(name, "[]"), ".")
	for _, allowed := range a.AllowedHosts {
		allowed = strings.ToLower(allowed)
		if allowed == host || strings.TrimSuffix(strings.Trim(allowed, "[]"), ".") == name {
			return true
		}
	}
	return false
}

// perimeter applies what holds for every endpoint before routing: the
// Host allow-list (health and readiness excepted) and cross-origin
// protection (a browser's cross-site POST, PUT or DELETE gets 403).
func (s *Server) perimeter(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	inner := cop.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !open[r.URL.Path] && !s.access.hostAllowed(r) {
			writeError(w, http.StatusMisdirectedRequest, "host not served; see --web.allowed-hosts")
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// open paths answer any host: probes.
var open = map[string]bool{"/-/healthy": true, "/-/ready": true}

// is returns a class function for endpoints of one class.
func is(c Class) func(*http.Request) Class { return func(*http.Request) Class { return c } }
