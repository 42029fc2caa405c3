package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// reviser is a Reviser over a test server: /new/<part> posts a message
// (answered with "id=<n>"), /edit/<ref> edits one; the server decides
// what each edit meets.
type reviser struct {
	base string
	mode Update
}

func (r *reviser) Build(context.Context, *alert.Group) ([]*Request, error) {
	var out []*Request
	for i := range 3 {
		out = append(out, &Request{URL: r.base + "/new/" + string(rune('a'+i))})
	}
	return out, nil
}

func (r *reviser) Classify(resp *Response) Result {
	body := string(resp.Body)
	switch {
	case resp.StatusCode == http.StatusOK && strings.HasPrefix(body, "id="):
		return Result{Verdict: Delivered, Ref: strings.TrimPrefix(body, "id=")}
	case resp.StatusCode == http.StatusOK:
		return OK() // "not modified": no id in the answer
	case resp.StatusCode == http.StatusNotFound:
		r := Failed(ReasonClientError, "gone")
		r.Gone = true
		return r
	}
	return ClassifyHTTP(resp, fixedNow)
}

func (r *reviser) Update() Update { return r.mode }

func (r *reviser) Revise(reqs []*Request, refs []string) []*Request {
	out := slices.Clone(reqs)
	for i := range out {
		if i < len(refs) && refs[i] != "" {
			out[i] = &Request{URL: r.base + "/edit/" + refs[i], Ref: refs[i], Fallback: reqs[i]}
		}
	}
	return out
}

// TestDeliverEditsFallsBackAndReportsRefs: edits keep their message when
// the answer names none, a gone message is posted anew in the same
// attempt, a failure reports the parts delivered so far, and a resumed
// attempt reports only what it sent.
func TestDeliverEditsFallsBackAndReportsRefs(t *testing.T) {
	var (
		mu    sync.Mutex
		paths []string
		next  int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.Path)
		switch {
		case r.URL.Path == "/edit/gone":
			w.WriteHeader(http.StatusNotFound)
		case r.URL.Path == "/edit/busy":
			w.WriteHeader(http.StatusServiceUnavailable)
		case strings.HasPrefix(r.URL.Path, "/new/"):
			next++
			_, _ = w.Write([]byte("id=" + strconv.Itoa(next)))
		default: // an edit of a message that is there, to what it shows
			w.WriteHeader(http.StatusOK)
		}
	}))
	defer srv.Close()
	s := &Sender{}
	n := &reviser{base: srv.URL, mode: UpdateEdit}
	take := func() []string {
		mu.Lock()
		defer mu.Unlock()
		p := paths
		paths = nil
		return p
	}

	res := s.Deliver(context.Background(), srv.Client(), n, nil, Attempt{Refs: []string{"1", "gone"}})
	if res.Verdict != Delivered || !slices.Equal(res.Refs, []string{"1", "1", "2"}) || res.Sent != 3 {
		t.Errorf("edit, gone, new: %v refs %q sent %d", res.Verdict, res.Refs, res.Sent)
	}
	if got := take(); !slices.Equal(got, []string{"/edit/1", "/edit/gone", "/new/b", "/new/c"}) {
		t.Errorf("requests %q", got)
	}
	if res.Ref != "" || res.Gone {
		t.Errorf("an attempt's result carries a request's Ref %q or Gone", res.Ref)
	}

	res = s.Deliver(context.Background(), srv.Client(), n, nil, Attempt{Refs: []string{"1", "busy"}})
	if res.Verdict != Retry || res.Sent != 1 || !slices.Equal(res.Refs, []string{"1", "", ""}) {
		t.Errorf("failed half way: %v sent %d refs %q", res.Verdict, res.Sent, res.Refs)
	}
	take()
	res = s.Deliver(context.Background(), srv.Client(), n, nil, Attempt{Skip: 1, Refs: []string{"1", "7"}})
	if res.Verdict != Delivered || !slices.Equal(res.Refs, []string{"", "7", "3"}) {
		t.Errorf("resumed: %v refs %q", res.Verdict, res.Refs)
	}
	if got := take(); !slices.Equal(got, []string{"/edit/7", "/new/c"}) {
		t.Errorf("resumed requests %q", got)
	}

	n.mode = UpdateNew
	res = s.Deliver(context.Background(), srv.Client(), n, nil, Attempt{Refs: []string{"1"}})
	if res.Refs != nil || !slices.Equal(take(), []string{"/new/a", "/new/b", "/new/c"}) {
		t.Errorf("update new: refs %q, or it revised", res.Refs)
	}
}
