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
		c, ok := conformanceCases[typ]
		if !ok {
			continue
		}
		t.Run(typ, func(t *testing.T) {
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
