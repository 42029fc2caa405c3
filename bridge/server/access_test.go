package server

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
	"golang.org/x/crypto/bcrypt"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/metrics"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// fakeAll is a Backend whose every call succeeds and is counted, so a test
// can tell whether a request reached the application.
type fakeAll struct {
	creds    Credentials
	calls    int
	signed   bool
	ready    bool
	err      error // returned by the calls that can fail, when set
	rendered []*notify.Request
}

func (f *fakeAll) Credentials() Credentials { return f.creds }
func (f *fakeAll) Ready() bool              { return f.ready }
func (f *fakeAll) Reload() error            { f.calls++; return f.err }
func (f *fakeAll) Accept(msg *alert.Message, _ string) (*Accepted, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &Accepted{GroupKey: msg.GroupKey, Targets: []string{}}, nil
}
func (f *fakeAll) ListDeliveries(string, string, uint64, int) ([]*store.Job, error) {
	f.calls++
	return nil, f.err
}
func (f *fakeAll) RetryDelivery(uint64) (*store.Job, error) { f.calls++; return &store.Job{}, f.err }
func (f *fakeAll) DeleteDelivery(uint64) error              { f.calls++; return f.err }
func (f *fakeAll) ListAlerts(store.AlertFilter, store.AlertPage) ([]*store.AlertEntry, store.AlertCursor, error) {
	f.calls++
	return nil, store.AlertCursor{}, f.err
}
func (f *fakeAll) GetAlert(int64) (*store.AlertEntry, []*store.Job, error) {
	f.calls++
	return &store.AlertEntry{}, nil, f.err
}
func (f *fakeAll) TargetStatuses() []TargetStatus { f.calls++; return nil }
func (f *fakeAll) SendTest(string) (uint64, error) {
	f.calls++
	return 1, f.err
}
func (f *fakeAll) Render(_ string, _ *alert.Message, signed bool) ([]*notify.Request, error) {
	f.calls++
	f.signed = signed
	return f.rendered, f.err
}

var _ Backend = (*fakeAll)(nil)

const samplePayload = `{"version":"4","groupKey":"g","status":"firing","alerts":[{"status":"firing","labels":{"a":"b"}}]}`

type endpoint struct {
	method, path, body string
	class              Class
}

// endpoints lists one request per route, with its class.
var endpoints = []endpoint{
	{"POST", "/webhook", samplePayload, ClassIngest},
	{"POST", "/webhook/t", samplePayload, ClassIngest},
	{"GET", "/-/healthy", "", ClassHealth},
	{"GET", "/-/ready", "", ClassHealth},
	{"GET", "/api/v1/targets", "", ClassRead},
	{"GET", "/api/v1/alerts", "", ClassRead},
	{"GET", "/api/v1/alerts/1", "", ClassRead},
	{"GET", "/api/v1/deliveries", "", ClassRead},
	{"POST", "/api/v1/render?target=t", "", ClassRead},
	{"GET", "/metrics", "", ClassMetrics},
	{"POST", "/api/v1/render?target=t&sign=true", "", ClassAdmin},
	{"POST", "/api/v1/deliveries/1/retry", "", ClassAdmin},
	{"DELETE", "/api/v1/deliveries/1", "", ClassAdmin},
	{"POST", "/api/v1/targets/t/test", "", ClassAdmin},
	{"POST", "/-/reload", "", ClassLifecycle},
	{"PUT", "/-/reload", "", ClassLifecycle},
	{"GET", "/debug/pprof/", "", ClassDebug},
	{"GET", "/debug/pprof/cmdline", "", ClassDebug},
}

func do(h http.Handler, method, path, body string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body == "" {
		req.ContentLength = 0
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func newHandler(b Backend, a Access) http.Handler {
	return New(b, zap.NewNop(), 0, metrics.New(func() []metrics.LaneStats { return nil }), WithAccess(a))
}

// TestOptionalClassesOffByDefault: admin, lifecycle and debug answer 403
// naming the flag that enables them, and the backend is not called; the
// other classes work with no flag.
func TestOptionalClassesOffByDefault(t *testing.T) {
	for _, e := range endpoints {
		b := &fakeAll{ready: true}
		rec := do(newHandler(b, Access{}), e.method, e.path, e.body, nil)
		_, flag := Access{}.enabled(e.class)
		switch {
		case flag != "":
			if rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), flag) {
				t.Errorf("%s %s: %d %s, want 403 naming %s", e.method, e.path, rec.Code, rec.Body, flag)
			}
			if b.calls != 0 {
				t.Errorf("%s %s reached the backend while disabled", e.method, e.path)
			}
		case rec.Code >= 400:
			t.Errorf("%s %s: %d %s", e.method, e.path, rec.Code, rec.Body)
		}
		// Enabled, every endpoint works without credentials configured.
		b = &fakeAll{ready: true}
		rec = do(newHandler(b, Access{Admin: true, Lifecycle: true, Debug: true}), e.method, e.path, e.body, nil)
		if rec.Code >= 400 {
			t.Errorf("%s %s enabled: %d %s", e.method, e.path, rec.Code, rec.Body)
		}
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// TestCredentialsPerClass: which credential admits which class, for every
// combination of configured credentials.
func TestCredentialsPerClass(t *testing.T) {
	hash := func(pw string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	ingest := Credential{Token: "am-token", Users: map[string]string{"am": hash("am-pw")}}
	api := Credential{Token: "api-token", Users: map[string]string{"alice": hash("alice-pw")}}
	const (
		none       = ""
		amBearer   = "Bearer am-token"
		apiBearer  = "Bearer api-token"
		wrongToken = "Bearer nope"
	)
	amBasic, aliceBasic, aliceWrong := basic("am", "am-pw"), basic("alice", "alice-pw"), basic("alice", "am-pw")
	type want map[Class]int // class → status for one header (200: any 2xx)
	cases := []struct {
		name  string
		creds Credentials
		auth  map[string]want
	}{
		{"nothing configured", Credentials{}, map[string]want{
			none: {ClassIngest: 200, ClassRead: 200, ClassMetrics: 200, ClassAdmin: 200, ClassLifecycle: 200, ClassDebug: 200},
		}},
		{"ingest only", Credentials{Ingest: ingest}, map[string]want{
			none:     {ClassHealth: 200, ClassIngest: 401, ClassRead: 401, ClassMetrics: 200, ClassAdmin: 403, ClassLifecycle: 403, ClassDebug: 403},
			amBearer: {ClassIngest: 200, ClassRead: 200, ClassMetrics: 200, ClassAdmin: 403, ClassLifecycle: 403, ClassDebug: 403},
			amBasic:  {ClassIngest: 200, ClassRead: 200, ClassAdmin: 403, ClassLifecycle: 403, ClassDebug: 403},
		}},
		{"api only", Credentials{API: api}, map[string]want{
			none:       {ClassHealth: 200, ClassIngest: 200, ClassRead: 401, ClassMetrics: 401, ClassAdmin: 401, ClassLifecycle: 401, ClassDebug: 401},
			apiBearer:  {ClassIngest: 200, ClassRead: 200, ClassMetrics: 200, ClassAdmin: 200, ClassLifecycle: 200, ClassDebug: 200},
			aliceBasic: {ClassRead: 200, ClassAdmin: 200},
		}},
		{"both", Credentials{Ingest: ingest, API: api}, map[string]want{
			none:               {ClassHealth: 200, ClassIngest: 401, ClassRead: 401, ClassMetrics: 401, ClassAdmin: 401, ClassLifecycle: 401, ClassDebug: 401},
			amBearer:           {ClassIngest: 200, ClassRead: 401, ClassMetrics: 401, ClassAdmin: 401, ClassLifecycle: 401, ClassDebug: 401},
			amBasic:            {ClassIngest: 200, ClassRead: 401, ClassAdmin: 401},
			apiBearer:          {ClassIngest: 401, ClassRead: 200, ClassAdmin: 200, ClassLifecycle: 200, ClassDebug: 200},
			aliceBasic:         {ClassIngest: 401, ClassRead: 200, ClassAdmin: 200},
			aliceWrong:         {ClassRead: 401, ClassAdmin: 401},
			wrongToken:         {ClassIngest: 401, ClassRead: 401, ClassAdmin: 401},
			"bearer api-token": {ClassRead: 200}, // the scheme is case-insensitive
			"Basic !!!":        {ClassIngest: 401, ClassRead: 401},
		}},
	}
	all := Access{Admin: true, Lifecycle: true, Debug: true}
	for _, c := range cases {
		for auth, wants := range c.auth {
			for _, e := range endpoints {
				code, ok := wants[e.class]
				if !ok {
					continue
				}
				b := &fakeAll{creds: c.creds, ready: true}
				h := http.Header{}
				if auth != "" {
					h.Set("Authorization", auth)
				}
				rec := do(newHandler(b, all), e.method, e.path, e.body, h)
				if got := rec.Code; got != code && (code != 200 || got < 200 || got > 299) {
					t.Errorf("%s, %q: %s %s: %d %s, want %d", c.name, auth, e.method, e.path, rec.Code, rec.Body, code)
				}
				if code >= 400 && b.calls != 0 {
					t.Errorf("%s, %q: %s %s: refused but reached the backend", c.name, auth, e.method, e.path)
				}
				if strings.Contains(rec.Body.String(), "-token") || strings.Contains(rec.Body.String(), "-pw") {
					t.Errorf("answer quotes a credential: %s", rec.Body)
				}
			}
		}
	}
}

// TestStateChangingRequestsNeedJSON: a POST, PUT or DELETE with a body
// or a Content-Type must say application/json; 415 otherwise, before the
// backend is called.
func TestStateChangingRequestsNeedJSON(t *testing.T) {
	all := Access{Admin: true, Lifecycle: true, Debug: true}
	for _, c := range []struct {
		method, path, body, ct string
		want                   int
	}{
		{"POST", "/webhook", samplePayload, "text/plain", 415},
		{"POST", "/webhook", samplePayload, "application/x-www-form-urlencoded", 415},
		{"POST", "/webhook", samplePayload, "multipart/form-data; boundary=x", 415},
		{"POST", "/webhook", samplePayload, "application/jsonx", 415},
		{"POST", "/webhook", samplePayload, "not a media type;;", 415},
		{"POST", "/webhook", samplePayload, "application/json", 200},
		{"POST", "/webhook", samplePayload, "application/json; charset=utf-8", 200},
		{"POST", "/webhook", samplePayload, "Application/JSON", 200},
		{"POST", "/-/reload", "", "text/plain", 415},
		{"POST", "/-/reload", "", "", 200}, // curl -X POST, reload sidecars
		{"PUT", "/-/reload", "{}", "text/plain", 415},
		{"DELETE", "/api/v1/deliveries/1", "", "text/plain", 415},
		{"POST", "/api/v1/targets/t/test", "x", "text/plain", 415},
		{"POST", "/api/v1/render?target=t", samplePayload, "text/plain", 415},
		{"GET", "/api/v1/targets", "", "text/plain", 200}, // reads are not state-changing
	} {
		b := &fakeAll{ready: true}
		h := http.Header{}
		if c.ct != "" {
			h.Set("Content-Type", c.ct)
		}
		rec := do(newHandler(b, all), c.method, c.path, c.body, h)
		if rec.Code != c.want {
			t.Errorf("%s %s as %q: %d %s, want %d", c.method, c.path, c.ct, rec.Code, rec.Body, c.want)
		}
		if c.want == 415 && b.calls != 0 {
			t.Errorf("%s %s as %q reached the backend", c.method, c.path, c.ct)
		}
	}
}

// TestCrossOriginBrowserRequestsRefused: a browser's cross-site POST (as
// a page the operator opens could send) is refused even with a JSON type.
func TestCrossOriginBrowserRequestsRefused(t *testing.T) {
	b := &fakeAll{ready: true}
	h := newHandler(b, Access{Lifecycle: true})
	for _, hdr := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		rec := do(h, "POST", "/-/reload", "", hdr)
		if rec.Code != http.StatusForbidden || b.calls != 0 {
			t.Errorf("cross-origin %v: %d %s (backend calls %d)", hdr, rec.Code, rec.Body, b.calls)
		}
	}
	if rec := do(h, "POST", "/-/reload", "", http.Header{"Sec-Fetch-Site": {"same-origin"}}); rec.Code != 200 {
		t.Errorf("same-origin: %d", rec.Code)
	}
}

// TestAllowedHosts: with an allow-list, other Host headers get 421 (DNS
// rebinding), except on health and readiness.
func TestAllowedHosts(t *testing.T) {
	h := newHandler(&fakeAll{ready: true}, Access{AllowedHosts: []string{"alertbridge.example.com", "127.0.0.1:9097", "[::1]"}})
	for _, c := range []struct {
		host, path string
		want       int
	}{
		{"alertbridge.example.com", "/api/v1/targets", 200},
		{"AlertBridge.Example.com:9097", "/api/v1/targets", 200},
		{"alertbridge.example.com.", "/api/v1/targets", 200},
		{"127.0.0.1:9097", "/api/v1/targets", 200},
		{"127.0.0.1:80", "/api/v1/targets", 421},
		{"[::1]:9097", "/api/v1/targets", 200},
		{"evil.example", "/api/v1/targets", 421},
		{"evil.example", "/webhook", 421},
		{"evil.example", "/metrics", 421},
		{"10.1.2.3:9097", "/-/healthy", 200},
		{"10.1.2.3:9097", "/-/ready", 200},
	} {
		req := httptest.NewRequest("GET", c.path, nil)
		if c.path == "/webhook" {
			req = httptest.NewRequest("POST", c.path, strings.NewReader(samplePayload))
			req.Header.Set("Content-Type", "application/json")
		}
		req.Host = c.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("Host %s %s: %d %s, want %d", c.host, c.path, rec.Code, rec.Body, c.want)
		}
	}
}

// TestUnavailableAnswersNameNoPath: a store failure is logged, and the 503
// says what kind of trouble it is without the error text (which names the
// store's files).
func TestUnavailableAnswersNameNoPath(t *testing.T) {
	storeErr := errors.New("store write: open /var/lib/alertbridge/pebble/000042.log: no space left on device")
	all := Access{Admin: true}
	for _, c := range []struct {
		method, path, body string
		err                error
		want               string
	}{
		{"POST", "/webhook", samplePayload, errors.Join(ErrUnavailable, storeErr), "store cannot be used"},
		{"POST", "/webhook", samplePayload, ErrShuttingDown, "shutting down"},
		{"GET", "/api/v1/deliveries", "", storeErr, "store cannot be used"},
		{"GET", "/api/v1/alerts", "", storeErr, "store cannot be used"},
		{"POST", "/api/v1/deliveries/1/retry", "", storeErr, "store cannot be used"},
		{"DELETE", "/api/v1/deliveries/1", "", storeErr, "store cannot be used"},
		{"POST", "/api/v1/targets/t/test", "", storeErr, "store cannot be used"},
		{"POST", "/api/v1/targets/t/test", "", ErrTargetDisabled, `target \"t\" is disabled`},
	} {
		rec := do(newHandler(&fakeAll{ready: true, err: c.err}, all), c.method, c.path, c.body, nil)
		body := rec.Body.String()
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s, want 503 saying %q", c.method, c.path, rec.Code, body, c.want)
		}
		if strings.Contains(body, "/var/lib") || strings.Contains(body, "pebble") {
			t.Errorf("%s %s: the answer names a path: %s", c.method, c.path, body)
		}
	}
}

// TestRenderSignsOnlyForAdmin: the read-class preview asks the backend
// for an unsigned rendering, the admin one (?sign=true) for a signed one.
func TestRenderSignsOnlyForAdmin(t *testing.T) {
	for _, c := range []struct {
		query  string
		signed bool
	}{{"?target=t", false}, {"?target=t&sign=false", false}, {"?target=t&sign=true", true}, {"?target=t&sign=1", true}} {
		b := &fakeAll{ready: true, rendered: []*notify.Request{{Method: "POST", URL: "https://x/y", Body: []byte("{}")}}}
		rec := do(newHandler(b, Access{Admin: true}), "POST", "/api/v1/render"+c.query, "", nil)
		if rec.Code != 200 || b.signed != c.signed {
			t.Errorf("%s: %d, signed %v, want %v", c.query, rec.Code, b.signed, c.signed)
		}
		var out struct{ Data []renderedRequest }
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Data) != 1 {
			t.Errorf("%s: %s", c.query, rec.Body)
		}
	}
}

// TestNonJSONNotificationIsLogged: a notification refused for its media
// type is logged and counted as every refused notification is.
func TestNonJSONNotificationIsLogged(t *testing.T) {
	core, logs := observer.New(zapcore.WarnLevel)
	m := metrics.New(func() []metrics.LaneStats { return nil })
	h := New(&fakeAll{ready: true}, zap.New(core), 0, m)
	rec := do(h, "POST", "/webhook", samplePayload, http.Header{"Content-Type": {"text/plain"}})
	if rec.Code != http.StatusUnsupportedMediaType {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	entries := logs.FilterMessage("notification rejected").All()
	if len(entries) != 1 || entries[0].ContextMap()["status"] != int64(415) || !strings.Contains(entries[0].ContextMap()["reason"].(string), `not "text/plain"`) {
		t.Errorf("log: %v", entries)
	}
	if got := testutil.ToFloat64(m.NotificationsReceived.WithLabelValues(metrics.ResultInvalid)); got != 1 {
		t.Errorf("counted %v invalid notifications, want 1", got)
	}
}
