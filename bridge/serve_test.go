package bridge

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// TestConnLimitEvicts: at the limit a new connection is served and the
// oldest idle one closed; with none idle, the one active longest.
func TestConnLimitEvicts(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	l := newConnLimit(raw, 2)
	clock := time.Unix(0, 0)
	l.now = func() time.Time { clock = clock.Add(time.Second); return clock }
	accept := func() (client, server net.Conn) { return dialAccepted(t, raw, l) }
	closed := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return err != nil && !(errors.As(err, &ne) && ne.Timeout())
	}
	c1, s1 := accept()
	c2, s2 := accept()
	l.track(s1, http.StateActive) // older, but busy
	l.track(s2, http.StateIdle)
	c3, s3 := accept()
	if !closed(c2) {
		t.Error("the idle connection was not closed")
	}
	if n := l.open(); n != 2 {
		t.Errorf("open connections: %d, want 2", n)
	}
	l.track(s3, http.StateActive)
	c4, _ := accept()
	if !closed(c1) {
		t.Error("with none idle, the connection active longest was not closed")
	}
	for _, c := range []net.Conn{c3, c4} {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Read(make([]byte, 1)); err == io.EOF {
			t.Error("a newer connection was closed")
		}
	}
	l.track(s3, http.StateClosed)
	if n := l.open(); n != 1 {
		t.Errorf("open after a close: %d, want 1", n)
	}
}

// TestSlowClientsDoNotStarveHealth: more idle and slow-body connections
// than the connection limit allows do not keep a health probe or a
// notification out, and the timeouts close the slow ones.
func TestSlowClientsDoNotStarveHealth(t *testing.T) {
	const limit, idle, slow = 16, 24, 24
	app := newTestApp(t, webhookConfig("  - {name: a, type: webhook, url: 'http://127.0.0.1:1/'}\n"), Options{
		MaxConnections: limit, ReadHeaderTimeout: time.Second, ReadTimeout: time.Second, IdleTimeout: time.Second,
	})
	b := serveTestApp(t, app)
	addr := strings.TrimPrefix(b.url, "http://")
	var slowConns []net.Conn
	for i := range idle + slow {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if i >= idle { // a body that never arrives
			fmt.Fprintf(c, "POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"version\":")
			slowConns = append(slowConns, c)
		}
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 5 {
		resp, err := client.Get(b.url + "/-/healthy")
		if err != nil {
			t.Fatalf("health probe among slow clients: %v", err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("health probe: %d", resp.StatusCode)
		}
	}
	req, _ := http.NewRequest("POST", b.url+"/webhook", strings.NewReader(string(readFile(t, "../examples/payload-firing.json"))))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("notification among slow clients: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("notification: %d", resp.StatusCode)
	}
	// Every slow connection is closed, by eviction or by the read timeout.
	for i, c := range slowConns {
		_ = c.SetReadDeadline(time.Now().Add(15 * time.Second))
		r := bufio.NewReader(c)
		for {
			if _, err := r.ReadByte(); err != nil {
				if errors.Is(err, os.ErrDeadlineExceeded) {
					t.Fatalf("slow connection %d still open after the read timeout", i)
				}
				break
			}
		}
	}
}

// TestConnLimitSparesJustAcceptedConnections: under a flood of new
// connections, one accepted a moment ago (a health probe about to send its
// request) is closed last; a connection silent since it was accepted long
// ago goes before one with a request in progress.
func TestConnLimitSparesJustAcceptedConnections(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	l := newConnLimit(raw, 3)
	clock := time.Unix(1000, 0)
	l.now = func() time.Time { return clock }
	accept := func() (client, server net.Conn) { return dialAccepted(t, raw, l) }
	isOpen := func(c net.Conn) bool {
		_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		return errors.As(err, &ne) && ne.Timeout()
	}
	silent, _ := accept() // accepted, never sends a request
	clock = clock.Add(2 * newGrace)
	busy, sBusy := accept()
	l.track(sBusy, http.StateActive)
	clock = clock.Add(newGrace / 10)
	probe, _ := accept() // just accepted
	accept()             // the flood: each new one closes one
	if isOpen(silent) {
		t.Error("the connection silent since it was accepted long ago was kept")
	}
	accept()
	if isOpen(busy) {
		t.Error("the request in progress was kept over a just-accepted connection")
	}
	if !isOpen(probe) {
		t.Error("the just-accepted connection was closed while older ones were left")
	}
}

// dialAccepted connects to raw and returns both ends: the client's and the
// one l accepted.
func dialAccepted(t *testing.T, raw net.Listener, l *connLimit) (client, server net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return c, s
}
