package bridge

import (
	"net"
	"net/http"
	"time"
)

// HTTP server limits when Options leave them zero. Slow or idle clients
// are cut off by the timeouts and, beyond MaxConnections, by closing the
// oldest idle or slowest connection (see connLimit), so they cannot keep
// Alertmanager or a health probe out.
const (
	// DefaultReadHeaderTimeout bounds reading a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds reading a whole request, body included
	// (a 4 MiB webhook body at 100 KiB/s takes 40 s).
	DefaultReadTimeout = time.Minute
	// DefaultWriteTimeout bounds a request from the end of its headers to
	// the end of its answer; above the 30 s of a default CPU profile.
	DefaultWriteTimeout = 2 * time.Minute
	// DefaultIdleTimeout closes a keep-alive connection without requests.
	DefaultIdleTimeout = 2 * time.Minute
	// DefaultMaxConnections bounds the open connections: well below the
	// common 1,024 descriptors limit, leaving room for the store and
	// outgoing deliveries.
	DefaultMaxConnections = 512
)

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// httpServer builds the server for the App's handler with its timeouts,
// and wraps l in the connection limit.
func (a *App) httpServer(l net.Listener) (*http.Server, net.Listener) {
	limited := newConnLimit(l, orDefault(a.opts.MaxConnections, DefaultMaxConnections))
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: orDefault(a.opts.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(a.opts.ReadTimeout, DefaultReadTimeout),
		WriteTimeout:      orDefault(a.opts.WriteTimeout, DefaultWriteTimeout),
		IdleTimeout:       orDefault(a.opts.IdleTimeout, DefaultIdleTimeout),
		MaxHeaderBytes:    64 << 10,
		ConnState:         limited.track,
	}
	return srv, limited
}
