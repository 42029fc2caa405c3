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
// newest connection: at the limit it closes one old connection first: an
// idle one, else one accepted a while ago that never sent a request, else
// the one whose request has run longest, and a just-accepted one only when
// nothing else is left. Slow
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

// newGrace is how long a just-accepted connection is spared while it sends
// its first request: a flood of new connections then closes idle, silent
// and long-running ones first, not the health probe that connected a
// moment ago.
const newGrace = time.Second

// Eviction ranks, lowest closed first.
const (
	rankIdle   = iota // keep-alive, no request
	rankSilent        // accepted over newGrace ago and still no request
	rankActive        // a request in progress
	rankFresh         // accepted less than newGrace ago
)

// oldest picks the connection to close: the lowest rank, and within it the
// one longest in its state; l.mu is held.
func (l *connLimit) oldest() net.Conn {
	now := l.now()
	var best net.Conn
	bestRank := rankFresh + 1
	var bestSince time.Time
	for c, s := range l.conns {
		r := rankActive
		switch {
		case s.state == http.StateIdle:
			r = rankIdle
		case s.state == http.StateNew && now.Sub(s.since) >= newGrace:
			r = rankSilent
		case s.state == http.StateNew:
			r = rankFresh
		}
		if r < bestRank || (r == bestRank && s.since.Before(bestSince)) {
			best, bestRank, bestSince = c, r, s.since
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
