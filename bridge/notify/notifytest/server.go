// Package notifytest provides fake receivers for tests: real HTTP servers on
// 127.0.0.1 that enforce a contract, record what they accepted, and answer
// as scripted. Handlers never fail the test themselves; they record, and
// the test goroutine asserts.
package notifytest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Received is one request the fake accepted for inspection.
type Received struct {
	Path   string
	Header http.Header
	Body   []byte
	At     time.Time
}

// Reply is a scripted answer.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Webhook is a fake generic JSON webhook receiver. It requires POST with a
// Content-Type of application/json and a body that is valid JSON; anything
// else is answered 400 and recorded in Violations.
type Webhook struct {
	URL string

	mu         sync.Mutex
	attempts   []Received // every well-formed request, whatever the reply
	rejected   int        // scripted non-2xx replies sent
	received   []Received
	violations []string
	script     []Reply
	notify     chan struct{}
}

// NewWebhook starts a fake webhook server, closed when the test ends.
func NewWebhook(t testing.TB) *Webhook {
	w := &Webhook{notify: make(chan struct{}, 1)}
	srv := httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(srv.Close)
	w.URL = srv.URL
	return w
}

// Script queues replies used for the next requests in order; when it runs
// out the fake answers 200 {"ok":true}.
func (w *Webhook) Script(replies ...Reply) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.script = append(w.script, replies...)
}

func (w *Webhook) serve(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	rec := Received{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body, At: time.Now()}
	var problem string
	switch {
	case err != nil:
		problem = "reading body: " + err.Error()
	case r.Method != http.MethodPost:
		problem = "method " + r.Method + ", want POST"
	case r.Header.Get("Content-Type") != "application/json":
		problem = "Content-Type " + r.Header.Get("Content-Type") + ", want application/json"
	case !json.Valid(body):
		problem = "body is not valid JSON: " + string(body)
	}
	w.mu.Lock()
	if problem != "" {
		w.violations = append(w.violations, problem)
		w.mu.Unlock()
		http.Error(rw, problem, http.StatusBadRequest)
		return
	}
	reply := Reply{Status: http.StatusOK, Body: `{"ok":true}`}
	if len(w.script) > 0 {
		reply, w.script = w.script[0], w.script[1:]
	}
	w.attempts = append(w.attempts, rec)
	if reply.Status >= 200 && reply.Status < 300 {
		w.received = append(w.received, rec)
	} else {
		w.rejected++
	}
	w.mu.Unlock()
	select {
	case w.notify <- struct{}{}:
	default:
	}
	for k, v := range reply.Header {
		rw.Header().Set(k, v)
	}
	rw.WriteHeader(reply.Status)
	_, _ = io.WriteString(rw, reply.Body)
}

// Received returns a copy of the accepted requests so far.
func (w *Webhook) Received() []Received {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Received(nil), w.received...)
}

// Rejected counts the scripted non-2xx replies sent so far.
func (w *Webhook) Rejected() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.rejected
}

// AttemptIDs returns the value of header h on every well-formed request,
// accepted or not, in arrival order.
func (w *Webhook) AttemptIDs(h string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]string, len(w.attempts))
	for i, r := range w.attempts {
		out[i] = r.Header.Get(h)
	}
	return out
}

// Violations returns contract violations seen so far.
func (w *Webhook) Violations() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.violations...)
}

// WaitFor waits until at least n requests were accepted, or timeout
// passes, and returns what was accepted. It never sleeps in a busy loop.
func (w *Webhook) WaitFor(n int, timeout time.Duration) []Received {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := w.Received(); len(got) >= n {
			return got
		}
		select {
		case <-w.notify:
		case <-deadline.C:
			return w.Received()
		}
	}
}
