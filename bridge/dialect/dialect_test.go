package dialect

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/alert/alerttest"
)

var (
	t0   = alerttest.T0
	now0 = alerttest.Now0
	// mkAlert is a firing alert with the given labels; opts adjust it.
	mkAlert = alerttest.Alert
)

// dialectGroup builds a group the way the bridge does, from alerts, with
// the common labels and annotations Alertmanager would send.
func dialectGroup(t *testing.T, groupLabels template.KV, alerts ...template.Alert) *alert.Group {
	t.Helper()
	m := &alert.Message{Data: template.Data{
		Receiver: "team", Status: "resolved", Alerts: alerts, GroupLabels: groupLabels,
		ExternalURL:       "http://am.example:9093",
		CommonLabels:      common(alerts, func(a template.Alert) template.KV { return a.Labels }),
		CommonAnnotations: common(alerts, func(a template.Alert) template.KV { return a.Annotations }),
	}, Version: "4", GroupKey: "{}:{}"}
	for _, a := range alerts {
		if a.Status == "firing" {
			m.Status = "firing"
		}
	}
	return (&alert.Builder{}).BuildSeen(m, now0, nil)
}

// common is the pairs every alert has.
func common(alerts template.Alerts, kv func(template.Alert) template.KV) template.KV {
	out := template.KV{}
	for i, a := range alerts {
		for k, v := range kv(a) {
			if i == 0 {
				out[k] = v
			}
		}
		for k, v := range out {
			if kv(a)[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

func resolved(a *template.Alert) {
	a.Status = "resolved"
	a.EndsAt = now0
}

func annotate(kv template.KV) func(*template.Alert) {
	return func(a *template.Alert) { a.Annotations = kv }
}

func TestNewDialect(t *testing.T) {
	for _, name := range []string{"", Alertmanager} {
		if d, err := New(name, Options{}); d != nil || err != nil {
			t.Errorf("New(%q) = %v, %v; want nil, nil (the group itself)", name, d, err)
		}
	}
	for _, name := range Names()[1:] {
		d, err := New(name, Options{})
		if err != nil || d == nil || d.Name != name {
			t.Errorf("New(%q) = %+v, %v", name, d, err)
		}
	}
	if _, err := New("prometheus", Options{}); err == nil || !strings.Contains(err.Error(), "hertzbeat") {
		t.Errorf("unknown dialect error %v should list the known ones", err)
	}
	var d *Dialect
	g := dialectGroup(t, nil, mkAlert(template.KV{"alertname": "A"}))
	if d.View(g) != any(g) {
		t.Error("the nil (alertmanager) dialect must show templates the group itself")
	}
}

func TestAPI7View(t *testing.T) {
	g := dialectGroup(t, template.KV{"alertname": "HighCPU"},
		mkAlert(template.KV{"alertname": "HighCPU", "instance": "web-1", "severity": "warning"}, annotate(template.KV{"summary": "CPU hot", "description": "load 9\non web-1"})),
		mkAlert(template.KV{"alertname": "HighCPU", "instance": "web-2", "severity": " Critical "}, resolved, annotate(template.KV{"summary": "CPU hot", "description": "load 9\non web-1"})),
	)
	shanghai, _ := time.LoadLocation("Asia/Shanghai")
	got := API7View(g, shanghai)
	want := &API7Data{
		Title:    "[FIRING:1] HighCPU",
		Severity: "Low", // only the warning fires; the critical one is resolved
		Detail:   "[FIRING] HighCPU: CPU hot (instance=web-1, severity=warning)\n[RESOLVED] HighCPU: CPU hot (instance=web-2, severity= Critical )",
		AlertEvents: map[string]string{
			"HighCPU": "[FIRING] HighCPU: CPU hot (instance=web-1, severity=warning)\n[RESOLVED] HighCPU: CPU hot (instance=web-2, severity= Critical )",
		},
		AlertPolicyName: "HighCPU",
		Description:     "load 9\non web-1",
		AlertTime:       Time{now0.In(shanghai)},
	}
	want.AlertDetail = want.Detail
	if !reflect.DeepEqual(got, want) {
		t.Errorf("API7View =\n%+v\nwant\n%+v", got, want)
	}
	if s := got.AlertTime.String(); s != "2026-11-23 18:05:00" {
		t.Errorf("AlertTime prints %q", s)
	}
	if got.TriggerGatewayGroup != "" {
		t.Errorf("TriggerGatewayGroup without a gateway_group label = %q", got.TriggerGatewayGroup)
	}

	// Everything resolved: severity from all alerts; no common
	// description: the summary, then the title.
	g = dialectGroup(t, nil,
		mkAlert(template.KV{"alertname": "A", "severity": "critical"}, resolved, annotate(template.KV{"summary": "s1"})),
		mkAlert(template.KV{"alertname": "B", "severity": "error"}, resolved, annotate(template.KV{"summary": "s2"})),
	)
	got = API7View(g, nil)
	if got.Severity != "High" || got.Title != "[RESOLVED] alerts" || got.Description != got.Title || len(got.AlertEvents) != 2 {
		t.Errorf("resolved group: %+v", got)
	}
	if g := dialectGroup(t, nil, mkAlert(template.KV{"alertname": "A", "gateway_group": "gw-eu"})); API7View(g, nil).TriggerGatewayGroup != "gw-eu" {
		t.Error("TriggerGatewayGroup is not the common gateway_group label")
	}
	if got.AlertEvents["B"] != "[RESOLVED] B: s2 (severity=error)" {
		t.Errorf("AlertEvents.B = %q", got.AlertEvents["B"])
	}
}

func TestCorootView(t *testing.T) {
	for _, tc := range []struct {
		name   string
		group  *alert.Group
		status string
		app    CorootApplication
		url    string
	}{
		{
			name: "critical deployment, one alert links to its source",
			group: dialectGroup(t, nil, mkAlert(template.KV{"alertname": "Errors", "severity": "critical", "namespace": "shop", "deployment": "cart", "instance": "10.0.0.1"},
				func(a *template.Alert) { a.GeneratorURL = "http://prom/graph?g0.expr=x" })),
			status: "CRITICAL", app: CorootApplication{Namespace: "shop", Kind: "Deployment", Name: "cart"}, url: "http://prom/graph?g0.expr=x",
		},
		{
			name: "warning, explicit kind beats the implied one, two alerts link to the group",
			group: dialectGroup(t, template.KV{"alertname": "Lag"},
				mkAlert(template.KV{"alertname": "Lag", "severity": "warning", "kind": "Rollout", "deployment": "api", "app": "api-v2"}),
				mkAlert(template.KV{"alertname": "Lag", "severity": "warning", "kind": "Rollout", "deployment": "api", "app": "api-v2", "instance": "b"})),
			status: "WARNING", app: CorootApplication{Kind: "Rollout", Name: "api-v2"}, url: "http://am.example:9093/#/alerts?filter=%7Balertname%3D%22Lag%22%7D&receiver=team",
		},
		{
			name: "resolved, no naming label: the group's name; no source link: the group",
			group: dialectGroup(t, template.KV{"cluster": "eu-1"}, mkAlert(template.KV{"alertname": "Down", "cluster": "eu-1"}, resolved,
				func(a *template.Alert) { a.GeneratorURL = "" })),
			status: "OK", app: CorootApplication{Name: "eu-1"}, url: "http://am.example:9093/#/alerts?filter=%7Bcluster%3D%22eu-1%22%7D&receiver=team",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := CorootView(tc.group)
			if got.Status != tc.status || got.Application != tc.app || got.URL != tc.url {
				t.Errorf("CorootView = %+v\nwant status %s, application %+v, url %s", got, tc.status, tc.app, tc.url)
			}
			if len(got.Reports) != len(tc.group.Alerts) {
				t.Fatalf("%d reports for %d alerts", len(got.Reports), len(tc.group.Alerts))
			}
			for i, a := range tc.group.Alerts {
				r := got.Reports[i]
				if r.Name != a.Labels["alertname"] || r.Check != a.Labels["instance"] || r.Message != alert.Summary(a) {
					t.Errorf("report %d = %+v for alert %v", i, r, a.Labels)
				}
			}
		})
	}
	// A resolved alert in a firing group says so.
	g := dialectGroup(t, nil, mkAlert(template.KV{"alertname": "A"}), mkAlert(template.KV{"alertname": "B"}, resolved))
	if m := CorootView(g).Reports[1].Message; m != "resolved: B" {
		t.Errorf("resolved report in a firing group: %q", m)
	}
}

func TestAMMDSView(t *testing.T) {
	g := dialectGroup(t, template.KV{"alertname": "Disk"},
		mkAlert(template.KV{"alertname": "Disk", "severity": "critical", "host": "db\n1"}, annotate(template.KV{"summary": "90% full", "logo_url": "https://x/logo.png", "image": "https://x/i.png"})),
	)
	got := AMMDSView(g, time.UTC, "k")
	want := &AMMDSData{
		Type: "firing", Title: "[FIRING:1] Disk", SubTitle: "critical · 1 firing, 0 resolved",
		Message: "[FIRING] Disk: 90% full (host=db 1, severity=critical)",
		Time:    "2026-11-23 10:05:00", Logo: "https://x/logo.png", Image: "https://x/i.png",
		// printf '2026-11-23 10:05:00\n[FIRING] Disk: 90%% full (host=db 1, severity=critical)' | openssl dgst -sha256 -hmac k -binary | base64
		Sign: "ENRgoiFvWfBwZZxUSUVUqcDPzzhF3r6R1BNAuUjwlu4=",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("AMMDSView =\n%+v\nwant\n%+v", got, want)
	}
	if AMMDSView(g, time.UTC, "").Sign != "" {
		t.Error("sign without a secret must be empty")
	}
}

func TestHertzBeatView(t *testing.T) {
	g := dialectGroup(t, nil, mkAlert(template.KV{"alertname": "A", "job": "node"}), mkAlert(template.KV{"alertname": "B"}, resolved))
	for i := range g.Alerts {
		got := HertzBeatView(g.Slice(i, i+1))
		if !reflect.DeepEqual(got.Record, g.Records[i]) || got.NextEvalInterval != 0 {
			t.Errorf("alert %d: %+v, want record %+v", i, got, g.Records[i])
		}
	}
	if got := HertzBeatView(&alert.Group{}); got == nil {
		t.Error("an empty group must still give a value")
	}
	d, _ := New(HertzBeat, Options{})
	if !d.PerAlert {
		t.Error("hertzbeat records describe one alert each")
	}
}

func TestCorootApplicationIsCorootsID(t *testing.T) {
	a := CorootApplication{Namespace: "shop", Kind: "Deployment", Name: "cart:v2"}
	b, err := json.Marshal(struct {
		App CorootApplication `json:"application"`
	}{a})
	if err != nil || string(b) != `{"application":"shop:Deployment:cart:v2"}` {
		t.Errorf("JSON = %s, %v; want Coroot's application id", b, err)
	}
	var back CorootApplication
	if err := back.UnmarshalText([]byte(a.String())); err != nil || back != a {
		t.Errorf("UnmarshalText(%q) = %+v, %v", a.String(), back, err)
	}
	if err := back.UnmarshalText([]byte("no-colons")); err == nil {
		t.Error("a malformed id was accepted")
	}
}

func TestDialectTimeKeepsTimeMethods(t *testing.T) {
	d := Time{now0}
	if d.String() != "2026-11-23 10:05:00" || d.Format("2006 Jan 02") != "2026 Nov 23" {
		t.Errorf("Time prints %q / %q", d.String(), d.Format("2006 Jan 02"))
	}
	b, _ := json.Marshal(d)
	if string(b) != `"2026-11-23 10:05:00"` {
		t.Errorf("JSON %s", b)
	}
}
