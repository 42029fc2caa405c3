package bridge

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// echoMarker starts every echoing answer, so a test can tell that the
// answer reached the result message.
const echoMarker = "ECHOED-REQUEST"

// requestEcho answers every request with one status and a body that quotes
// the request line, the full URL and every header, as a target or a proxy
// that reports errors verbosely might, and records what it echoed.
type requestEcho struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []*http.Request
	bodies [][]byte
}

// bodyFirst puts the start of the request body before the request line,
// since result messages quote only the start of an answer.
func newRequestEcho(t *testing.T, status int, bodyFirst bool) *requestEcho {
	e := &requestEcho{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.seen = append(e.seen, r.Clone(context.Background()))
		e.bodies = append(e.bodies, body)
		e.mu.Unlock()
		var b strings.Builder
		if bodyFirst {
			fmt.Fprintf(&b, "%s %.200s\n", echoMarker, body)
		}
		fmt.Fprintf(&b, "%s %s %s http://%s%s\n", echoMarker, r.Method, r.RequestURI, r.Host, r.URL.String())
		_ = r.Header.Write(&b)
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(e.Close)
	return e
}

// secrets returns what the echoed requests carried that is secret: the
// request URI, each query value, the values of credential and signature
// headers, and a body's "sign" field.
func (e *requestEcho) secrets() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, r := range e.seen {
		out = append(out, r.RequestURI)
		for _, vs := range r.URL.Query() {
			for _, v := range vs {
				if len(v) >= 8 {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
		var fields struct {
			Sign string `json:"sign"`
		}
		if i := slices.Index(e.seen, r); json.Unmarshal(e.bodies[i], &fields) == nil && fields.Sign != "" {
			out = append(out, fields.Sign)
		}
		for name, vs := range r.Header {
			n := strings.ToLower(name)
			if strings.Contains(n, "sign") || strings.Contains(n, "auth") || strings.Contains(n, "token") {
				out = append(out, vs...)
			}
		}
	}
	return out
}

// TestEchoedRequestsAreRedacted: for every target type, a target that
// answers 200, 400 or 500 with the request's URL and headers, or the start
// of its body, in its own body
// yields a result message (what logs, the targets API and the deliveries
// API show) without the configured URL tokens and secret, the request URI,
// query values (DingTalk's timestamp and signature), signature headers or
// Lark's body signature.
func TestEchoedRequestsAreRedacted(t *testing.T) {
	for _, typ := range registry.Types() {
		names, cases := conformanceModes(typ)
		for k, c := range cases {
			t.Run(names[k], func(t *testing.T) {
				reached := false
				for i := range 6 {
					status, bodyFirst := []int{http.StatusOK, http.StatusBadRequest, http.StatusInternalServerError}[i%3], i >= 3
					fake, keys := c.start(t)
					echo := newRequestEcho(t, status, bodyFirst)
					keys = strings.ReplaceAll(keys, fake.Server.Listener.Addr().String(), echo.Listener.Addr().String())
					tr := conformanceTarget(t, c, keys)
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					res := (&notify.Sender{UserAgent: "alertbridge-conformance"}).Deliver(ctx, tr.client, tr.notifier,
						notifytest.BuildGroup(t, notifytest.ReadExample(t, "payload-firing.json")), notify.Attempt{Timeout: 10 * time.Second, Redact: tr.redact})
					cancel()
					if len(echo.seen) == 0 {
						t.Fatalf("HTTP %d: the echo server got no request (keys %q)", status, keys)
					}
					if res.Verdict == notify.Delivered {
						continue // a 200 the type does not read
					}
					reached = reached || strings.Contains(res.Message, echoMarker)
					for _, s := range append(c.secrets, echo.secrets()...) {
						if s != "" && strings.Contains(res.Message, s) {
							t.Errorf("HTTP %d: the result message contains %q:\n%s", status, s, res.Message)
						}
					}
				}
				if !reached {
					t.Errorf("no answer's body reached the result message: the test does not exercise redaction for %s", typ)
				}
			})
		}
	}
}

// TestEchoedClientCredentialsAreRedacted: the credentials the HTTP client
// adds to a request after the notifier built it (the Basic auth made from
// a URL's user info, an OAuth2 access token from the token endpoint, an
// authorization or basic auth file rewritten after the target was loaded)
// never reach the result message (logs, the targets and deliveries APIs,
// the console), when a target echoes the request whole, or cuts its answer
// so that a credential straddles the 256-byte snippet.
func TestEchoedClientCredentialsAreRedacted(t *testing.T) {
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"oauthAccessTok5551234","token_type":"Bearer","expires_in":3600}`))
	}))
	t.Cleanup(tokens.Close)
	for _, c := range []struct {
		name string
		// keys returns the target's keys for an echo at addr; rotate, when
		// set, runs after the target is built.
		keys   func(t *testing.T, addr string) (keys string, rotate func())
		secret string // what the echo must see in Authorization
		// fromURI echoes the request URI instead of Authorization, and
		// secret is the token in it.
		fromURI bool
	}{
		{"url path token", func(t *testing.T, addr string) (string, func()) {
			return "    url: 'http://" + addr + "/services/T0001/B0002/slackSecretXYZ0123456789'", nil
		}, "slackSecretXYZ0123456789", true},
		{"url user info", func(t *testing.T, addr string) (string, func()) {
			return "    url: 'http://user:pw-whPassword777@" + addr + "/hook'", nil
		}, "Basic dXNlcjpwdy13aFBhc3N3b3JkNzc3", false},
		{"oauth2 access token", func(t *testing.T, addr string) (string, func()) {
			return "    url: 'http://" + addr + "/hook'\n    http_config:\n      oauth2: {client_id: bridge, client_secret: oauthClientSecret42, token_url: '" + tokens.URL + "/token'}", nil
		}, "Bearer oauthAccessTok5551234", false},
		{"credentials file rotated", func(t *testing.T, addr string) (string, func()) {
			f := t.TempDir() + "/cred"
			writeFile(t, f, "fileCredV1aaaaaaaa\n")
			return "    url: 'http://" + addr + "/hook'\n    http_config:\n      authorization: {credentials_file: '" + f + "'}",
				func() { writeFile(t, f, "fileCredV2bbbbbbbb\n") }
		}, "Bearer fileCredV2bbbbbbbb", false},
		{"basic auth password file rotated", func(t *testing.T, addr string) (string, func()) {
			f := t.TempDir() + "/pw"
			writeFile(t, f, "pwFileV1aaaaaaaa\n")
			return "    url: 'http://" + addr + "/hook'\n    http_config:\n      basic_auth: {username: am, password_file: '" + f + "'}",
				func() { writeFile(t, f, "pwFileV2bbbbbbbb\n") }
		}, "Basic YW06cHdGaWxlVjJiYmJiYmJiYg==", false},
	} {
		for _, cut := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/cut=%v", c.name, cut), func(t *testing.T) {
				var mu sync.Mutex
				var seen []string
				echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					auth := r.Header.Get("Authorization")
					if c.fromURI {
						auth = r.RequestURI
					}
					mu.Lock()
					seen = append(seen, auth)
					mu.Unlock()
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusInternalServerError)
					if cut {
						// The snippet cut (256 bytes) falls 6 bytes before
						// the end of the credential.
						pad := 256 - len(auth) + 6
						_, _ = w.Write([]byte(echoMarker + strings.Repeat("x", pad-len(echoMarker)) + auth + " and more"))
						return
					}
					_, _ = fmt.Fprintf(w, "%s %s %s\n", echoMarker, r.Method, r.RequestURI)
					_ = r.Header.Write(w)
				}))
				t.Cleanup(echo.Close)
				keys, rotate := c.keys(t, echo.Listener.Addr().String())
				tr := conformanceTarget(t, conformanceCase{typ: "webhook"}, keys)
				if rotate != nil {
					rotate()
				}
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				res := (&notify.Sender{UserAgent: "alertbridge-conformance"}).Deliver(ctx, tr.client, tr.notifier,
					notifytest.BuildGroup(t, notifytest.ReadExample(t, "payload-firing.json")), notify.Attempt{Timeout: 10 * time.Second, Redact: tr.redact})
				mu.Lock()
				defer mu.Unlock()
				if !slices.ContainsFunc(seen, func(s string) bool { return strings.HasSuffix(s, c.secret) }) {
					t.Fatalf("the echo saw %q, want %q", seen, c.secret)
				}
				if !strings.Contains(res.Message, echoMarker) {
					t.Fatalf("the answer did not reach the message: %q", res.Message)
				}
				cred := c.secret
				if _, after, ok := strings.Cut(c.secret, " "); ok {
					cred = after
				}
				for _, s := range []string{c.secret, cred, cred[:8]} {
					if strings.Contains(res.Message, s) {
						t.Errorf("the result message contains %q:\n%s", s, res.Message)
					}
				}
			})
		}
	}
}
