package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/webhook"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
	"github.com/alertbridge/alertbridge/bridge/render"
)

func TestBuildRequest(t *testing.T) {
	n := newNotifier(t, notify.Settings{Templates: newSet(t), URL: "https://hooks.example.com/hook/TOKEN"})
	reqs, err := n.Build(context.Background(), buildGroup(t, readExample(t, "payload-firing.json")))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL != "https://hooks.example.com/hook/TOKEN" {
		t.Errorf("request = %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Values("Content-Type"); len(ct) != 1 || ct[0] != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
}

func TestBuildInvalidJSON(t *testing.T) {
	set := newSet(t, render.Inline{Name: "bad", Text: `{"a": {{ .Status }}}`})
	n := newNotifier(t, notify.Settings{Templates: set, BodyTemplate: "bad"})
	reqs, err := n.Build(context.Background(), buildGroup(t, readExample(t, "payload-firing.json")))
	if err == nil {
		t.Fatalf("Build accepted invalid JSON: %s", reqs[0].Body)
	}
	if !strings.Contains(err.Error(), "invalid JSON") {
		t.Errorf("error %q does not mention invalid JSON", err)
	}
	if !strings.Contains(err.Error(), `"bad"`) {
		t.Errorf("error %q does not name the template", err)
	}
	if reqs != nil {
		t.Errorf("Build returned requests with an error: %v", reqs)
	}
}

func TestBuildEmptyBody(t *testing.T) {
	set := newSet(t,
		render.Inline{Name: "empty", Text: `{{ if false }}{}{{ end }}`},
		render.Inline{Name: "blank", Text: " \n\t{{ if false }}{}{{ end }}\r\n "},
	)
	g := buildGroup(t, readExample(t, "payload-firing.json"))
	for _, name := range []string{"empty", "blank"} {
		n := newNotifier(t, notify.Settings{Templates: set, BodyTemplate: name})
		reqs, err := n.Build(context.Background(), g)
		if err == nil || !strings.Contains(err.Error(), "empty") {
			t.Errorf("%s: Build = %v, %v; want an empty-body error", name, reqs, err)
		}
		if reqs != nil {
			t.Errorf("%s: Build returned requests with an error", name)
		}
	}
}

func TestBuildExecutionError(t *testing.T) {
	set := newSet(t, render.Inline{Name: "calls-missing", Text: `{{ template "does.not.exist" . }}`})
	n := newNotifier(t, notify.Settings{Templates: set, BodyTemplate: "calls-missing"})
	reqs, err := n.Build(context.Background(), buildGroup(t, readExample(t, "payload-firing.json")))
	if err == nil || reqs != nil {
		t.Fatalf("Build = %v, %v; want an error and no requests", reqs, err)
	}
	if !strings.Contains(err.Error(), "rendering body") {
		t.Errorf("error %q does not say the body failed", err)
	}
}

func TestNewRejectsUndefinedTemplates(t *testing.T) {
	set := newSet(t, render.Inline{Name: "hdr", Text: `x`})
	tests := map[string]notify.Settings{
		"undefined body":   {Templates: set, BodyTemplate: "no.such.body"},
		"undefined header": {Templates: set, HeaderTemplates: map[string]string{"X-A": "hdr", "X-B": "no.such.header"}},
		"no template set":  {},
	}
	for name, s := range tests {
		t.Run(name, func(t *testing.T) {
			n, err := webhook.New(s)
			if err == nil {
				t.Fatalf("New accepted %+v: %v", s, n)
			}
			if !strings.Contains(err.Error(), "not defined") {
				t.Errorf("error %q does not say the template is not defined", err)
			}
		})
	}
	if _, err := webhook.New(notify.Settings{Templates: set}); err != nil {
		t.Errorf("New with the preset body: %v", err)
	}
}

func TestHeaderTemplates(t *testing.T) {
	set := newSet(t,
		render.Inline{Name: "hdr.name", Text: "{{ .CommonLabels.alertname }}\n{{ .Status }}\r\n"},
		render.Inline{Name: "hdr.count", Text: "{{ len .Alerts }}"},
		render.Inline{Name: "hdr.multi", Text: "a\r\nb\rc\nd"},
	)
	n := newNotifier(t, notify.Settings{Templates: set, HeaderTemplates: map[string]string{
		"X-Alert": "hdr.name", "x-count": "hdr.count", "X-Multi": "hdr.multi",
	}})
	reqs, err := n.Build(context.Background(), buildGroup(t, readExample(t, "payload-firing.json")))
	if err != nil {
		t.Fatal(err)
	}
	h := reqs[0].Header
	want := map[string]string{"X-Alert": "HighCPU firing", "X-Count": "2", "X-Multi": "a b c d", "Content-Type": "application/json"}
	for k, v := range want {
		if got := h.Values(k); len(got) != 1 || got[0] != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}

	// Hostile label values are folded onto one line.
	reqs, err = n.Build(context.Background(), buildGroup(t, hostilePayload()))
	if err != nil {
		t.Fatal(err)
	}
	if v := reqs[0].Header.Get("X-Alert"); strings.ContainsAny(v, "\r\n") || !strings.HasPrefix(v, `Disk "full"`) {
		t.Errorf("hostile header value not folded: %q", v)
	}
}

func TestHeaderValue(t *testing.T) {
	tests := map[string]string{
		"plain":            "plain",
		"  padded \n":      "padded",
		"a\r\nb":           "a b",
		"a\nb":             "a b",
		"a\rb":             "a b",
		"a\r\n\r\nb":       "a  b",
		"\r\nleading":      "leading",
		"tab\tkept":        "tab\tkept",
		"告警 🔥\nsecond":     "告警 🔥 second",
		"Bearer x\r\nX: y": "Bearer x X: y",
	}
	for in, want := range tests {
		if got := webhook.HeaderValue(in); got != want {
			t.Errorf("HeaderValue(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHeaderControlCharacters: Go's HTTP client rejects every header value
// holding a control character other than tab, not only CR and LF. A label
// holding one (the hostile fixture's alertname has \x01, ESC and DEL) makes
// every attempt fail before anything is sent, classified as a retryable
// transport error, so the group is retried until attempts run out instead
// of being delivered (or failing permanently at once).
func TestHeaderControlCharacters(t *testing.T) {
	for _, in := range []string{"a\x01b", "a\x1b[31mb", "a\x7fb", "a\x00b"} {
		v := webhook.HeaderValue(in)
		for i := 0; i < len(v); i++ {
			if c := v[i]; (c < 0x20 && c != '\t') || c == 0x7f {
				t.Errorf("HeaderValue(%q) = %q keeps control byte %#x", in, v, c)
			}
		}
	}
	fake := webhookfake.NewWebhook(t)
	set := newSet(t, render.Inline{Name: "hdr", Text: "{{ .CommonLabels.alertname }}"})
	n := newNotifier(t, notify.Settings{URL: fake.URL + "/hook/TOKEN", Templates: set, HeaderTemplates: map[string]string{"X-Alert": "hdr"}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := (&notify.Sender{}).Deliver(ctx, &http.Client{}, n, buildGroup(t, hostilePayload()), notify.Attempt{})
	if r.Verdict != notify.Delivered {
		t.Errorf("Deliver = %+v, want delivered", r)
	}
}

func TestClassifyWithoutVerify(t *testing.T) {
	n := newNotifier(t, notify.Settings{Templates: newSet(t)})
	date := fixedNow.Add(30 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		code   int
		header http.Header
		body   string
	}{
		{200, nil, "fail"}, {204, nil, ""},
		{429, http.Header{"Retry-After": {date}}, "slow"}, {429, http.Header{"Retry-After": {"3"}}, "slow"},
		{500, nil, "boom"}, {503, http.Header{"Retry-After": {"10"}}, "later"},
		{401, nil, "auth"}, {403, nil, "auth"}, {404, nil, "gone"}, {413, nil, "big"}, {400, nil, "bad"},
	}
	for _, tc := range tests {
		h := tc.header
		if h == nil {
			h = http.Header{}
		}
		resp := &notify.Response{StatusCode: tc.code, Header: h, Body: []byte(tc.body)}
		got, want := n.Classify(resp), notify.ClassifyHTTP(resp, fixedNow)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Classify(%d %q) = %+v, want ClassifyHTTP's %+v", tc.code, tc.body, got, want)
		}
	}
	// The settings' clock is the one used for HTTP-date Retry-After.
	r := n.Classify(&notify.Response{StatusCode: 429, Header: http.Header{"Retry-After": {date}}})
	if r.RetryAfter != 30*time.Second {
		t.Errorf("RetryAfter = %v, want 30s from the settings clock", r.RetryAfter)
	}
}

func TestClassifyWithVerify(t *testing.T) {
	n := newNotifier(t, notify.Settings{Templates: newSet(t), Verify: &notify.Verify{Status: []int{200}, BodyContains: "ok"}})
	tests := []struct {
		code    int
		body    string
		verdict notify.Verdict
		reason  notify.Reason
	}{
		{200, `{"result":"ok"}`, notify.Delivered, notify.ReasonNone},
		{200, `{"result":"fail"}`, notify.Retry, notify.ReasonIMRejected},
		{201, `{"result":"ok"}`, notify.Retry, notify.ReasonIMRejected},
		{500, `ok`, notify.Retry, notify.ReasonServerError},
		{429, `ok`, notify.Retry, notify.ReasonRateLimited},
		{404, `not found`, notify.Permanent, notify.ReasonClientError},
		{401, `ok`, notify.Permanent, notify.ReasonAuthError},
	}
	for _, tc := range tests {
		r := n.Classify(&notify.Response{StatusCode: tc.code, Header: http.Header{}, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason {
			t.Errorf("Classify(%d %q) = %+v, want %v %q", tc.code, tc.body, r, tc.verdict, tc.reason)
		}
		if tc.reason == notify.ReasonIMRejected && (!strings.Contains(r.Message, tc.body) || !strings.Contains(r.Message, "HTTP")) {
			t.Errorf("imRejected message %q lacks the status or body", r.Message)
		}
	}
}

func TestDeliverToFakeWebhook(t *testing.T) {
	fake := webhookfake.NewWebhook(t)
	fake.Script(notifytest.Reply{Status: http.StatusServiceUnavailable, Header: map[string]string{"Retry-After": "5"}, Body: "busy"})
	n := newNotifier(t, notify.Settings{URL: fake.URL + "/hook/TOKEN", Templates: newSet(t)})
	g := buildGroup(t, hostilePayload())
	want := buildOne(t, n, g)
	s := &notify.Sender{UserAgent: "alertbridge/test"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	r := s.Deliver(ctx, &http.Client{}, n, g, notify.Attempt{})
	if r.Verdict != notify.Retry || r.Reason != notify.ReasonServerError || r.RetryAfter != 5*time.Second {
		t.Fatalf("first attempt = %+v, want retry serverError after 5s", r)
	}
	if r = s.Deliver(ctx, &http.Client{}, n, g, notify.Attempt{}); r.Verdict != notify.Delivered {
		t.Fatalf("second attempt = %+v, want delivered", r)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Fatalf("fake webhook saw contract violations: %v", v)
	}
	got := fake.WaitFor(1, 5*time.Second)
	if len(got) != 1 {
		t.Fatalf("fake accepted %d requests, want 1", len(got))
	}
	if string(got[0].Body) != string(want) {
		t.Errorf("sent body differs from the built body:\n got %s\nwant %s", got[0].Body, want)
	}
	if got[0].Path != "/hook/TOKEN" || got[0].Header.Get("User-Agent") != "alertbridge/test" {
		t.Errorf("request = %s UA %q", got[0].Path, got[0].Header.Get("User-Agent"))
	}
}

// TestSigningHeaders checks the Standard Webhooks headers independently of
// the package's signer: HMAC-SHA256 over "id.timestamp.body" with the
// base64-decoded whsec_ key, a webhook-id stable across attempts and a
// timestamp from the settings clock.
func TestSigningHeaders(t *testing.T) {
	key := []byte("alertbridge-test-signing-key-0001")
	now := fixedNow
	s := notify.Settings{Name: "signed", Templates: newSet(t), Secret: "whsec_" + base64.StdEncoding.EncodeToString(key),
		Now: func() time.Time { return now }}
	n := newNotifier(t, s)
	g := buildGroup(t, readExample(t, "payload-firing.json"))

	build := func() *notify.Request {
		reqs, err := n.Build(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		return reqs[0]
	}
	verify := func(r *notify.Request, ts time.Time) {
		t.Helper()
		id := r.Header.Get("webhook-id")
		if !strings.HasPrefix(id, "msg_") {
			t.Errorf("webhook-id = %q", id)
		}
		if got := r.Header.Get("webhook-timestamp"); got != strconv.FormatInt(ts.Unix(), 10) {
			t.Errorf("webhook-timestamp = %q, want %d", got, ts.Unix())
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
		m.Write(r.Body)
		if got, want := r.Header.Get("webhook-signature"), "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)); got != want {
			t.Errorf("webhook-signature = %q, want %q", got, want)
		}
	}
	first := build()
	verify(first, fixedNow)
	now = fixedNow.Add(time.Minute) // a retry, a minute later
	second := build()
	verify(second, now)
	if a, b := first.Header.Get("webhook-id"), second.Header.Get("webhook-id"); a != b {
		t.Errorf("webhook-id changed between attempts: %s, %s", a, b)
	}

	// Without a secret nothing is signed.
	reqs, err := newNotifier(t, notify.Settings{Templates: newSet(t)}).Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		if v := reqs[0].Header.Get(h); v != "" {
			t.Errorf("unsigned request has %s: %q", h, v)
		}
	}
}
