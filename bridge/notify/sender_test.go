package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// secrets are the credential markers that must never show in output.
var secrets = []string{"SECRETTOKEN", "SECRET2", "SECRETPW", "SECRETUSER", "SECRETKEY", "SECRETSIG", "SECRETFRAG"}

func assertNoSecret(t *testing.T, what, s string) {
	t.Helper()
	for _, sec := range secrets {
		if strings.Contains(s, sec) {
			t.Errorf("%s leaks %s: %q", what, sec, s)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct {
		in   string
		host string // "" when the URL cannot be parsed and everything is hidden
	}{
		{"https://hooks.example.com/services/T000/B000/SECRETTOKEN", "hooks.example.com"},
		{"https://api.example.com/send?access_token=SECRETTOKEN", "api.example.com"},
		{"https://api.example.com/send?key=SECRETKEY&x=1", "api.example.com"},
		{"https://api.example.com/send?sig=SECRETSIG&ts=1", "api.example.com"},
		{"https://api.example.com/a?access_token=SECRETTOKEN&key=SECRETKEY&sig=SECRETSIG", "api.example.com"},
		{"https://user:SECRETPW@example.com:8443/hook", "example.com:8443"},
		{"https://SECRETUSER@example.com/hook", "example.com"},
		{"http://SECRETUSER:SECRETPW@127.0.0.1:9000/hook/SECRETTOKEN?key=SECRETKEY#SECRETFRAG", "127.0.0.1:9000"},
		{"http://[::1]:8080/hook/SECRETTOKEN", "[::1]:8080"},
		{"http://[::1/SECRETTOKEN", ""},
		{"::not a url SECRETTOKEN", ""},
		{"/relative/SECRETTOKEN", ""},
		{"http:SECRETTOKEN", ""},
		{"http://example.com/x\x7fSECRETTOKEN", ""},
	}
	for _, tc := range tests {
		got := RedactURL(tc.in)
		assertNoSecret(t, fmt.Sprintf("RedactURL(%q)", tc.in), got)
		if tc.host == "" {
			if got != "<redacted>" {
				t.Errorf("RedactURL(%q) = %q, want <redacted>", tc.in, got)
			}
			continue
		}
		if !strings.Contains(got, tc.host) {
			t.Errorf("RedactURL(%q) = %q, lost the host %q", tc.in, got, tc.host)
		}
	}
	if got, want := RedactURL("https://hooks.example.com/services/SECRETTOKEN?key=SECRETKEY"), "https://hooks.example.com/<redacted>"; got != want {
		t.Errorf("RedactURL = %q, want %q", got, want)
	}
}

func TestRedactErrorFromRealClient(t *testing.T) {
	raw := "http://127.0.0.1:1/hook/SECRETTOKEN?access_token=SECRET2"
	req, err := http.NewRequest(http.MethodPost, raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatal("expected connection refused from 127.0.0.1:1")
	}
	if !strings.Contains(err.Error(), "SECRETTOKEN") {
		t.Logf("note: the raw client error no longer contains the URL: %v", err)
	}
	red := RedactError(err)
	msg := red.Error()
	assertNoSecret(t, "RedactError", msg)
	if !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("redacted error lost the host: %q", msg)
	}
	var uerr *url.Error
	if !errors.As(red, &uerr) {
		t.Errorf("redacted error is no longer a *url.Error: %T", red)
	}
	// The cause stays reachable for errors.Is / errors.As.
	if !errors.Is(red, errors.Unwrap(err)) {
		t.Errorf("redacted error does not wrap the original cause")
	}
}

func TestRedactErrorNestedURL(t *testing.T) {
	raw := "https://example.com/hook/SECRETTOKEN?sig=SECRETSIG"
	cause := fmt.Errorf("dial failed for %s: %w", raw, io.ErrUnexpectedEOF)
	red := RedactError(&url.Error{Op: "Post", URL: raw, Err: cause})
	assertNoSecret(t, "RedactError", red.Error())
	if !errors.Is(red, io.ErrUnexpectedEOF) {
		t.Errorf("nested cause lost: %v", red)
	}
	if !strings.Contains(red.Error(), "example.com") {
		t.Errorf("host lost: %v", red)
	}
}

func TestRedactErrorOtherErrorsUnchanged(t *testing.T) {
	plain := errors.New("plain failure")
	if got := RedactError(plain); got != plain {
		t.Errorf("RedactError changed a non-URL error: %v", got)
	}
	if RedactError(nil) != nil {
		t.Errorf("RedactError(nil) != nil")
	}
}

// recorded is what a test server saw of one request.
type recorded struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// recorder is a test server handler that records requests under a mutex and
// answers with a fixed status and body.
type recorder struct {
	mu     sync.Mutex
	reqs   []recorded
	status int
	body   []byte
	header http.Header
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.reqs = append(rc.reqs, recorded{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: b})
	status, body, header := rc.status, rc.body, rc.header
	rc.mu.Unlock()
	for k, v := range header {
		w.Header()[k] = v
	}
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (rc *recorder) requests() []recorded {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]recorded(nil), rc.reqs...)
}

func newRecorder(t *testing.T, rc *recorder) *httptest.Server {
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)
	return srv
}

// blockingServer answers nothing until the test ends (or the client goes
// away). entered receives one value per request that reached the handler.
func blockingServer(t *testing.T) (srv *httptest.Server, entered chan struct{}) {
	release := make(chan struct{})
	entered = make(chan struct{}, 16)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case entered <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	// Cleanups run last-in first-out: release the handlers, then close.
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) })
	return srv, entered
}

func TestSendHeadersAndBody(t *testing.T) {
	rc := &recorder{status: http.StatusAccepted, body: []byte(`{"ok":true}`), header: http.Header{"X-Reply": {"yes"}}}
	srv := newRecorder(t, rc)
	s := &Sender{UserAgent: "alertbridge/test"}
	body := []byte(`{"text":"hello"}`)
	resp, err := s.Send(context.Background(), srv.Client(), &Request{
		URL:    srv.URL + "/hook/SECRETTOKEN",
		Header: http.Header{"X-Custom": {"v1", "v2"}, "Authorization": {"Bearer abc"}},
		Body:   body,
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusAccepted || string(resp.Body) != `{"ok":true}` || resp.Header.Get("X-Reply") != "yes" {
		t.Errorf("response = %d %q %v", resp.StatusCode, resp.Body, resp.Header)
	}
	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("server saw %d requests, want 1", len(got))
	}
	r := got[0]
	if r.Method != http.MethodPost {
		t.Errorf("method = %s, want POST (the default)", r.Method)
	}
	if r.Path != "/hook/SECRETTOKEN" {
		t.Errorf("path = %s", r.Path)
	}
	if ua := r.Header.Get("User-Agent"); ua != "alertbridge/test" {
		t.Errorf("User-Agent = %q", ua)
	}
	if ct := r.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("Content-Type = %q, want [application/json]", ct)
	}
	if v := r.Header.Values("X-Custom"); len(v) != 2 || v[0] != "v1" || v[1] != "v2" {
		t.Errorf("X-Custom = %q", v)
	}
	if v := r.Header.Get("Authorization"); v != "Bearer abc" {
		t.Errorf("Authorization = %q", v)
	}
	if !bytes.Equal(r.Body, body) {
		t.Errorf("body = %q", r.Body)
	}
}

func TestSendKeepsCustomContentTypeAndMethod(t *testing.T) {
	rc := &recorder{}
	srv := newRecorder(t, rc)
	s := &Sender{UserAgent: "alertbridge/test"}
	_, err := s.Send(context.Background(), srv.Client(), &Request{
		Method: http.MethodPut,
		URL:    srv.URL + "/put",
		Header: http.Header{"Content-Type": {"text/plain; charset=utf-8"}, "User-Agent": {"overridden"}},
		Body:   []byte("plain"),
	})
	if err != nil {
		t.Fatal(err)
	}
	r := rc.requests()[0]
	if r.Method != http.MethodPut {
		t.Errorf("method = %s, want PUT", r.Method)
	}
	if ct := r.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "text/plain; charset=utf-8" {
		t.Errorf("Content-Type = %q, want the request's own", ct)
	}
	if ua := r.Header.Get("User-Agent"); ua != "alertbridge/test" {
		t.Errorf("User-Agent = %q, want the Sender's", ua)
	}
}

// TestSendNonCanonicalContentType: Request.Header is a plain map; a key
// written as "content-type" is not seen by Header.Get, so the Sender adds a
// second Content-Type and the target receives two.
func TestSendNonCanonicalContentType(t *testing.T) {
	rc := &recorder{}
	srv := newRecorder(t, rc)
	s := &Sender{}
	_, err := s.Send(context.Background(), srv.Client(), &Request{
		URL:    srv.URL,
		Header: http.Header{"content-type": {"text/plain"}},
		Body:   []byte("plain"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if ct := rc.requests()[0].Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "text/plain" {
		t.Errorf("Content-Type = %q, want [text/plain]", ct)
	}
}

func TestSendDoesNotMutateRequest(t *testing.T) {
	rc := &recorder{}
	srv := newRecorder(t, rc)
	req := &Request{URL: srv.URL, Header: http.Header{"X-A": {"1"}}, Body: []byte(`{}`)}
	if _, err := (&Sender{UserAgent: "ua"}).Send(context.Background(), srv.Client(), req); err != nil {
		t.Fatal(err)
	}
	if req.Method != "" || len(req.Header) != 1 || req.Header.Get("X-A") != "1" {
		t.Errorf("Send mutated the request: %+v", req)
	}
}

func TestSendLimitsResponseBody(t *testing.T) {
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	rc := &recorder{body: big}
	srv := newRecorder(t, rc)

	resp, err := (&Sender{MaxResponseBytes: 1000}).Send(context.Background(), srv.Client(), &Request{URL: srv.URL, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Body) != 1000 || !bytes.Equal(resp.Body, big[:1000]) {
		t.Errorf("read %d bytes, want the first 1000", len(resp.Body))
	}

	resp, err = (&Sender{}).Send(context.Background(), srv.Client(), &Request{URL: srv.URL, Body: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Body) != DefaultMaxResponseBytes {
		t.Errorf("default limit: read %d bytes, want %d", len(resp.Body), DefaultMaxResponseBytes)
	}
}

// sendAsync runs Send in a goroutine and waits a bounded time for it.
func sendAsync(t *testing.T, ctx context.Context, client *http.Client, req *Request) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		resp, err := (&Sender{}).Send(ctx, client, req)
		if err == nil && resp == nil {
			err = errors.New("nil response without error")
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("Send did not return within 10s")
		return nil
	}
}

func TestSendContextCancel(t *testing.T) {
	srv, entered := blockingServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-entered:
			cancel()
		case <-time.After(10 * time.Second):
			cancel()
		}
	}()
	err := sendAsync(t, ctx, srv.Client(), &Request{URL: srv.URL + "/hook/SECRETTOKEN?access_token=SECRET2", Body: []byte(`{}`)})
	if err == nil {
		t.Fatal("Send succeeded after cancel")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v is not context.Canceled", err)
	}
	assertNoSecret(t, "cancel error", err.Error())
}

func TestSendContextTimeout(t *testing.T) {
	srv, _ := blockingServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := sendAsync(t, ctx, srv.Client(), &Request{URL: srv.URL + "/hook/SECRETTOKEN?access_token=SECRET2", Body: []byte(`{}`)})
	if err == nil {
		t.Fatal("Send succeeded against a server that never answers")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v is not context.DeadlineExceeded", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("Send took %v to honour a 100ms deadline", el)
	}
	assertNoSecret(t, "timeout error", err.Error())
}

func TestSendErrorsNeverContainToken(t *testing.T) {
	tests := map[string]string{
		"connection refused": "http://127.0.0.1:1/hook/SECRETTOKEN?access_token=SECRET2",
		"userinfo":           "http://SECRETUSER:SECRETPW@127.0.0.1:1/hook/SECRETTOKEN",
		"control character":  "http://127.0.0.1:1/hook/SECRETTOKEN\x7f?key=SECRETKEY",
		"bad escape":         "http://127.0.0.1:1/hook/%zzSECRETTOKEN",
		"unsupported scheme": "ftp://127.0.0.1:1/hook/SECRETTOKEN",
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for name, raw := range tests {
		t.Run(name, func(t *testing.T) {
			err := sendAsync(t, context.Background(), client, &Request{URL: raw, Body: []byte(`{}`)})
			if err == nil {
				t.Fatal("expected an error")
			}
			assertNoSecret(t, "Send error", err.Error())
		})
	}
}

// TestSendParseErrorLeaksPartOfURL: url.Parse errors quote pieces of the
// URL (an "invalid port" error quotes everything after the last colon of
// the authority). RedactError hides the URL field but keeps the nested
// text, so a password containing '/', '?' or '#' that was not
// percent-encoded leaks its first part. Config validation rejects such URLs
// before they reach the Sender, so this only matters for URLs built
// elsewhere.
func TestSendParseErrorLeaksPartOfURL(t *testing.T) {
	raw := "http://user:SECRETPW/x@127.0.0.1:1/hook"
	err := sendAsync(t, context.Background(), http.DefaultClient, &Request{URL: raw, Body: []byte(`{}`)})
	if err == nil {
		t.Fatal("expected an error")
	}
	assertNoSecret(t, "Send error", err.Error())
}
