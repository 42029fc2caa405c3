package alert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// payload builds a webhook body from a template.Data-like map so each test
// states only what it changes.
func payload(t testing.TB, mutate func(p map[string]any)) string {
	t.Helper()
	p := map[string]any{
		"version":  "4",
		"groupKey": `{}:{alertname="HighCPU"}`,
		"status":   "firing",
		"receiver": "alertbridge",
		"alerts": []any{
			map[string]any{
				"status":       "firing",
				"labels":       map[string]any{"alertname": "HighCPU", "instance": "web-1"},
				"annotations":  map[string]any{"summary": "hot"},
				"startsAt":     "2026-11-23T10:00:00Z",
				"endsAt":       "0001-01-01T00:00:00Z",
				"generatorURL": "http://prom:9090/graph?g0.expr=up",
				"fingerprint":  "0123456789abcdef",
			},
		},
	}
	if mutate != nil {
		mutate(p)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func alert0(p map[string]any) map[string]any { return p["alerts"].([]any)[0].(map[string]any) }

func TestDecodeInvalid(t *testing.T) {
	valid := payload(t, nil)
	cases := []struct {
		name string
		body string
		want []string // substrings of the error message
	}{
		{name: "empty body", body: "", want: []string{"empty body"}},
		{name: "whitespace only", body: " \n\t ", want: []string{"empty body"}},
		{name: "truncated JSON", body: valid[:len(valid)/2], want: []string{"malformed JSON", "unexpected end"}},
		{name: "syntax error", body: `{"version": "4" "groupKey": "k"}`, want: []string{"malformed JSON", "byte 17"}},
		{name: "not JSON at all", body: "version=4", want: []string{"malformed JSON", "byte 1"}},
		{name: "top level array", body: `[` + valid + `]`, want: []string{"malformed payload", "array"}},
		{name: "null", body: "null", want: []string{"missing version"}},
		{name: "version 3", body: payload(t, func(p map[string]any) { p["version"] = "3" }), want: []string{`unsupported version "3"`, `"4"`}},
		{name: "missing version", body: payload(t, func(p map[string]any) { delete(p, "version") }), want: []string{"missing version"}},
		{name: "version as number", body: payload(t, func(p map[string]any) { p["version"] = 4 }), want: []string{"version", "string", "number"}},
		{name: "missing groupKey", body: payload(t, func(p map[string]any) { delete(p, "groupKey") }), want: []string{"missing groupKey"}},
		{name: "blank groupKey", body: payload(t, func(p map[string]any) { p["groupKey"] = "  " }), want: []string{"missing groupKey"}},
		{name: "huge groupKey", body: payload(t, func(p map[string]any) { p["groupKey"] = strings.Repeat("k", MaxGroupKey+1) }), want: []string{"groupKey is 16385 bytes long", "limit of 16384"}},
		{name: "group status invalid", body: payload(t, func(p map[string]any) { p["status"] = "pending" }), want: []string{`status "pending"`, "firing or resolved"}},
		{name: "no alerts field", body: payload(t, func(p map[string]any) { delete(p, "alerts") }), want: []string{"alerts", "no alerts"}},
		{name: "empty alerts", body: payload(t, func(p map[string]any) { p["alerts"] = []any{} }), want: []string{"alerts", "no alerts"}},
		{name: "alerts not a list", body: payload(t, func(p map[string]any) { p["alerts"] = map[string]any{} }), want: []string{"alerts", "object"}},
		{name: "alert status invalid", body: payload(t, func(p map[string]any) { alert0(p)["status"] = "pending" }), want: []string{"alerts[0].status", `"pending"`}},
		{name: "alert status missing", body: payload(t, func(p map[string]any) { delete(alert0(p), "status") }), want: []string{"alerts[0].status", "missing"}},
		{name: "second alert invalid", body: payload(t, func(p map[string]any) {
			a := map[string]any{"status": "Firing", "labels": map[string]any{"a": "b"}}
			p["alerts"] = append(p["alerts"].([]any), a)
		}), want: []string{"alerts[1].status", `"Firing"`}},
		{name: "alert with empty labels", body: payload(t, func(p map[string]any) { alert0(p)["labels"] = map[string]any{} }), want: []string{"alerts[0].labels"}},
		{name: "alert without labels", body: payload(t, func(p map[string]any) { delete(alert0(p), "labels") }), want: []string{"alerts[0].labels"}},
		{name: "labels not an object", body: payload(t, func(p map[string]any) { alert0(p)["labels"] = []any{"a"} }), want: []string{"labels", "array"}},
		{name: "label value not a string", body: payload(t, func(p map[string]any) { alert0(p)["labels"] = map[string]any{"a": 1} }), want: []string{"labels", "number"}},
		{name: "negative truncatedAlerts", body: payload(t, func(p map[string]any) { p["truncatedAlerts"] = -1 }), want: []string{"truncatedAlerts", "-1"}},
		{name: "startsAt not a time", body: payload(t, func(p map[string]any) { alert0(p)["startsAt"] = "yesterday" }), want: []string{"malformed payload", `"yesterday"`}},
		{
			name: "startsAt not a string",
			body: payload(t, func(p map[string]any) { alert0(p)["startsAt"] = 1795428000 }),
			want: []string{"not a JSON string"},
		},
		{name: "trailing garbage", body: valid + " x", want: []string{"trailing data"}},
		{name: "two payloads", body: valid + "\n" + valid, want: []string{"trailing data"}},
		{
			name: "trailing close brace",
			body: valid + "}",
			want: []string{"trailing data"},
		},
		{
			name: "trailing close bracket",
			body: valid + "]",
			want: []string{"trailing data"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Decode(strings.NewReader(c.body))
			if err == nil {
				t.Fatalf("Decode(%q) = %+v, want an error", c.body, m)
			}
			if m != nil {
				t.Errorf("Decode returned a message along with error %v", err)
			}
			if !IsInvalid(err) {
				t.Errorf("IsInvalid(%v) = false, want true (error type %T)", err, err)
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestDecodeReaderErrorIsNotInvalid(t *testing.T) {
	boom := errors.New("connection reset")
	valid := payload(t, nil)
	cases := []struct {
		name string
		r    io.Reader
	}{
		{"error at once", iotest.ErrReader(boom)},
		{"error mid-body", io.MultiReader(strings.NewReader(valid[:20]), iotest.ErrReader(boom))},
		{"error after a one-byte read", iotest.OneByteReader(io.MultiReader(strings.NewReader(valid[:len(valid)-1]), iotest.ErrReader(boom)))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.r)
			if !errors.Is(err, boom) {
				t.Fatalf("Decode error = %v, want the reader's error", err)
			}
			if IsInvalid(err) {
				t.Errorf("a reader failure is reported as an invalid payload: %v", err)
			}
		})
	}
}

func TestIsInvalid(t *testing.T) {
	inv := &InvalidError{Msg: "bad"}
	cases := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("bad"), false},
		{inv, true},
		{fmt.Errorf("decoding: %w", inv), true},
		{errors.Join(errors.New("x"), inv), true},
	}
	for _, c := range cases {
		if got := IsInvalid(c.err); got != c.want {
			t.Errorf("IsInvalid(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	if inv.Error() != "bad" {
		t.Errorf("InvalidError.Error() = %q", inv.Error())
	}
}

func TestDecodeExamples(t *testing.T) {
	cases := []struct {
		file   string
		status string
	}{
		{"../../examples/payload-firing.json", "firing"},
		{"../../examples/payload-resolved.json", "resolved"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			f, err := os.Open(c.file)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			m, err := Decode(f)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if m.Version != "4" || m.GroupKey != `{}:{alertname="HighCPU"}` || m.Receiver != "alertbridge" {
				t.Errorf("header = %q %q %q", m.Version, m.GroupKey, m.Receiver)
			}
			if m.Status != c.status || m.ExternalURL != "http://alertmanager.example:9093" {
				t.Errorf("status %q externalURL %q", m.Status, m.ExternalURL)
			}
			if len(m.Alerts) != 2 {
				t.Fatalf("%d alerts, want 2", len(m.Alerts))
			}
			a := m.Alerts[0]
			if a.Status != c.status {
				t.Errorf("alerts[0].status = %q", a.Status)
			}
			wantDesc := "Load is \"high\" on C:\\data\nsecond line {{ not a template }} 告警 🔥"
			if a.Annotations["description"] != wantDesc {
				t.Errorf("description = %q, want %q", a.Annotations["description"], wantDesc)
			}
			if a.Fingerprint != "a1b2c3d4e5f60718" || m.Alerts[1].Fingerprint != "b2c3d4e5f6071829" {
				t.Errorf("fingerprints were rewritten: %q %q", a.Fingerprint, m.Alerts[1].Fingerprint)
			}
			if !a.StartsAt.Equal(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("startsAt = %v", a.StartsAt)
			}
			if a.Labels["instance"] != "web-1:9100" || m.CommonLabels["severity"] != "critical" {
				t.Errorf("labels = %v common = %v", a.Labels, m.CommonLabels)
			}
		})
	}
}

var fingerprintRE = regexp.MustCompile(`^[0-9a-f]{16}$`)

func decodeOrFatal(t *testing.T, body string) *Message {
	t.Helper()
	m, err := Decode(strings.NewReader(body))
	if err != nil {
		t.Fatalf("Decode: %v\n%s", err, body)
	}
	return m
}

func TestDecodeFillsFingerprint(t *testing.T) {
	withLabels := func(fp string, labels ...map[string]any) string {
		return payload(t, func(p map[string]any) {
			var alerts []any
			for _, l := range labels {
				a := map[string]any{"status": "firing", "labels": l}
				if fp != "" {
					a["fingerprint"] = fp
				}
				alerts = append(alerts, a)
			}
			p["alerts"] = alerts
		})
	}
	// Key order in the body must not matter.
	m1 := decodeOrFatal(t, `{"version":"4","groupKey":"k","alerts":[{"status":"firing","labels":{"alertname":"A","instance":"x"}}]}`)
	m2 := decodeOrFatal(t, `{"version":"4","groupKey":"k","alerts":[{"labels":{"instance":"x","alertname":"A"},"status":"resolved"}]}`)
	fp := m1.Alerts[0].Fingerprint
	if !fingerprintRE.MatchString(fp) {
		t.Fatalf("filled fingerprint %q is not 16 hex digits", fp)
	}
	if m2.Alerts[0].Fingerprint != fp {
		t.Errorf("same labels, different fingerprints: %q and %q", fp, m2.Alerts[0].Fingerprint)
	}
	// Alertmanager fingerprints an alert by its label set; a payload
	// without fingerprints must get the one Alertmanager would have sent.
	if want := (model.LabelSet{"alertname": "A", "instance": "x"}).Fingerprint().String(); fp != want {
		t.Errorf("fingerprint %q, Alertmanager's is %q", fp, want)
	}

	m := decodeOrFatal(t, withLabels("",
		map[string]any{"alertname": "A", "instance": "x"},
		map[string]any{"alertname": "A", "instance": "y"},
		map[string]any{"alertname": "A", "instance": "x"},
		map[string]any{"alertname": "A", "instance": "x", "job": "j"},
	))
	got := []string{m.Alerts[0].Fingerprint, m.Alerts[1].Fingerprint, m.Alerts[2].Fingerprint, m.Alerts[3].Fingerprint}
	if got[0] != fp || got[2] != fp {
		t.Errorf("same labels in one group, fingerprints %v, want %q", got, fp)
	}
	if got[1] == fp || got[3] == fp || got[1] == got[3] {
		t.Errorf("different labels share a fingerprint: %v", got)
	}

	// A fingerprint that is present is kept.
	m = decodeOrFatal(t, withLabels("cafe", map[string]any{"alertname": "A", "instance": "x"}))
	if m.Alerts[0].Fingerprint != "cafe" {
		t.Errorf("given fingerprint replaced by %q", m.Alerts[0].Fingerprint)
	}
}

func TestDecodeDerivesGroupStatus(t *testing.T) {
	cases := []struct {
		name   string
		group  string // "" leaves status out
		alerts []string
		want   string
	}{
		{"all firing", "", []string{"firing", "firing"}, "firing"},
		{"all resolved", "", []string{"resolved", "resolved"}, "resolved"},
		{"firing after resolved", "", []string{"resolved", "firing"}, "firing"},
		{"firing before resolved", "", []string{"firing", "resolved"}, "firing"},
		{"given status is kept", "resolved", []string{"firing"}, "resolved"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := payload(t, func(p map[string]any) {
				if c.group == "" {
					delete(p, "status")
				} else {
					p["status"] = c.group
				}
				var alerts []any
				for i, s := range c.alerts {
					alerts = append(alerts, map[string]any{"status": s, "labels": map[string]any{"i": fmt.Sprint(i)}})
				}
				p["alerts"] = alerts
			})
			if m := decodeOrFatal(t, body); m.Status != c.want {
				t.Errorf("status = %q, want %q", m.Status, c.want)
			}
		})
	}
}

// TestValidateDirect covers Validate on a Message built in Go.
func TestValidateDirect(t *testing.T) {
	m := &Message{
		Version:  Version,
		GroupKey: "k",
		Data: template.Data{Alerts: template.Alerts{
			{Status: "resolved", Labels: template.KV{"alertname": "A"}},
		}},
	}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	if m.Status != "resolved" || m.Alerts[0].Fingerprint == "" {
		t.Errorf("Validate did not fill status/fingerprint: %q %q", m.Status, m.Alerts[0].Fingerprint)
	}
}
