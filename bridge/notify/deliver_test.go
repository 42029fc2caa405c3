package notify

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

func TestBackoffBounds(t *testing.T) {
	const base, max = 100 * time.Millisecond, 2 * time.Second
	for n := 1; n <= 12; n++ {
		d := base << (n - 1)
		if d > max {
			d = max
		}
		seen := map[time.Duration]bool{}
		for range 50 {
			got := Backoff(n, base, max)
			if got < d/2 || got > d {
				t.Fatalf("Backoff(%d) = %v, want within [%v, %v]", n, got, d/2, d)
			}
			if got > max {
				t.Fatalf("Backoff(%d) = %v above max %v", n, got, max)
			}
			seen[got] = true
		}
		if len(seen) < 2 {
			t.Errorf("Backoff(%d): 50 samples all equal (%v): no jitter", n, seen)
		}
	}
}

func TestBackoffEdges(t *testing.T) {
	const base, max = 100 * time.Millisecond, 2 * time.Second
	for _, n := range []int{0, -5} {
		if got := Backoff(n, base, max); got < base/2 || got > base {
			t.Errorf("Backoff(%d) = %v, want it treated as attempt 1 [%v, %v]", n, got, base/2, base)
		}
	}
	for _, n := range []int{40, 64, 1000, 1 << 30} {
		if got := Backoff(n, base, max); got < max/2 || got > max {
			t.Errorf("Backoff(%d) = %v, want within [%v, %v]", n, got, max/2, max)
		}
	}
	// A base above max is capped.
	if got := Backoff(1, time.Minute, time.Second); got > time.Second {
		t.Errorf("Backoff with base > max = %v", got)
	}
}

// fakeNotifier builds fixed requests (or fails) and classifies with the
// common HTTP rules.
type fakeNotifier struct {
	reqs []*Request
	err  error
}

func (f *fakeNotifier) Build(context.Context, *alert.Group) ([]*Request, error) {
	return f.reqs, f.err
}

func (f *fakeNotifier) Classify(resp *Response) Result { return ClassifyHTTP(resp, fixedNow) }

var testGroup = &alert.Group{GroupKey: "g"}

func TestDeliverBuildError(t *testing.T) {
	n := &fakeNotifier{err: errors.New(`template "x": boom`)}
	r := (&Sender{}).Deliver(context.Background(), http.DefaultClient, n, testGroup, Attempt{})
	if r.Verdict != Permanent || r.Reason != ReasonTemplateError {
		t.Fatalf("Deliver = %+v, want permanent templateError", r)
	}
	if !strings.Contains(r.Message, "boom") {
		t.Errorf("message %q does not carry the build error", r.Message)
	}
}

func TestDeliverNothingToSend(t *testing.T) {
	r := (&Sender{}).Deliver(context.Background(), http.DefaultClient, &fakeNotifier{}, testGroup, Attempt{})
	if r.Verdict != Permanent || r.Reason != ReasonTemplateError {
		t.Fatalf("Deliver = %+v, want permanent templateError", r)
	}
}

func TestDeliverTransportError(t *testing.T) {
	n := &fakeNotifier{reqs: []*Request{{URL: "http://127.0.0.1:1/hook/SECRETTOKEN?access_token=SECRET2", Body: []byte(`{}`)}}}
	r := (&Sender{}).Deliver(context.Background(), &http.Client{Timeout: 10 * time.Second}, n, testGroup, Attempt{})
	if r.Verdict != Retry || r.Reason != ReasonTransportError {
		t.Fatalf("Deliver = %+v, want retry transportError", r)
	}
	assertNoSecret(t, "result message", r.Message)
}

func TestDeliverContextTimeout(t *testing.T) {
	srv, _ := blockingServer(t)
	n := &fakeNotifier{reqs: []*Request{{URL: srv.URL + "/hook/SECRETTOKEN", Body: []byte(`{}`)}}}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	r := deliverAsync(t, ctx, srv.Client(), n)
	if r.Verdict != Retry || r.Reason != ReasonDeadline {
		t.Fatalf("Deliver = %+v, want retry contextDeadlineExceeded", r)
	}
	assertNoSecret(t, "result message", r.Message)
}

func TestDeliverClientTimeout(t *testing.T) {
	srv, _ := blockingServer(t)
	n := &fakeNotifier{reqs: []*Request{{URL: srv.URL + "/hook/SECRETTOKEN", Body: []byte(`{}`)}}}
	client := srv.Client()
	client.Timeout = 100 * time.Millisecond
	r := deliverAsync(t, context.Background(), client, n)
	if r.Verdict != Retry || r.Reason != ReasonDeadline {
		t.Fatalf("Deliver = %+v, want retry contextDeadlineExceeded", r)
	}
}

func deliverAsync(t *testing.T, ctx context.Context, client *http.Client, n Notifier) Result {
	t.Helper()
	done := make(chan Result, 1)
	go func() { done <- (&Sender{}).Deliver(ctx, client, n, testGroup, Attempt{}) }()
	select {
	case r := <-done:
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("Deliver did not return within 10s")
		return Result{}
	}
}

// pathServer answers by path: codes maps a path to its status (200 when
// absent).
func pathServer(t *testing.T, codes map[string]int) (*recorder, string) {
	rc := &recorder{}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		rc.mu.Lock()
		rc.reqs = append(rc.reqs, recorded{Method: r.Method, Path: r.URL.Path})
		rc.mu.Unlock()
		code := http.StatusOK
		if c, ok := codes[r.URL.Path]; ok {
			code = c
		}
		w.WriteHeader(code)
		_, _ = w.Write([]byte("answer " + r.URL.Path))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return rc, srv.URL
}

func threeRequests(base string) []*Request {
	return []*Request{
		{URL: base + "/1", Body: []byte(`{"n":1}`)},
		{URL: base + "/2", Body: []byte(`{"n":2}`)},
		{URL: base + "/3", Body: []byte(`{"n":3}`)},
	}
}

func paths(rs []recorded) string {
	var p []string
	for _, r := range rs {
		p = append(p, r.Path)
	}
	return strings.Join(p, ",")
}

func TestDeliverStopsAtFirstFailure(t *testing.T) {
	tests := []struct {
		name    string
		code    int
		verdict Verdict
		reason  Reason
	}{
		{"retry", http.StatusInternalServerError, Retry, ReasonServerError},
		{"permanent", http.StatusNotFound, Permanent, ReasonClientError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, base := pathServer(t, map[string]int{"/2": tc.code})
			r := (&Sender{}).Deliver(context.Background(), http.DefaultClient, &fakeNotifier{reqs: threeRequests(base)}, testGroup, Attempt{})
			if r.Verdict != tc.verdict || r.Reason != tc.reason {
				t.Fatalf("Deliver = %+v, want %v %s", r, tc.verdict, tc.reason)
			}
			if !strings.Contains(r.Message, "answer /2") {
				t.Errorf("message %q does not come from the failing request", r.Message)
			}
			if got := paths(rc.requests()); got != "/1,/2" {
				t.Errorf("server saw %s, want /1,/2 (stop at the first failure)", got)
			}
		})
	}
}

func TestDeliverAllDelivered(t *testing.T) {
	rc, base := pathServer(t, nil)
	r := (&Sender{}).Deliver(context.Background(), http.DefaultClient, &fakeNotifier{reqs: threeRequests(base)}, testGroup, Attempt{})
	if r.Verdict != Delivered || r.Reason != ReasonNone {
		t.Fatalf("Deliver = %+v, want delivered", r)
	}
	if got := paths(rc.requests()); got != "/1,/2,/3" {
		t.Errorf("server saw %s, want /1,/2,/3 in order", got)
	}
}

func TestDeliverResumesAfterDeliveredParts(t *testing.T) {
	rc, base := pathServer(t, map[string]int{"/2": http.StatusServiceUnavailable})
	s := &Sender{}
	n := &fakeNotifier{reqs: threeRequests(base)}
	first := s.Deliver(context.Background(), http.DefaultClient, n, testGroup, Attempt{})
	if first.Verdict != Retry || first.Sent != 1 {
		t.Fatalf("first attempt = %+v, want retry with 1 part sent", first)
	}
	rc2, base2 := pathServer(t, nil)
	n.reqs = threeRequests(base2)
	second := s.Deliver(context.Background(), http.DefaultClient, n, testGroup, Attempt{Skip: first.Sent})
	if second.Verdict != Delivered || second.Sent != 3 {
		t.Fatalf("second attempt = %+v, want delivered with 3 parts sent", second)
	}
	if got := paths(rc.requests()); got != "/1,/2" {
		t.Errorf("first server saw %s", got)
	}
	if got := paths(rc2.requests()); got != "/2,/3" {
		t.Errorf("the retry sent %s, want /2,/3: part 1 was already delivered", got)
	}
}

func TestDeliverPacesEveryRequestButTheFirst(t *testing.T) {
	_, base := pathServer(t, nil)
	paced := 0
	pace := func(context.Context) error { paced++; return nil }
	r := (&Sender{}).Deliver(context.Background(), http.DefaultClient, &fakeNotifier{reqs: threeRequests(base)}, testGroup, Attempt{Pace: pace})
	if r.Verdict != Delivered || paced != 2 {
		t.Fatalf("Deliver = %+v with %d pacing waits, want delivered after 2", r, paced)
	}
	stop := func(context.Context) error { return context.Canceled }
	r = (&Sender{}).Deliver(context.Background(), http.DefaultClient, &fakeNotifier{reqs: threeRequests(base)}, testGroup, Attempt{Pace: stop})
	if r.Verdict != Retry || r.Sent != 1 {
		t.Fatalf("Deliver with a failing pace = %+v, want retry after 1 part", r)
	}
}
