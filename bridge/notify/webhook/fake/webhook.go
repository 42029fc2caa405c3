// Package fake is a strict fake generic webhook receiver (JSON, signed, or plain text) for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Webhook is a fake generic JSON webhook receiver. It requires POST with a
// Content-Type of application/json and a body that is valid JSON; anything
// else is answered 400 and recorded in Violations. It answers
// 200 {"ok":true} unless scripted.
type Webhook struct{ *notifytest.Fake }

// NewWebhook starts a fake webhook server, closed when the test ends.
func NewWebhook(t testing.TB) *Webhook { return newWebhook(t, nil) }

// newWebhook starts the fake with an extra check run after the basic one.
func newWebhook(t testing.TB, extra notifytest.Check) *Webhook {
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method + ", want POST", nil
		case r.Header.Get("Content-Type") != "application/json":
			return "", "Content-Type " + r.Header.Get("Content-Type") + ", want application/json", nil
		case !json.Valid(body):
			return "", "body is not valid JSON: " + string(body), nil
		}
		if extra != nil {
			return extra(r, body, now)
		}
		return "", "", nil
	}
	return &Webhook{notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: `{"ok":true}`}, nil)}
}

// NewSignedWebhook starts a fake webhook receiver that also verifies
// Standard Webhooks signatures with secret ("whsec_" + base64 key): all
// three headers present, webhook-timestamp within five minutes, and one
// "v1," entry of webhook-signature matching HMAC-SHA256 over
// id.timestamp.body, compared in constant time. Failures are answered 401.
func NewSignedWebhook(t testing.TB, secret string) *Webhook {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		t.Fatalf("NewSignedWebhook: secret is not whsec_ + base64: %v", err)
	}
	return newWebhook(t, func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		id, ts, sigs := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp"), r.Header.Get("webhook-signature")
		unauthorized := &notifytest.Reply{Status: http.StatusUnauthorized, Body: "invalid signature"}
		if id == "" || ts == "" || sigs == "" {
			return "", "missing webhook-id, webhook-timestamp or webhook-signature", unauthorized
		}
		secs, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || now.Sub(time.Unix(secs, 0)).Abs() > 5*time.Minute {
			return "", "webhook-timestamp " + ts + " outside the tolerance", unauthorized
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + ts + "."))
		mac.Write(body)
		want := []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))
		for _, s := range strings.Fields(sigs) {
			if v, sig, ok := strings.Cut(s, ","); ok && v == "v1" && hmac.Equal([]byte(sig), want) {
				return "", "", nil
			}
		}
		return "", "no webhook-signature entry matches", unauthorized
	})
}
