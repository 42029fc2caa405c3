package alert

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// testGroup is five alerts of one rule on a few hosts, mixed statuses, and
// 3 alerts already truncated by Alertmanager. Fingerprints are "a0".."a4"
// so expectations can name them.
func testGroup(t *testing.T) *Group {
	t.Helper()
	mk := func(fp, status, instance, severity, summary string) template.Alert {
		a := mkAlert(template.KV{"alertname": "DiskFull", "job": "node", "instance": instance, "severity": severity})
		a.Fingerprint = fp
		a.Status = status
		a.Annotations = template.KV{"runbook": "http://runbook/disk", "summary": summary}
		if status == "resolved" {
			a.EndsAt = t0.Add(10 * time.Minute)
		}
		return a
	}
	m := mkMessage(
		mk("a0", "resolved", "web-1", "warning", "disk 91%"),
		mk("a1", "firing", "web-2", "critical", "disk 99%"),
		mk("a2", "resolved", "web-3", "warning", "disk 91%"),
		mk("a3", "firing", "db-1", "warning", "disk 91%"),
		mk("a4", "firing", "db-2", "warning", "disk 95%"),
	)
	m.TruncatedAlerts = 3
	m.GroupLabels = template.KV{"alertname": "DiskFull"}
	m.CommonLabels = template.KV{"alertname": "DiskFull", "job": "node"}
	m.CommonAnnotations = template.KV{"runbook": "http://runbook/disk"}
	g, err := (&Builder{Recorder: newFakeRecorder()}).Build(m, now0)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func fingerprints(g *Group) []string {
	var fps []string
	for _, a := range g.Alerts {
		fps = append(fps, a.Fingerprint)
	}
	return fps
}

// snapshot captures a group deeply so mutations show up.
func snapshot(t *testing.T, g *Group) string {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDerived verifies the invariants of any group derived from g.
func checkDerived(t *testing.T, d *Group, wantFPs []string, wantStatus string, wantLabels, wantAnnotations template.KV, wantTruncated uint64) {
	t.Helper()
	if got := fingerprints(d); !reflect.DeepEqual(got, wantFPs) {
		t.Errorf("alerts %v, want %v", got, wantFPs)
	}
	if len(d.Records) != len(d.Alerts) {
		t.Fatalf("%d records for %d alerts", len(d.Records), len(d.Alerts))
	}
	for i := range d.Alerts {
		if d.Records[i].ID != RecordID(d.Alerts[i]) {
			t.Errorf("records[%d] (id %d) does not describe alerts[%d] (id %d)", i, d.Records[i].ID, i, RecordID(d.Alerts[i]))
		}
		if d.Records[i].Tags["instance"] != d.Alerts[i].Labels["instance"] {
			t.Errorf("records[%d].tags belong to another alert", i)
		}
	}
	if d.Status != wantStatus {
		t.Errorf("status %q, want %q", d.Status, wantStatus)
	}
	if !reflect.DeepEqual(d.CommonLabels, wantLabels) {
		t.Errorf("commonLabels %v, want %v", d.CommonLabels, wantLabels)
	}
	if !reflect.DeepEqual(d.CommonAnnotations, wantAnnotations) {
		t.Errorf("commonAnnotations %v, want %v", d.CommonAnnotations, wantAnnotations)
	}
	if d.TruncatedAlerts != wantTruncated {
		t.Errorf("truncatedAlerts %d, want %d", d.TruncatedAlerts, wantTruncated)
	}
	if d.GroupKey != "gk" || d.GroupLabels["alertname"] != "DiskFull" || d.ExternalURL != "http://am:9093" || !d.ReceivedAt.Equal(now0) {
		t.Errorf("group header not carried over: %q %v %q %v", d.GroupKey, d.GroupLabels, d.ExternalURL, d.ReceivedAt)
	}
}

func TestGroupFilter(t *testing.T) {
	firing := func(a template.Alert) bool { return a.Status == "firing" }
	cases := []struct {
		name            string
		keep            func(template.Alert) bool
		wantNil         bool
		wantSame        bool
		wantFPs         []string
		wantStatus      string
		wantLabels      template.KV
		wantAnnotations template.KV
	}{
		{
			name:       "drop resolved (send_resolved: false)",
			keep:       firing,
			wantFPs:    []string{"a1", "a3", "a4"},
			wantStatus: "firing",
			wantLabels: template.KV{"alertname": "DiskFull", "job": "node"},
			wantAnnotations: template.KV{
				"runbook": "http://runbook/disk",
			},
		},
		{
			name:            "only resolved left",
			keep:            func(a template.Alert) bool { return a.Status == "resolved" },
			wantFPs:         []string{"a0", "a2"},
			wantStatus:      "resolved",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node", "severity": "warning"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk", "summary": "disk 91%"},
		},
		{
			name:            "one alert: everything is common",
			keep:            func(a template.Alert) bool { return a.Fingerprint == "a4" },
			wantFPs:         []string{"a4"},
			wantStatus:      "firing",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node", "instance": "db-2", "severity": "warning"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk", "summary": "disk 95%"},
		},
		{
			name:            "mixed statuses keep firing",
			keep:            func(a template.Alert) bool { return a.Labels["severity"] == "warning" },
			wantFPs:         []string{"a0", "a2", "a3", "a4"},
			wantStatus:      "firing",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node", "severity": "warning"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk"},
		},
		{
			name:    "nothing left",
			keep:    func(template.Alert) bool { return false },
			wantNil: true,
		},
		{
			name:     "nothing dropped",
			keep:     func(template.Alert) bool { return true },
			wantSame: true,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGroup(t)
			before := snapshot(t, g)
			d := g.Filter(c.keep)
			if snapshot(t, g) != before {
				t.Errorf("Filter mutated the original group")
			}
			switch {
			case c.wantNil:
				if d != nil {
					t.Errorf("Filter = %v, want nil", fingerprints(d))
				}
				return
			case c.wantSame:
				if d != g {
					t.Errorf("Filter dropped nothing but returned a new group")
				}
				return
			}
			if d == nil || d == g {
				t.Fatalf("Filter = %p (original %p), want a new group", d, g)
			}
			checkDerived(t, d, c.wantFPs, c.wantStatus, c.wantLabels, c.wantAnnotations, 3)
		})
	}
}

func TestGroupTruncate(t *testing.T) {
	cases := []struct {
		name            string
		max             int
		wantSame        bool
		wantFPs         []string
		wantStatus      string
		wantLabels      template.KV
		wantAnnotations template.KV
		wantTruncated   uint64
	}{
		{name: "no limit", max: 0, wantSame: true},
		{name: "negative is no limit", max: -1, wantSame: true},
		{name: "limit above size", max: 6, wantSame: true},
		{name: "limit equals size", max: 5, wantSame: true},
		{
			name:            "firing first, in order",
			max:             3,
			wantFPs:         []string{"a1", "a3", "a4"},
			wantStatus:      "firing",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk"},
			wantTruncated:   3 + 2,
		},
		{
			name:            "then resolved, in order",
			max:             4,
			wantFPs:         []string{"a1", "a3", "a4", "a0"},
			wantStatus:      "firing",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk"},
			wantTruncated:   3 + 1,
		},
		{
			name:            "one",
			max:             1,
			wantFPs:         []string{"a1"},
			wantStatus:      "firing",
			wantLabels:      template.KV{"alertname": "DiskFull", "job": "node", "instance": "web-2", "severity": "critical"},
			wantAnnotations: template.KV{"runbook": "http://runbook/disk", "summary": "disk 99%"},
			wantTruncated:   3 + 4,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := testGroup(t)
			before := snapshot(t, g)
			d := g.Truncate(c.max)
			if snapshot(t, g) != before {
				t.Errorf("Truncate mutated the original group")
			}
			if c.wantSame {
				if d != g {
					t.Errorf("Truncate(%d) returned a new group, want the same", c.max)
				}
				return
			}
			if d == g {
				t.Fatalf("Truncate(%d) returned the original group", c.max)
			}
			checkDerived(t, d, c.wantFPs, c.wantStatus, c.wantLabels, c.wantAnnotations, c.wantTruncated)
		})
	}
}

func TestGroupTruncateAllResolved(t *testing.T) {
	g := testGroup(t).Filter(func(a template.Alert) bool { return a.Status == "resolved" })
	d := g.Truncate(1)
	checkDerived(t, d, []string{"a0"}, "resolved",
		template.KV{"alertname": "DiskFull", "job": "node", "instance": "web-1", "severity": "warning"},
		template.KV{"runbook": "http://runbook/disk", "summary": "disk 91%"}, 3+1)
}

func TestGroupFilterThenTruncate(t *testing.T) {
	g := testGroup(t)
	before := snapshot(t, g)
	d := g.Filter(func(a template.Alert) bool { return a.Fingerprint != "a1" }).Truncate(2)
	// Left after the filter: a0 (resolved), a2 (resolved), a3, a4 (firing).
	checkDerived(t, d, []string{"a3", "a4"}, "firing",
		template.KV{"alertname": "DiskFull", "job": "node", "severity": "warning"},
		template.KV{"runbook": "http://runbook/disk"}, 3+2)
	if snapshot(t, g) != before {
		t.Errorf("derivations mutated the original group")
	}
	// Derived groups do not share their common maps with the original.
	d.CommonLabels["x"] = "y"
	if _, ok := g.CommonLabels["x"]; ok {
		t.Errorf("derived group shares CommonLabels with the original")
	}
}

// TestGroupTruncateKeepsOrder uses a group large enough that an unstable
// sort would reorder it: firing alerts keep Alertmanager's order, then
// resolved ones do.
func TestGroupTruncateKeepsOrder(t *testing.T) {
	const n = 64
	var alerts []template.Alert
	var wantFiring, wantResolved []string
	for i := range n {
		a := mkAlert(template.KV{"alertname": "A", "i": fmt.Sprint(i)})
		// An irregular pattern of statuses.
		if (i*7)%5 < 2 {
			a.Status = "resolved"
			wantResolved = append(wantResolved, a.Fingerprint)
		} else {
			wantFiring = append(wantFiring, a.Fingerprint)
		}
		alerts = append(alerts, a)
	}
	g, err := (&Builder{}).Build(mkMessage(alerts...), now0)
	if err != nil {
		t.Fatal(err)
	}
	for _, max := range []int{1, len(wantFiring) - 1, len(wantFiring), len(wantFiring) + 5, n - 1} {
		d := g.Truncate(max)
		want := append(slices.Clone(wantFiring), wantResolved...)[:max]
		if got := fingerprints(d); !slices.Equal(got, want) {
			t.Errorf("Truncate(%d) order:\n got %v\nwant %v", max, got, want)
		}
		for i := range d.Alerts {
			if d.Records[i].ID != RecordID(d.Alerts[i]) {
				t.Errorf("Truncate(%d): records[%d] misaligned", max, i)
			}
		}
		if d.TruncatedAlerts != uint64(n-max) {
			t.Errorf("Truncate(%d): truncatedAlerts %d, want %d", max, d.TruncatedAlerts, n-max)
		}
	}
}

func TestSilenceURLIsComputedOncePerAlertAndNotSharedWithShortenedCopies(t *testing.T) {
	g := (&Builder{ExternalURL: "http://am:9093"}).BuildSeen(&Message{Data: template.Data{Alerts: template.Alerts{
		{Status: "firing", Labels: template.KV{"alertname": "A", "instance": strings.Repeat("x", 40)}},
	}}}, time.Now(), nil)
	a := g.Alerts[0]
	first := g.SilenceURL(a)
	if got := g.Slice(0, 1).FiringFirst().SilenceURL(a); got != first {
		t.Errorf("a derived group's link %q differs from %q", got, first)
	}
	if len(g.links.silence) != 1 {
		t.Errorf("%d links cached, want 1", len(g.links.silence))
	}
	short := g.Shortened(10)
	if got := short.SilenceURL(short.Alerts[0]); got == first || !strings.Contains(got, "%E2%80%A6") {
		t.Errorf("the shortened copy links to %q, want its own shortened labels", got)
	}
	if len(g.links.silence) != 1 {
		t.Error("the shortened copy wrote into the original's cache")
	}
}
