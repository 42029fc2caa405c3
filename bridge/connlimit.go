package bridge

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimit bounds the connections the server holds open. Unlike a
// listener that stops accepting at the limit (where a health probe or
// Alertmanager would queue behind slow clients), it always serves the
// newest connection: at the limit it closes one old connection first, the
// one that has waited longest without a request in progress (idle, or
// accepted and silent), else the one whose request has run longest. Slow
// or idle clients therefore cannot keep anyone out, and the process never
// holds more than max connections' descriptors for its listener.
type connLimit struct {
	net.Listener
	max int
	now func() time.Time

	mu    sync.Mutex
	conns map[net.Conn]*connState
}

type connState struct {
	state http.ConnState
	since time.Time
}

func newConnLimit(l net.Listener, max int) *connLimit {
	return &connLimit{Listener: l, max: max, now: time.Now, conns: map[net.Conn]*connState{}}
}

// Accept implements net.Listener.
func (l *connLimit) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	var victim net.Conn
	l.mu.Lock()
	if len(l.conns) >= l.max {
		victim = l.oldest()
		delete(l.conns, victim)
	}
	tc := &trackedConn{Conn: c, l: l}
	l.conns[tc] = &connState{state: http.StateNew, since: l.now()}
	l.mu.Unlock()
	if victim != nil {
		_ = victim.Close()
	}
	return tc, nil
}

// oldest picks the connection to close; l.mu is held.
func (l *connLimit) oldest() net.Conn {
	var best net.Conn
	var bestIdle bool
	var bestSince time.Time
	for c, s := range l.conns {
		idle := s.state == http.StateNew || s.state == http.StateIdle
		switch {
		case best == nil, idle && !bestIdle, idle == bestIdle && s.since.Before(bestSince):
			best, bestIdle, bestSince = c, idle, s.since
		}
	}
	return best
}

// track is the http.Server's ConnState hook.
func (l *connLimit) track(c net.Conn, state http.ConnState) {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.conns[c]
	switch {
	case !ok:
	case state == http.StateClosed || state == http.StateHijacked:
		delete(l.conns, c)
	default:
		s.state, s.since = state, l.now()
	}
}

// open returns the number of connections held.
func (l *connLimit) open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

type trackedConn struct {
	net.Conn
	l    *connLimit
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
