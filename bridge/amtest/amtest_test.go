package amtest

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// webhookMsg is the subset of Alertmanager's webhook payload (version 4)
// that the test checks.
type webhookMsg struct {
	Version      string            `json:"version"`
	GroupKey     string            `json:"groupKey"`
	Status       string            `json:"status"`
	Receiver     string            `json:"receiver"`
	ExternalURL  string            `json:"externalURL"`
	GroupLabels  map[string]string `json:"groupLabels"`
	CommonLabels map[string]string `json:"commonLabels"`
	Alerts       []struct {
		Status      string            `json:"status"`
		Labels      map[string]string `json:"labels"`
		Annotations map[string]string `json:"annotations"`
		StartsAt    time.Time         `json:"startsAt"`
		EndsAt      time.Time         `json:"endsAt"`
		Fingerprint string            `json:"fingerprint"`
	} `json:"alerts"`
}

// received is one webhook POST as seen by the recording server.
type received struct {
	path string
	raw  []byte
	msg  webhookMsg
	err  error // decode error; reported by the test goroutine, not the handler
}

// newRecorder starts an HTTP server on 127.0.0.1 that records every request
// on the returned channel. The handler never calls t.Fatal; if the channel is
// full the request is dropped (the test only needs the first few).
func newRecorder(t *testing.T) (*httptest.Server, <-chan received) {
	t.Helper()
	ch := make(chan received, 64)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, err := io.ReadAll(r.Body)
		rec := received{path: r.URL.Path, raw: raw, err: err}
		if err == nil {
			rec.err = json.Unmarshal(raw, &rec.msg)
		}
		select {
		case ch <- rec:
		default:
		}
		w.WriteHeader(http.StatusOK)
	}))
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, ch
}

// waitFor returns the first recorded request whose payload has the given
// status, failing the test after timeout. Decode errors fail the test.
func waitFor(t *testing.T, ch <-chan received, status string, timeout time.Duration) webhookMsg {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case rec := <-ch:
			if rec.err != nil {
				t.Fatalf("bad webhook request to %s: %v\nbody: %s", rec.path, rec.err, rec.raw)
			}
			if rec.path != "/webhook" {
				t.Fatalf("webhook POSTed to %q, want /webhook", rec.path)
			}
			t.Logf("webhook: status=%s alerts=%d body=%s", rec.msg.Status, len(rec.msg.Alerts), rec.raw)
			if rec.msg.Status == status {
				return rec.msg
			}
		case <-timer.C:
			t.Fatalf("no %q webhook notification within %v", status, timeout)
		}
	}
}

func TestWebhookRoundTrip(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Alertmanager (and may build it); skipped in -short mode")
	}

	srv, notifications := newRecorder(t)
	am := Start(t, Options{WebhookURL: srv.URL + "/webhook"})
	if !strings.HasPrefix(am.URL, "http://127.0.0.1:") {
		t.Fatalf("am.URL = %q, want http://127.0.0.1:<port>", am.URL)
	}

	labels := map[string]string{
		"alertname": "AmtestSpecialChars",
		"quote":     `he said "hi" and 'bye'`,
		"backslash": `C:\path\to\file \n not-a-newline`,
		"newline":   "line one\nline two\r\nline three",
		"template":  "{{ .Labels.alertname }} {{ template \"x\" }} }}",
		"cjk":       "告警",
		"emoji":     "🔥🚨 fire",
		"mixed":     "\"\\\n{{告警}}🔥\t",
	}
	annotations := map[string]string{
		"summary":     "Summary with {{ $labels.x }}, \"quotes\", \\ and 告警 🔥",
		"description": "multi\nline",
	}
	alert := Alert{
		Labels:       labels,
		Annotations:  annotations,
		GeneratorURL: "http://example.invalid/graph?g0.expr=up%7Bjob%3D%22x%22%7D",
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := am.PostAlerts(ctx, alert); err != nil {
		t.Fatalf("PostAlerts: %v", err)
	}

	firing := waitFor(t, notifications, "firing", 20*time.Second)
	if firing.Version != "4" {
		t.Errorf("version = %q, want \"4\"", firing.Version)
	}
	if firing.GroupKey == "" {
		t.Errorf("groupKey is empty")
	}
	if firing.Receiver != ReceiverName {
		t.Errorf("receiver = %q, want %q", firing.Receiver, ReceiverName)
	}
	if firing.ExternalURL != am.URL {
		t.Errorf("externalURL = %q, want %q", firing.ExternalURL, am.URL)
	}
	if got, want := firing.GroupLabels, map[string]string{"alertname": "AmtestSpecialChars"}; !maps.Equal(got, want) {
		t.Errorf("groupLabels = %q, want %q", got, want)
	}
	if len(firing.Alerts) != 1 {
		t.Fatalf("got %d alerts in firing notification, want 1", len(firing.Alerts))
	}
	fa := firing.Alerts[0]
	if fa.Status != "firing" {
		t.Errorf("alert status = %q, want firing", fa.Status)
	}
	if !maps.Equal(fa.Labels, labels) {
		t.Errorf("labels not preserved:\n got %q\nwant %q", fa.Labels, labels)
	}
	if !maps.Equal(fa.Annotations, annotations) {
		t.Errorf("annotations not preserved:\n got %q\nwant %q", fa.Annotations, annotations)
	}
	if fa.StartsAt.IsZero() {
		t.Errorf("startsAt is zero")
	}

	if err := am.Resolve(ctx, alert); err != nil {
		t.Fatalf("Resolve: %v", err)
	}

	resolved := waitFor(t, notifications, "resolved", 20*time.Second)
	if resolved.Version != "4" {
		t.Errorf("resolved version = %q, want \"4\"", resolved.Version)
	}
	if resolved.GroupKey != firing.GroupKey {
		t.Errorf("resolved groupKey = %q, want %q (same group as firing)", resolved.GroupKey, firing.GroupKey)
	}
	if len(resolved.Alerts) != 1 {
		t.Fatalf("got %d alerts in resolved notification, want 1", len(resolved.Alerts))
	}
	ra := resolved.Alerts[0]
	if ra.Status != "resolved" {
		t.Errorf("resolved alert status = %q, want resolved", ra.Status)
	}
	if !maps.Equal(ra.Labels, labels) {
		t.Errorf("resolved labels not preserved:\n got %q\nwant %q", ra.Labels, labels)
	}
	if ra.Fingerprint != fa.Fingerprint {
		t.Errorf("resolved fingerprint = %q, want %q", ra.Fingerprint, fa.Fingerprint)
	}
	if ra.EndsAt.IsZero() || ra.EndsAt.Before(ra.StartsAt) {
		t.Errorf("resolved endsAt = %v (startsAt %v), want a time at or after startsAt", ra.EndsAt, ra.StartsAt)
	}
}

func TestPostAlertsRejectsInvalid(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Alertmanager (and may build it); skipped in -short mode")
	}
	am := Start(t, Options{WebhookURL: "http://127.0.0.1:1/webhook"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := am.PostAlerts(ctx, Alert{Labels: map[string]string{}})
	if err == nil {
		t.Fatal("PostAlerts with no labels: got nil error, want a 400 error")
	}
	if !strings.Contains(err.Error(), "400") {
		t.Errorf("PostAlerts error = %v, want it to mention status 400", err)
	}
	if err := am.PostAlerts(ctx); err != nil {
		t.Errorf("PostAlerts with no alerts = %v, want nil", err)
	}
}

func TestRenderConfig(t *testing.T) {
	t.Run("defaults", func(t *testing.T) {
		raw, err := renderConfig(Options{WebhookURL: "http://127.0.0.1:9/hook?a=b&c='d'"})
		if err != nil {
			t.Fatal(err)
		}
		var got amConfig
		if err := yaml.Unmarshal(raw, &got); err != nil {
			t.Fatalf("generated config is not valid YAML: %v\n%s", err, raw)
		}
		want := amConfig{
			Global: amGlobal{ResolveTimeout: "5m"},
			Route: amRoute{
				Receiver:       "bridge",
				GroupBy:        []string{"alertname"},
				GroupWait:      "100ms",
				GroupInterval:  "1s",
				RepeatInterval: "1h",
			},
			Receivers: []amReceiver{{
				Name: "bridge",
				WebhookConfigs: []amWebhook{{
					URL:          "http://127.0.0.1:9/hook?a=b&c='d'",
					SendResolved: true,
				}},
			}},
		}
		if !equalConfig(got, want) {
			t.Errorf("config mismatch:\n got %+v\nwant %+v\nyaml:\n%s", got, want, raw)
		}
	})
	t.Run("explicit", func(t *testing.T) {
		raw, err := renderConfig(Options{
			WebhookURL:     "http://127.0.0.1:9/",
			GroupBy:        []string{"alertname", "severity"},
			GroupWait:      1500 * time.Millisecond,
			GroupInterval:  90 * time.Second,
			RepeatInterval: 25*time.Hour + time.Microsecond,
			NoResolved:     true,
			MaxAlerts:      3,
			ResolveTimeout: time.Microsecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		var got amConfig
		if err := yaml.Unmarshal(raw, &got); err != nil {
			t.Fatalf("generated config is not valid YAML: %v\n%s", err, raw)
		}
		want := amConfig{
			Global: amGlobal{ResolveTimeout: "1ms"},
			Route: amRoute{
				Receiver:       "bridge",
				GroupBy:        []string{"alertname", "severity"},
				GroupWait:      "1s500ms",
				GroupInterval:  "1m30s",
				RepeatInterval: "25h",
			},
			Receivers: []amReceiver{{
				Name:           "bridge",
				WebhookConfigs: []amWebhook{{URL: "http://127.0.0.1:9/", SendResolved: false, MaxAlerts: 3}},
			}},
		}
		if !equalConfig(got, want) {
			t.Errorf("config mismatch:\n got %+v\nwant %+v\nyaml:\n%s", got, want, raw)
		}
	})
	for name, opts := range map[string]Options{
		"no url":           {},
		"negative max":     {WebhookURL: "http://x/", MaxAlerts: -1},
		"negative wait":    {WebhookURL: "http://x/", GroupWait: -time.Second},
		"negative timeout": {WebhookURL: "http://x/", ResolveTimeout: -time.Second},
	} {
		if _, err := renderConfig(opts); err == nil {
			t.Errorf("%s: renderConfig succeeded, want error", name)
		}
	}
}

func equalConfig(a, b amConfig) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
