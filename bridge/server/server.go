// Package server is the bridge's HTTP surface: the Alertmanager webhook
// receiver, health and readiness, reload, and the API (deliveries, alert
// center, targets, render). Handlers translate between HTTP and the
// Backend; they hold no delivery logic.
package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/pprof"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"golang.org/x/sync/semaphore"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/metrics"
)

// Backend is what the handlers need from the application.
type Backend interface {
	// Accept routes and persists one notification. target is empty for
	// POST /webhook. Errors: ErrUnknownTarget, ErrTooLarge, ErrUnavailable
	// (wrapped).
	Accept(msg *alert.Message, target string) (*Accepted, error)
	// Ready reports whether notifications can be accepted.
	Ready() bool
	// Reload rebuilds the runtime from the config file.
	Reload() error
	// Credentials are the credentials in force now.
	Credentials() Credentials
	Deliveries
	Alerts
	Targets
	Renderer
}

// Accepted describes an accepted notification.
type Accepted struct {
	GroupKey string   `json:"groupKey"`
	Targets  []string `json:"targets"`
	// Duplicate: the same notification was already accepted.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Errors a Backend returns.
var (
	ErrUnknownTarget = errors.New("unknown target")
	// ErrTooLarge marks a notification the bridge cannot store whole; a
	// retry does not help (413).
	ErrTooLarge    = errors.New("notification too large to store")
	ErrUnavailable = errors.New("temporarily unable to accept")
	// ErrShuttingDown wraps ErrUnavailable while the bridge stops.
	ErrShuttingDown = fmt.Errorf("%w: shutting down", ErrUnavailable)
	// ErrTargetDisabled: a test send to a disabled target.
	ErrTargetDisabled = errors.New("target is disabled")
)

// DefaultMaxBodyBytes is the default webhook body limit.
const DefaultMaxBodyBytes = 4 << 20

// Server holds the handlers.
type Server struct {
	b            Backend
	log          *zap.Logger
	maxBodyBytes int64
	m            *metrics.Metrics

	// Webhook limits; see limits.go.
	maxAlerts   int
	budgetBytes int64
	budget      *semaphore.Weighted
	decodeWait  time.Duration

	access Access
	pw     passwords

	// sampled logs what unauthenticated clients can cause in bulk (broken
	// webhook reads): the first of each message per second, the rest only
	// counted by the metrics.
	sampled *zap.Logger

	// prefix is the route prefix ("" for the root); routes are the
	// endpoints other packages add (see routes.go).
	prefix string
	routes []Route
}

// New builds the HTTP handler. maxBodyBytes <= 0 means
// DefaultMaxBodyBytes; opts set the other webhook limits (MaxAlerts,
// DecodeBudget, DecodeWait), whose defaults apply otherwise.
func New(b Backend, log *zap.Logger, maxBodyBytes int64, m *metrics.Metrics, opts ...Option) http.Handler {
	if maxBodyBytes <= 0 {
		maxBodyBytes = DefaultMaxBodyBytes
	}
	if log == nil {
		log = zap.NewNop()
	}
	s := &Server{b: b, log: log, maxBodyBytes: maxBodyBytes, m: m}
	s.sampled = log.WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewSamplerWithOptions(c, time.Second, 1, 0)
	}))
	for _, o := range opts {
		o(s)
	}
	s.initLimits()
	r := mux.NewRouter()
	handle := func(path string, class func(*http.Request) Class, h http.HandlerFunc, methods ...string) *mux.Route {
		route := r.Handle(path, s.guard(class, h))
		if len(methods) > 0 {
			route.Methods(methods...)
		}
		return route
	}
	handle("/webhook", is(ClassIngest), s.webhook, http.MethodPost)
	handle("/webhook/{target}", is(ClassIngest), s.webhook, http.MethodPost)
	handle("/-/healthy", is(ClassHealth), s.healthy, http.MethodGet, http.MethodHead)
	handle("/-/ready", is(ClassHealth), s.ready, http.MethodGet, http.MethodHead)
	handle("/-/reload", is(ClassLifecycle), s.reload, http.MethodPost, http.MethodPut)
	handle("/api/v1/deliveries", is(ClassRead), s.listDeliveries, http.MethodGet)
	handle("/api/v1/deliveries/{id:[0-9]+}/retry", is(ClassAdmin), s.retryDelivery, http.MethodPost)
	handle("/api/v1/deliveries/{id:[0-9]+}", is(ClassAdmin), s.deleteDelivery, http.MethodDelete)
	handle("/api/v1/alerts", is(ClassRead), s.listAlerts, http.MethodGet)
	handle("/api/v1/alerts/{id}", is(ClassRead), s.getAlert, http.MethodGet)
	handle("/api/v1/targets", is(ClassRead), s.listTargets, http.MethodGet)
	handle("/api/v1/targets/{name}/test", is(ClassAdmin), s.sendTest, http.MethodPost)
	handle("/api/v1/render", renderClass, s.render, http.MethodPost)
	handle("/metrics", is(ClassMetrics), promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry}).ServeHTTP, http.MethodGet)
	// Profiling, as every Prometheus component offers it, behind a flag.
	handle("/debug/pprof/cmdline", is(ClassDebug), pprof.Cmdline)
	handle("/debug/pprof/profile", is(ClassDebug), pprof.Profile)
	handle("/debug/pprof/symbol", is(ClassDebug), pprof.Symbol)
	handle("/debug/pprof/trace", is(ClassDebug), pprof.Trace)
	r.PathPrefix("/debug/pprof/").Handler(s.guard(is(ClassDebug), http.HandlerFunc(pprof.Index)))
	for _, rt := range s.routes {
		h := s.guardWith(is(rt.Class), rt.Handler, rt.Refuse)
		var route *mux.Route
		if rt.Prefix {
			route = r.PathPrefix(rt.Path).Handler(h)
		} else {
			route = r.Handle(rt.Path, h)
		}
		if len(rt.Methods) > 0 {
			route.Methods(rt.Methods...)
		}
	}
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "not found")
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
	})
	return s.underPrefix(s.perimeter(r))
}

// webhook answers POST /webhook[/{target}]. Payload problems no retry can
// fix get 4xx and a warn log line (rejected); trouble a retry can fix gets
// 503. A request first reserves its share of the decode budget, so the
// requests decoded at once cannot together exceed it.
func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	target := mux.Vars(r)["target"]
	// A declared size over the limit is refused before reading a byte;
	// MaxBytesReader catches bodies without (or lying about) a length.
	if r.ContentLength > s.maxBodyBytes {
		s.reject(w, r, http.StatusRequestEntityTooLarge, metrics.ResultTooLarge, "body exceeds the limit of "+byteCount(s.maxBodyBytes), "", 0)
		return
	}
	release, ok := s.acquire(r)
	if !ok {
		s.observe(metrics.ResultUnavailable, 0)
		s.log.Warn("webhook decode budget exhausted; answered 503 so the sender retries",
			zap.Int64("decode_budget_bytes", s.budgetBytes), zap.Int64("content_length", r.ContentLength), zap.String("remote", r.RemoteAddr))
		w.Header().Set("Retry-After", retryAfterSeconds)
		writeError(w, http.StatusServiceUnavailable, "too many notifications being decoded at once; retry later")
		return
	}
	defer release()
	body := http.MaxBytesReader(w, r.Body, s.maxBodyBytes)
	msg, err := alert.DecodeWith(body, alert.DecodeOptions{MaxAlerts: s.maxAlerts, SizeHint: r.ContentLength})
	if err != nil {
		var (
			tooBig   *http.MaxBytesError
			tooMany  *alert.TooManyAlertsError
			invalidP *alert.InvalidError
		)
		switch {
		case errors.As(err, &tooBig):
			s.reject(w, r, http.StatusRequestEntityTooLarge, metrics.ResultTooLarge, "body exceeds the limit of "+byteCount(tooBig.Limit), "", 0)
		case errors.As(err, &tooMany):
			s.reject(w, r, http.StatusRequestEntityTooLarge, metrics.ResultTooLarge, err.Error(), tooMany.GroupKey, 0)
		case errors.As(err, &invalidP):
			s.reject(w, r, http.StatusBadRequest, metrics.ResultInvalid, err.Error(), invalidP.GroupKey, 0)
		default:
			// The connection broke while reading: a retry can fix it.
			s.observe(metrics.ResultUnavailable, 0)
			s.sampled.Warn("reading webhook body (logged at most once a second; alertbridge_notifications_received_total{result=\"unavailable\"} counts them all)", zap.Error(err))
			writeError(w, http.StatusServiceUnavailable, "reading the body failed; retry")
		}
		return
	}
	acc, err := s.b.Accept(msg, target)
	switch {
	case errors.Is(err, ErrUnknownTarget):
		s.reject(w, r, http.StatusNotFound, metrics.ResultUnknownTarget, "unknown target "+quote(target), msg.GroupKey, len(msg.Alerts))
	case errors.Is(err, ErrTooLarge):
		s.log.Error("notification refused: too large for the storage engine", zap.String("group_key", msg.GroupKey), zap.Error(err))
		s.reject(w, r, http.StatusRequestEntityTooLarge, metrics.ResultTooLarge, "the notification is too large for the bridge's storage (see its log)", msg.GroupKey, len(msg.Alerts))
	case err != nil:
		s.observe(metrics.ResultUnavailable, len(msg.Alerts))
		s.log.Error("cannot accept notification", zap.String("group_key", msg.GroupKey), zap.Error(err))
		writeError(w, http.StatusServiceUnavailable, unavailableMessage(err))
	default:
		result := metrics.ResultAccepted
		if acc.Duplicate {
			result = metrics.ResultDuplicate
		}
		s.observe(result, len(msg.Alerts))
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "groupKey": acc.GroupKey, "targets": acc.Targets, "duplicate": acc.Duplicate})
	}
}

// maxLoggedBytes bounds each request-derived value in a log line.
const maxLoggedBytes = 512

// reject answers a notification that no retry can fix (400, 404, 413,
// 415) with code and reason, counts it under result, and logs it at warn
// with the reason, the group key when known (empty: unknown) and the
// target named in the path. Nothing else of the body is logged, and each
// value is cut to maxLoggedBytes.
func (s *Server) reject(w http.ResponseWriter, r *http.Request, code int, result, reason, groupKey string, alerts int) {
	s.observe(result, alerts)
	fields := []zap.Field{zap.Int("status", code), zap.String("reason", clip(reason))}
	if groupKey != "" {
		fields = append(fields, zap.String("group_key", clip(groupKey)))
	}
	if target := mux.Vars(r)["target"]; target != "" {
		fields = append(fields, zap.String("target", clip(target)))
	}
	fields = append(fields, zap.String("remote", r.RemoteAddr))
	s.log.Warn("notification rejected", fields...)
	writeError(w, code, reason)
}

// clip cuts s to maxLoggedBytes (at a rune boundary) and marks the cut.
func clip(s string) string {
	if len(s) <= maxLoggedBytes {
		return s
	}
	cut := maxLoggedBytes
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…(" + strconv.Itoa(len(s)) + " bytes)"
}

// observe counts one webhook request and the alerts it carried.
func (s *Server) observe(result string, alerts int) {
	s.m.NotificationsReceived.WithLabelValues(result).Inc()
	if alerts > 0 {
		s.m.AlertsReceived.WithLabelValues(result).Add(float64(alerts))
	}
}

func (s *Server) healthy(w http.ResponseWriter, _ *http.Request) {
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte("Healthy.\n"))
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request) {
	if !s.b.Ready() {
		http.Error(w, "Not ready.", http.StatusServiceUnavailable)
		return
	}
	_, _ = w.Write([]byte("Ready.\n"))
}

func (s *Server) reload(w http.ResponseWriter, _ *http.Request) {
	if err := s.b.Reload(); err != nil {
		writeError(w, http.StatusInternalServerError, "reload failed: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
}

// unavailable logs err and answers 503 for a failure the caller can only
// retry.
func (s *Server) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("cannot serve the request", zap.String("method", r.Method), zap.String("path", clip(r.URL.Path)), zap.Error(err))
	writeError(w, http.StatusServiceUnavailable, unavailableMessage(err))
}

// unavailableMessage says what kind of trouble err is, never its text,
// which can name files of the store.
func unavailableMessage(err error) string {
	if errors.Is(err, ErrShuttingDown) {
		return "shutting down; retry later"
	}
	return "temporarily unable to serve the request: the store cannot be used now; retry later"
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"status": "error", "error": msg})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func quote(s string) string { b, _ := json.Marshal(s); return string(b) }

func byteCount(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
