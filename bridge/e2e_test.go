package bridge

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/amtest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// hostileLabels are label values that break bridges which assemble JSON
// with text templates.
var hostileLabels = map[string]string{
	"alertname": "E2EHostile",
	"severity":  "critical",
	"job":       "e2e",
	"quote":     `say "hi"`,
	"backslash": `C:\temp\new`,
	"newline":   "line1\nline2\r\nline3",
	"braces":    "{{ .Evil }} {{",
	"cjk":       "磁盘告警",
	"emoji":     "🔥🚨",
}

// TestEndToEndWithRealAlertmanager posts alerts to a real Alertmanager whose
// webhook receiver is the bridge, and checks what reaches the fake
// receivers: the default record body and a user JSON template, firing and
// then resolved, valid JSON with every hostile value intact.
func TestEndToEndWithRealAlertmanager(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real Alertmanager")
	}
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: records
    type: webhook
    url: `+sink.URL+`/records
  - name: custom
    type: webhook
    url: `+sink.URL+`/custom
    headers:
      X-Alert: '{{ .CommonLabels.newline }}'
    template: |
      {"status": "{{ .Status }}", "labels": {
        {{- range $i, $p := .CommonLabels.SortedPairs }}{{ if $i }},{{ end }}"{{ $p.Name }}": "{{ $p.Value }}"{{ end }}},
       "summary": "{{ (index .Alerts 0).Annotations.summary }}", "count": {{ len .Alerts }}}
`), "")
	am := amtest.Start(t, amtest.Options{WebhookURL: b.url + "/webhook"})
	a := amtest.Alert{
		Labels:       hostileLabels,
		Annotations:  map[string]string{"summary": `disk "full" on C:\ {{ x }}` + "\n磁盘 🔥"},
		GeneratorURL: "http://prometheus.example/graph?g0.expr=up+%3D%3D+0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := am.PostAlerts(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := sink.WaitFor(2, 30*time.Second)
	if len(got) < 2 {
		t.Fatalf("firing: received %d requests, want 2; violations: %v", len(got), sink.Violations())
	}
	if err := am.Resolve(ctx, a); err != nil {
		t.Fatal(err)
	}
	got = sink.WaitFor(4, 30*time.Second)
	if len(got) != 4 {
		t.Fatalf("resolved: received %d requests, want 4; violations: %v", len(got), sink.Violations())
	}
	if v := sink.Violations(); len(v) > 0 {
		t.Errorf("contract violations: %v", v)
	}

	var recordBodies, customBodies [][]byte
	for _, r := range got {
		switch r.Path {
		case "/records":
			recordBodies = append(recordBodies, r.Body)
		case "/custom":
			customBodies = append(customBodies, r.Body)
			if h := r.Header.Get("X-Alert"); h != "line1 line2 line3" {
				t.Errorf("X-Alert header = %q, want the newline folded", h)
			}
		}
	}
	if len(recordBodies) != 2 || len(customBodies) != 2 {
		t.Fatalf("records %d, custom %d; want 2 each", len(recordBodies), len(customBodies))
	}
	for i, wantStatus := range []int{alert.StatusFiring, alert.StatusResolved} {
		var recs []alert.Record
		if err := json.Unmarshal(recordBodies[i], &recs); err != nil {
			t.Fatalf("records body %d: %v\n%s", i, err, recordBodies[i])
		}
		if len(recs) != 1 {
			t.Fatalf("records body %d has %d records", i, len(recs))
		}
		r := recs[0]
		if r.Status != wantStatus || r.Target != "e2e/E2EHostile" || r.Priority != alert.PriorityHigh || r.Times != int64(i+1) {
			t.Errorf("record %d = %+v", i, r)
		}
		for k, v := range hostileLabels {
			if r.Tags[k] != v {
				t.Errorf("record %d tag %s = %q, want %q", i, k, r.Tags[k], v)
			}
		}
		if r.Content != a.Annotations["summary"] {
			t.Errorf("content = %q", r.Content)
		}
	}
	for i, wantStatus := range []string{"firing", "resolved"} {
		var c struct {
			Status  string            `json:"status"`
			Labels  map[string]string `json:"labels"`
			Summary string            `json:"summary"`
			Count   int               `json:"count"`
		}
		if err := json.Unmarshal(customBodies[i], &c); err != nil {
			t.Fatalf("custom body %d: %v\n%s", i, err, customBodies[i])
		}
		if c.Status != wantStatus || c.Count != 1 || c.Summary != a.Annotations["summary"] {
			t.Errorf("custom body %d = %+v", i, c)
		}
		for k, v := range hostileLabels {
			if c.Labels[k] != v {
				t.Errorf("custom body %d label %s = %q, want %q", i, k, c.Labels[k], v)
			}
		}
	}
}
