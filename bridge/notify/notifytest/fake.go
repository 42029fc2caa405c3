// Package notifytest holds what the target types' tests share: the Fake
// receiver that each type's strict fake (bridge/notify/<type>/fake) is built
// on, payload fixtures, goldens with -update, and the conformance case type.
// Handlers never fail the test themselves; they record, and the test
// goroutine asserts.
package notifytest

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Received is one request a fake accepted.
type Received struct {
	Path   string
	Header http.Header
	Body   []byte
	// Text is what a reader of the chat would see of the message, as the
	// fake's platform renders it (markup and escapes resolved); empty for
	// generic webhooks.
	Text string
	At   time.Time
}

// Reply is an answer, scripted or produced by a fake's contract check.
type Reply struct {
	Status int
	Header map[string]string
	Body   string
}

// Check validates one request against a platform's contract. It returns
// the platform's own error answer and a description of the violation, or
// ok with the visible text of the message. Checks run under the fake's
// lock, so they may keep state (rate-limit windows) without locking.
type Check func(r *http.Request, body []byte, now time.Time) (text string, violation string, reject *Reply)

// Fake is the common core of every fake receiver.
type Fake struct {
	// URL is the address to configure as the target's url (for fakes with
	// credentials in the URL, the valid one).
	URL string
	// Server is the underlying test server.
	Server *httptest.Server
	// Answer, when set before the first request, answers each well-formed
	// request that has no scripted reply, in place of the fixed success
	// answer: a platform whose answers depend on its state (message ids,
	// edits of messages that may be gone) sets it. It runs under the
	// fake's lock, after the check; an answer that is not a success (see
	// NewFake) is not a violation, only not received.
	Answer func(r *http.Request, body []byte, text string) Reply
	// Auxiliary, when set before the first request, tells the requests
	// that deliver no message (an app's token endpoint): they are checked
	// and answered by Answer, never by a scripted reply, and are left out
	// of Received, Attempts and WaitFor.
	Auxiliary func(r *http.Request) bool

	mu         sync.Mutex
	check      Check
	ok         Reply
	success    func(Reply) bool
	attempts   []Received // every well-formed request, whatever the reply
	rejected   int        // scripted non-success replies sent
	received   []Received
	violations []string
	script     []Reply
	notify     chan struct{}
	now        func() time.Time
}

// NewFake starts a fake that validates requests with check and answers
// accepted ones with ok unless a reply is scripted. success tells a
// scripted reply that means delivery (the request then counts as
// received) from an error answer; nil means any 2xx, and platforms that
// report errors in a 200 body pass their own. The fake is closed when the
// test ends.
func NewFake(t testing.TB, check Check, ok Reply, success func(Reply) bool) *Fake {
	f := &Fake{check: check, ok: ok, success: success, notify: make(chan struct{}, 1), now: time.Now}
	f.Server = httptest.NewServer(f)
	t.Cleanup(f.Server.Close)
	f.URL = f.Server.URL
	return f
}

// Script queues replies for the next well-formed requests, in order. A
// scripted reply replaces the platform's success answer; it is how tests
// make a fake answer with the platform's real error shapes.
func (f *Fake) Script(replies ...Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script = append(f.script, replies...)
}

// ServeHTTP checks a request against the contract and answers it.
func (f *Fake) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 32<<20))
	rec := Received{Path: r.URL.RequestURI(), Header: r.Header.Clone(), Body: body, At: time.Now()}
	f.mu.Lock()
	var (
		violation string
		reject    *Reply
	)
	if err != nil {
		violation, reject = "reading body: "+err.Error(), &Reply{Status: http.StatusBadRequest}
	} else {
		rec.Text, violation, reject = f.check(r, body, f.now())
	}
	if violation != "" {
		f.violations = append(f.violations, violation)
		f.mu.Unlock()
		f.wake()
		if reject == nil {
			reject = &Reply{Status: http.StatusBadRequest, Body: violation}
		}
		write(rw, *reject)
		return
	}
	if f.Auxiliary != nil && f.Auxiliary(r) {
		reply := f.ok
		if f.Answer != nil {
			reply = f.Answer(r, body, rec.Text)
		}
		f.mu.Unlock()
		write(rw, reply)
		return
	}
	reply := f.ok
	scripted := false
	if len(f.script) > 0 {
		reply, f.script, scripted = f.script[0], f.script[1:], true
	} else if f.Answer != nil {
		reply, scripted = f.Answer(r, body, rec.Text), true
	}
	f.attempts = append(f.attempts, rec)
	if scripted && !f.succeeds(reply) {
		f.rejected++
	} else {
		f.received = append(f.received, rec)
	}
	f.mu.Unlock()
	f.wake()
	write(rw, reply)
}

func (f *Fake) succeeds(r Reply) bool {
	if f.success != nil {
		return f.success(r)
	}
	return r.Status == 0 || (r.Status >= 200 && r.Status < 300)
}

func (f *Fake) wake() {
	select {
	case f.notify <- struct{}{}:
	default:
	}
}

func write(rw http.ResponseWriter, reply Reply) {
	for k, v := range reply.Header {
		rw.Header().Set(k, v)
	}
	if reply.Status == 0 {
		reply.Status = http.StatusOK
	}
	rw.WriteHeader(reply.Status)
	_, _ = io.WriteString(rw, reply.Body)
}

// Received returns a copy of the accepted requests so far.
func (f *Fake) Received() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.received...)
}

// Rejected counts the scripted error replies sent so far.
func (f *Fake) Rejected() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.rejected
}

// AttemptIDs returns the value of header h on every well-formed request,
// accepted or not, in arrival order.
func (f *Fake) AttemptIDs(h string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.attempts))
	for i, r := range f.attempts {
		out[i] = r.Header.Get(h)
	}
	return out
}

// Attempts returns every well-formed request, accepted or not.
func (f *Fake) Attempts() []Received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Received(nil), f.attempts...)
}

// Violations returns the contract violations seen so far: requests the
// real platform would have refused, rate limits included.
func (f *Fake) Violations() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.violations...)
}

// WaitFor waits until at least n requests were accepted, or timeout
// passes, and returns what was accepted. It never sleeps in a busy loop.
func (f *Fake) WaitFor(n int, timeout time.Duration) []Received {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		if got := f.Received(); len(got) >= n {
			return got
		}
		select {
		case <-f.notify:
		case <-deadline.C:
			return f.Received()
		}
	}
}
