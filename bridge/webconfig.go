package bridge

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"
	"go.uber.org/zap"
	"go.yaml.in/yaml/v2"
	"golang.org/x/time/rate"
)

// webConfig is the --web.config.file (exporter-toolkit format): TLS,
// response headers, a request rate limit, and basic auth users. The bridge
// serves it itself rather than through web.Serve, because there basic auth
// is a gate in front of every endpoint, which cannot be combined with
// bearer tokens as alternatives; here its users are one of the ingest
// credentials (see credentials.go). Like exporter-toolkit, it re-reads the
// file when it changes (TLS per new connection, users per request); a file
// that stops being valid keeps the last good one in force and is logged.
// So does a file that becomes empty or blank (a Secret being rewritten) and
// one that drops every basic auth user while it had some: emptying the file
// never switches authentication off (restart the bridge to remove the
// users on purpose).
type webConfig struct {
	path string
	log  *zap.Logger

	mu      sync.Mutex
	modTime time.Time
	size    int64
	cfg     *web.Config
	limiter *rate.Limiter
}

// loadWebConfig reads and checks path with exporter-toolkit's own rules
// (strict YAML, bcrypt hashes, TLS files). An empty path means plain HTTP
// and no users. A file that is empty or blank (only whitespace or
// comments, or {}), or whose basic_auth_users is written but empty, is
// refused when no inbound bearer token is configured (ingestToken false):
// the file would then be the only way Alertmanager is admitted, and would
// leave ingest open.
func loadWebConfig(path string, ingestToken bool, log *zap.Logger) (*webConfig, error) {
	w := &webConfig{path: path, log: log}
	if path == "" {
		w.cfg = &web.Config{}
		return w, nil
	}
	cfg, fi, err := readWebConfig(path)
	if err != nil {
		return nil, fmt.Errorf("web config %s: %w", path, err)
	}
	if !ingestToken && len(cfg.Users) == 0 {
		if blank, usersKey := webConfigShape(path); blank || usersKey {
			what := "is empty"
			if !blank {
				what = "has an empty basic_auth_users"
			}
			return nil, fmt.Errorf("web config %s %s, and no inbound.bearer_token is configured: Alertmanager would be admitted without a credential; add basic_auth_users, set inbound.bearer_token, or leave out --web.config.file", path, what)
		}
	}
	w.cfg, w.modTime, w.size = cfg, fi.ModTime(), fi.Size()
	if rl := cfg.RateLimiterConfig; rl.Interval > 0 {
		w.limiter = rate.NewLimiter(rate.Every(rl.Interval), rl.Burst)
	}
	return w, nil
}

func readWebConfig(path string) (*web.Config, os.FileInfo, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, nil, err
	}
	if err := web.Validate(path); err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	// The defaults exporter-toolkit starts from.
	c := &web.Config{
		TLSConfig:  web.TLSConfig{MinVersion: tls.VersionTLS12, MaxVersion: tls.VersionTLS13},
		HTTPConfig: web.HTTPConfig{HTTP2: true},
	}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, nil, err
	}
	c.TLSConfig.SetDirectory(filepath.Dir(path))
	return c, fi, nil
}

// webConfigShape reports whether the web config file at path is blank (no
// key at all: empty, whitespace, comments, {}) and whether it writes a
// basic_auth_users key. An unreadable file reports neither (readWebConfig
// reports it).
func webConfigShape(path string) (blank, usersKey bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return false, false
	}
	var m map[string]any
	if yaml.Unmarshal(b, &m) != nil {
		return false, false
	}
	_, usersKey = m["basic_auth_users"]
	return len(m) == 0, usersKey
}

// current returns the configuration in force, re-reading the file if it
// changed.
func (w *webConfig) current() *web.Config {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.path == "" {
		return w.cfg
	}
	fi, err := os.Stat(w.path)
	if err != nil || (fi.ModTime().Equal(w.modTime) && fi.Size() == w.size) {
		return w.cfg
	}
	w.modTime, w.size = fi.ModTime(), fi.Size()
	cfg, _, err := readWebConfig(w.path)
	if err != nil {
		w.log.Error("web config file changed but is not valid; keeping the previous one", zap.String("file", w.path), zap.Error(err))
		return w.cfg
	}
	if blank, _ := webConfigShape(w.path); blank {
		w.log.Error("web config file is empty; keeping the previous one", zap.String("file", w.path))
		return w.cfg
	}
	if len(cfg.Users) == 0 && len(w.cfg.Users) > 0 {
		w.log.Error("web config file no longer has basic_auth_users; keeping the previous one (restart the bridge to remove the users)", zap.String("file", w.path))
		return w.cfg
	}
	w.cfg = cfg
	return cfg
}

// users returns the basic auth users (name → bcrypt hash).
func (w *webConfig) users() map[string]string {
	c := w.current()
	if len(c.Users) == 0 {
		return nil
	}
	out := make(map[string]string, len(c.Users))
	for u, h := range c.Users {
		out[u] = string(h)
	}
	return out
}

// wrap applies the file's response headers and rate limit to h.
func (w *webConfig) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.limiter != nil && !w.limiter.Allow() {
			http.Error(rw, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		for k, v := range w.current().HTTPConfig.Header {
			rw.Header().Set(k, v)
		}
		h.ServeHTTP(rw, r)
	})
}

// serve serves srv on l, over TLS when the file configures it. The
// certificate and TLS settings are read again for each new connection, so
// a renewed certificate applies without a restart.
func (w *webConfig) serve(srv *http.Server, l net.Listener) error {
	c := w.current()
	if !c.TLSConfig.IsEnabled() {
		w.log.Info("listening", zap.String("address", l.Addr().String()), zap.Bool("tls", false))
		return srv.Serve(l)
	}
	tlsCfg, err := web.ConfigToTLSConfig(&c.TLSConfig)
	if err != nil {
		return fmt.Errorf("web config %s: %w", w.path, err)
	}
	protos := []string{"h2", "http/1.1"}
	if !c.HTTPConfig.HTTP2 {
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
		protos = []string{"http/1.1"}
	}
	tlsCfg.NextProtos = protos
	tlsCfg.GetConfigForClient = func(*tls.ClientHelloInfo) (*tls.Config, error) {
		cc, err := web.ConfigToTLSConfig(&w.current().TLSConfig)
		if err != nil {
			return nil, err
		}
		cc.NextProtos = protos
		return cc, nil
	}
	srv.TLSConfig = tlsCfg
	w.log.Info("listening", zap.String("address", l.Addr().String()), zap.Bool("tls", true), zap.Bool("http2", c.HTTPConfig.HTTP2))
	return srv.ServeTLS(l, "", "")
}
