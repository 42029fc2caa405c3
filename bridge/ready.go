package bridge

import (
	"sync"
	"time"

	"go.uber.org/zap"
)

// readinessTTL is how long a store probe's outcome answers readiness; it
// bounds the disk syncs that probes (open to anyone) can cause.
const readinessTTL = time.Second

// readiness caches the last store probe.
type readiness struct {
	mu  sync.Mutex
	at  time.Time
	err error
}

// Ready implements server.Backend: not while shutting down, nor while the
// store refuses writes (then Alertmanager's posts would get 503 anyway, and
// a load balancer should send them to a replica that can take them).
func (a *App) Ready() bool {
	if a.stopping.Load() {
		return false
	}
	p := &a.probe
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < readinessTTL {
		return p.err == nil
	}
	err := a.db.Writable()
	switch {
	case err != nil && p.err == nil:
		a.log.Error("not ready: the store refuses writes", zap.Error(err))
	case err == nil && p.err != nil:
		a.log.Info("ready again: the store takes writes")
	}
	p.at, p.err = time.Now(), err
	return err == nil
}
