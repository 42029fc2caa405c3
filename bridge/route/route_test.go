package route

import (
	"testing"

	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

func matchers(t *testing.T, ms ...string) labels.Matchers {
	t.Helper()
	var out labels.Matchers
	for _, m := range ms {
		p, err := parse.Matcher(m)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func group(alerts ...template.Alert) *alert.Group {
	g := &alert.Group{Data: template.Data{Alerts: alerts, Status: "firing"}}
	for range alerts {
		g.Records = append(g.Records, alert.Record{})
	}
	return g
}

func a(status string, kv ...string) template.Alert {
	l := template.KV{}
	for i := 0; i+1 < len(kv); i += 2 {
		l[kv[i]] = kv[i+1]
	}
	return template.Alert{Status: status, Labels: l}
}

func TestSelect(t *testing.T) {
	r := New([]*Target{
		{Name: "all", Enabled: true},
		{Name: "crit", Enabled: true, Matchers: matchers(t, `severity="critical"`)},
		{Name: "crit-db", Enabled: true, Matchers: matchers(t, `severity="critical"`, `team=~"db|storage"`)},
		{Name: "not-dev", Enabled: true, Matchers: matchers(t, `env!="dev"`)},
		{Name: "off", Enabled: false},
	})
	cases := []struct {
		name string
		g    *alert.Group
		want []string
	}{
		{"one alert selects", group(a("firing", "severity", "warning", "env", "dev"), a("firing", "severity", "critical", "env", "dev")), []string{"all", "crit"}},
		{"all matchers on one alert", group(a("firing", "severity", "critical", "team", "db", "env", "prod")), []string{"all", "crit", "crit-db", "not-dev"}},
		{"matchers split across alerts do not combine", group(a("firing", "severity", "critical", "env", "dev"), a("firing", "team", "db", "env", "dev")), []string{"all", "crit"}},
		{"missing label is empty", group(a("firing", "alertname", "x")), []string{"all", "not-dev"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []string
			for _, tg := range r.Select(c.g) {
				got = append(got, tg.Name)
			}
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Fatalf("got %v, want %v", got, c.want)
				}
			}
		})
	}
	if _, ok := r.Lookup("off"); !ok {
		t.Error("disabled targets must still be found by name")
	}
}

func TestView(t *testing.T) {
	g := group(a("resolved", "i", "1"), a("firing", "i", "2"), a("firing", "i", "3"))
	full := &Target{SendResolved: true}
	if v := full.View(g); v != g {
		t.Error("a target taking everything should see the group itself")
	}
	firingOnly := &Target{SendResolved: false}
	if v := firingOnly.View(g); len(v.Alerts) != 2 || v.Alerts[0].Labels["i"] != "2" {
		t.Errorf("send_resolved false: %v", v.Alerts)
	}
	if v := firingOnly.View(group(a("resolved", "i", "1"))); v != nil {
		t.Error("all-resolved group should not go to a send_resolved:false target")
	}
	capped := &Target{SendResolved: true, MaxAlerts: 1}
	if v := capped.View(g); len(v.Alerts) != 1 || v.TruncatedAlerts != 2 || v.Alerts[0].Status != "firing" {
		t.Errorf("max_alerts 1: %v truncated %d", v.Alerts, v.TruncatedAlerts)
	}
}
