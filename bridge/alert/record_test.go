package alert

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai without relying on the host's zoneinfo

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert/alerttest"
)

// fakeRecorder is an in-memory Recorder that counts its calls.
type fakeRecorder struct {
	mu    sync.Mutex
	seen  map[int64]Seen
	calls int
	ids   [][]int64
	nows  []time.Time
	err   error
}

func newFakeRecorder() *fakeRecorder { return &fakeRecorder{seen: map[int64]Seen{}} }

func (r *fakeRecorder) Touch(ids []int64, now time.Time) ([]Seen, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	r.ids = append(r.ids, slices.Clone(ids))
	r.nows = append(r.nows, now)
	if r.err != nil {
		return nil, r.err
	}
	out := make([]Seen, len(ids))
	for i, id := range ids {
		s := r.seen[id]
		if s.Times == 0 {
			s.FirstSeen = now
		}
		s.Times++
		r.seen[id] = s
		out[i] = s
	}
	return out, nil
}

var (
	t0   = alerttest.T0
	now0 = alerttest.Now0
	// mkAlert is a firing alert with the given labels; opts adjust it.
	mkAlert = alerttest.Alert
)

func mkMessage(alerts ...template.Alert) *Message {
	return &Message{
		Version:         Version,
		GroupKey:        "gk",
		TruncatedAlerts: 0,
		Data: template.Data{
			Receiver:    "alertbridge",
			Status:      "firing",
			Alerts:      alerts,
			ExternalURL: "http://am:9093",
		},
	}
}

func build(t *testing.T, b *Builder, now time.Time, alerts ...template.Alert) *Group {
	t.Helper()
	g, err := b.Build(mkMessage(alerts...), now)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(g.Records) != len(g.Alerts) {
		t.Fatalf("%d records for %d alerts", len(g.Records), len(g.Alerts))
	}
	return g
}

func oneRecord(t *testing.T, b *Builder, a template.Alert) Record {
	t.Helper()
	return build(t, b, now0, a).Records[0]
}

func TestRecordID(t *testing.T) {
	base := mkAlert(template.KV{"alertname": "A", "instance": "x"})
	cases := []struct {
		name   string
		change func(*template.Alert)
		same   bool
	}{
		{"identical", func(*template.Alert) {}, true},
		{"other annotations and status", func(a *template.Alert) {
			a.Status = "resolved"
			a.EndsAt = t0.Add(time.Hour)
			a.Annotations = template.KV{"summary": "changed"}
		}, true},
		{"same instant in another zone", func(a *template.Alert) {
			a.StartsAt = t0.In(time.FixedZone("X", 8*3600))
		}, true},
		{"different startsAt", func(a *template.Alert) { a.StartsAt = t0.Add(time.Second) }, false},
		{"startsAt differs by a nanosecond", func(a *template.Alert) { a.StartsAt = t0.Add(time.Nanosecond) }, false},
		{"different fingerprint", func(a *template.Alert) { a.Fingerprint = "ffffffffffffffff" }, false},
		{"zero startsAt", func(a *template.Alert) { a.StartsAt = time.Time{} }, false},
	}
	b := &Builder{Recorder: newFakeRecorder()}
	want := oneRecord(t, b, base).ID
	if want != RecordID(base) {
		t.Errorf("record ID %d != RecordID %d", want, RecordID(base))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mkAlert(template.KV{"alertname": "A", "instance": "x"}, c.change)
			got := oneRecord(t, b, a).ID
			if (got == want) != c.same {
				t.Errorf("ID = %d, base %d, want same=%v", got, want, c.same)
			}
		})
	}
}

func TestIDsFitInJavaScript(t *testing.T) {
	const maxSafe = 1<<53 - 1
	seen := map[int64]bool{}
	for i := range 2000 {
		a := mkAlert(template.KV{"alertname": fmt.Sprint("A", i), "instance": fmt.Sprint(i % 7)}, func(a *template.Alert) {
			a.StartsAt = t0.Add(time.Duration(i) * time.Millisecond)
			a.GeneratorURL = fmt.Sprintf("http://p/graph?g0.expr=metric_%d", i)
		})
		for _, id := range []int64{RecordID(a), RuleID(a)} {
			if id < 0 || id > maxSafe {
				t.Fatalf("id %d outside [0, 2^53)", id)
			}
		}
		seen[RecordID(a)] = true
	}
	if len(seen) != 2000 {
		t.Errorf("%d distinct record ids for 2000 distinct alerts", len(seen))
	}
}

func TestAlertDefineID(t *testing.T) {
	withURL := func(labels template.KV, url string) template.Alert {
		return mkAlert(labels, func(a *template.Alert) { a.GeneratorURL = url })
	}
	cpu := template.KV{"alertname": "HighCPU", "instance": "web-1", "job": "node"}
	cpu2 := template.KV{"alertname": "HighCPU", "instance": "web-2", "job": "node", "replica": "b"}
	mem := template.KV{"alertname": "HighMem", "instance": "web-1", "job": "node"}
	cases := []struct {
		name string
		a, b template.Alert
		same bool
	}{
		{
			"same rule, other instance and Prometheus replica",
			withURL(cpu, "http://prometheus-0:9090/graph?g0.expr=cpu+%3E+0.95&g0.tab=1"),
			withURL(cpu2, "https://prometheus-1.example/prom/graph?g0.tab=0&g0.expr=cpu+%3E+0.95"),
			true,
		},
		{
			"same expression, other URL encoding",
			withURL(cpu, "http://p/graph?g0.expr=cpu+%3E+0.95"),
			withURL(cpu2, "http://p/graph?g0.expr=cpu%20%3E%200.95"),
			true,
		},
		{
			"different expression",
			withURL(cpu, "http://p/graph?g0.expr=cpu+%3E+0.95"),
			withURL(cpu, "http://p/graph?g0.expr=cpu+%3E+0.90"),
			false,
		},
		{
			"different alertname, same expression",
			withURL(cpu, "http://p/graph?g0.expr=up"),
			withURL(mem, "http://p/graph?g0.expr=up"),
			false,
		},
		{
			"no generator URL",
			withURL(cpu, ""),
			withURL(cpu2, ""),
			true,
		},
		{
			"expression vs none",
			withURL(cpu, ""),
			withURL(cpu, "http://p/graph?g0.expr=up"),
			false,
		},
		{
			"unparsable generator URL counts as none",
			withURL(cpu, "http://[::1"),
			withURL(cpu2, ""),
			true,
		},
	}
	b := &Builder{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := build(t, b, now0, c.a, c.b)
			ida, idb := g.Records[0].AlertDefineID, g.Records[1].AlertDefineID
			if (ida == idb) != c.same {
				t.Errorf("AlertDefineIDs %d and %d, want same=%v", ida, idb, c.same)
			}
			if ida != RuleID(c.a) || idb != RuleID(c.b) {
				t.Errorf("AlertDefineID differs from RuleID")
			}
		})
	}
}

func TestRecordTarget(t *testing.T) {
	cases := []struct {
		labels template.KV
		want   string
	}{
		{template.KV{"alertname": "HighCPU", "job": "node"}, "node/HighCPU"},
		{template.KV{"alertname": "HighCPU", "job": "kube/api"}, "kube/api/HighCPU"},
		{template.KV{"alertname": "HighCPU"}, "HighCPU"},
		{template.KV{"alertname": "HighCPU", "job": ""}, "HighCPU"},
		{template.KV{"alertname": "告警", "job": "节点"}, "节点/告警"},
	}
	for _, c := range cases {
		if got := oneRecord(t, &Builder{}, mkAlert(c.labels)).Target; got != c.want {
			t.Errorf("labels %v: target %q, want %q", c.labels, got, c.want)
		}
	}
}

func TestRecordPriority(t *testing.T) {
	custom := &Builder{SeverityLabel: "level", Priorities: map[string]int{"p1": 0, "p2": 1, "p3": 2}}
	cases := []struct {
		name   string
		b      *Builder
		labels template.KV
		want   int
	}{
		{"critical", &Builder{}, template.KV{"severity": "critical"}, 0},
		{"CRITICAL", &Builder{}, template.KV{"severity": "CRITICAL"}, 0},
		{"page", &Builder{}, template.KV{"severity": "page"}, 0},
		{"major", &Builder{}, template.KV{"severity": "major"}, 1},
		{"Error", &Builder{}, template.KV{"severity": "Error"}, 1},
		{"warning", &Builder{}, template.KV{"severity": "warning"}, 2},
		{"info", &Builder{}, template.KV{"severity": "info"}, 2},
		{"unknown value", &Builder{}, template.KV{"severity": "catastrophic"}, 2},
		{"no severity label", &Builder{}, template.KV{}, 2},
		{"default label ignores others", &Builder{}, template.KV{"level": "critical"}, 2},
		{"custom label", custom, template.KV{"level": "P1", "severity": "warning"}, 0},
		{"custom label medium", custom, template.KV{"level": "p2"}, 1},
		{"custom map replaces defaults", custom, template.KV{"level": "critical"}, 2},
		{"custom label, default label ignored", custom, template.KV{"severity": "critical"}, 2},
		{"explicit severity label", &Builder{SeverityLabel: "severity"}, template.KV{"severity": "Major"}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			labels := maps.Clone(c.labels)
			labels["alertname"] = "A"
			if got := oneRecord(t, c.b, mkAlert(labels)).Priority; got != c.want {
				t.Errorf("priority %d, want %d", got, c.want)
			}
		})
	}
}

func TestRecordContent(t *testing.T) {
	cases := []struct {
		name        string
		annotations template.KV
		want        string
	}{
		{"summary first", template.KV{"summary": "S", "description": "D", "message": "M"}, "S"},
		{"description next", template.KV{"description": "D", "message": "M"}, "D"},
		{"message next", template.KV{"message": "M"}, "M"},
		{"alertname last", template.KV{"runbook_url": "http://x"}, "HighCPU"},
		{"no annotations", nil, "HighCPU"},
		{"blank summary skipped", template.KV{"summary": " \n\t", "description": "D"}, "D"},
		{"trimmed", template.KV{"summary": "  S \n"}, "S"},
		{"hostile kept as-is", template.KV{"summary": "a\"b\\c\n{{ x }} 告警 🔥"}, "a\"b\\c\n{{ x }} 告警 🔥"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mkAlert(template.KV{"alertname": "HighCPU"}, func(a *template.Alert) { a.Annotations = c.annotations })
			if got := oneRecord(t, &Builder{}, a).Content; got != c.want {
				t.Errorf("content %q, want %q", got, c.want)
			}
		})
	}
}

func TestRecordStatusAndTimes(t *testing.T) {
	endsAt := t0.Add(30 * time.Minute)
	cases := []struct {
		name      string
		status    string
		startsAt  time.Time
		endsAt    time.Time
		want      int
		wantFirst time.Time
		wantLast  time.Time
	}{
		{"firing", "firing", t0, time.Time{}, StatusFiring, t0, now0},
		{"firing with a future endsAt", "firing", t0, now0.Add(time.Hour), StatusFiring, t0, now0},
		{"resolved", "resolved", t0, endsAt, StatusResolved, t0, endsAt},
		{"resolved without endsAt", "resolved", t0, time.Time{}, StatusResolved, t0, now0},
		// Without startsAt, the first trigger is when the bridge first saw
		// it: now, on the first notification.
		{"no startsAt", "firing", time.Time{}, time.Time{}, StatusFiring, now0, now0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := mkAlert(template.KV{"alertname": "A"}, func(a *template.Alert) {
				a.Status, a.StartsAt, a.EndsAt = c.status, c.startsAt, c.endsAt
			})
			r := oneRecord(t, &Builder{Recorder: newFakeRecorder()}, a)
			if r.Status != c.want {
				t.Errorf("status %d, want %d", r.Status, c.want)
			}
			if r.FirstTriggerTime != c.wantFirst.UnixMilli() {
				t.Errorf("firstTriggerTime %d, want %d (%v)", r.FirstTriggerTime, c.wantFirst.UnixMilli(), c.wantFirst)
			}
			if r.LastTriggerTime != c.wantLast.UnixMilli() {
				t.Errorf("lastTriggerTime %d, want %d (%v)", r.LastTriggerTime, c.wantLast.UnixMilli(), c.wantLast)
			}
		})
	}
}

func TestBuildUsesRecorder(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	rec := newFakeRecorder()
	b := &Builder{Recorder: rec, Location: shanghai}
	a := mkAlert(template.KV{"alertname": "A", "instance": "1"})
	other := mkAlert(template.KV{"alertname": "A", "instance": "2"})
	first := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	second := first.Add(90 * time.Second)
	third := first.Add(time.Hour)

	g1 := build(t, b, first, a)
	g2 := build(t, b, second, a, other)
	g3 := build(t, b, third, other, a)

	if rec.calls != 3 {
		t.Fatalf("Touch called %d times, want once per Build", rec.calls)
	}
	wantIDs := [][]int64{{RecordID(a)}, {RecordID(a), RecordID(other)}, {RecordID(other), RecordID(a)}}
	if !reflect.DeepEqual(rec.ids, wantIDs) {
		t.Errorf("Touch ids %v, want %v", rec.ids, wantIDs)
	}
	if !slices.Equal(rec.nows, []time.Time{first, second, third}) {
		t.Errorf("Touch times %v", rec.nows)
	}

	cases := []struct {
		name       string
		r          Record
		times      int64
		gmtCreate  string
		gmtUpdate  string
		receivedAt time.Time
		g          *Group
	}{
		// Shanghai is UTC+8: 10:00Z is 18:00 local.
		{"a, first notification", g1.Records[0], 1, "2026-11-23T18:00:00", "2026-11-23T18:00:00", first, g1},
		{"a, second notification", g2.Records[0], 2, "2026-11-23T18:00:00", "2026-11-23T18:01:30", second, g2},
		{"other, first seen in the second", g2.Records[1], 1, "2026-11-23T18:01:30", "2026-11-23T18:01:30", second, g2},
		{"other, third", g3.Records[0], 2, "2026-11-23T18:01:30", "2026-11-23T19:00:00", third, g3},
		{"a, third", g3.Records[1], 3, "2026-11-23T18:00:00", "2026-11-23T19:00:00", third, g3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.r.Times != c.times {
				t.Errorf("times %d, want %d", c.r.Times, c.times)
			}
			if c.r.GmtCreate != c.gmtCreate || c.r.GmtUpdate != c.gmtUpdate {
				t.Errorf("gmtCreate %q gmtUpdate %q, want %q %q", c.r.GmtCreate, c.r.GmtUpdate, c.gmtCreate, c.gmtUpdate)
			}
			if !c.g.ReceivedAt.Equal(c.receivedAt) {
				t.Errorf("receivedAt %v, want %v", c.g.ReceivedAt, c.receivedAt)
			}
		})
	}
}

func TestBuildTimeFormatting(t *testing.T) {
	// Make the host zone something other than UTC so "nil Location means
	// UTC" is checked whatever TZ the tests run under.
	saved := time.Local
	time.Local = time.FixedZone("Elsewhere", 3*3600+1800)
	t.Cleanup(func() { time.Local = saved })
	// FirstSeen and now in zones other than the Builder's: the output
	// must be in the Builder's Location whatever zone they carry.
	fixed := &staticRecorder{seen: Seen{Times: 7, FirstSeen: time.Date(2026, 1, 2, 3, 4, 5, 999_000_000, time.FixedZone("A", -3*3600))}}
	now := time.Date(2026, 1, 2, 23, 30, 0, 0, time.FixedZone("B", 5*3600))
	cases := []struct {
		name       string
		loc        *time.Location
		wantCreate string
		wantUpdate string
	}{
		{"default UTC", nil, "2026-01-02T06:04:05", "2026-01-02T18:30:00"},
		{"UTC", time.UTC, "2026-01-02T06:04:05", "2026-01-02T18:30:00"},
		{"UTC+9", time.FixedZone("J", 9*3600), "2026-01-02T15:04:05", "2026-01-03T03:30:00"},
		{"UTC-10", time.FixedZone("H", -10*3600), "2026-01-01T20:04:05", "2026-01-02T08:30:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := build(t, &Builder{Recorder: fixed, Location: c.loc}, now, mkAlert(template.KV{"alertname": "A"}))
			r := g.Records[0]
			if r.GmtCreate != c.wantCreate || r.GmtUpdate != c.wantUpdate {
				t.Errorf("gmtCreate %q gmtUpdate %q, want %q %q", r.GmtCreate, r.GmtUpdate, c.wantCreate, c.wantUpdate)
			}
			if r.Times != 7 {
				t.Errorf("times %d, want the Recorder's 7", r.Times)
			}
		})
	}
	// startsAt missing: the first trigger time is FirstSeen.
	g := build(t, &Builder{Recorder: fixed}, now, mkAlert(template.KV{"alertname": "A"}, func(a *template.Alert) { a.StartsAt = time.Time{} }))
	if got, want := g.Records[0].FirstTriggerTime, fixed.seen.FirstSeen.UnixMilli(); got != want {
		t.Errorf("firstTriggerTime %d, want FirstSeen %d", got, want)
	}
}

// staticRecorder returns the same Seen for every id.
type staticRecorder struct{ seen Seen }

func (s *staticRecorder) Touch(ids []int64, _ time.Time) ([]Seen, error) {
	out := make([]Seen, len(ids))
	for i := range out {
		out[i] = s.seen
	}
	return out, nil
}

func TestBuildWithoutRecorder(t *testing.T) {
	r := oneRecord(t, &Builder{}, mkAlert(template.KV{"alertname": "A"}))
	if r.Times != 0 {
		t.Errorf("times %d without a Recorder, want 0", r.Times)
	}
	if want := "2026-11-23T10:05:00"; r.GmtCreate != want || r.GmtUpdate != want {
		t.Errorf("gmtCreate %q gmtUpdate %q, want both %q (now)", r.GmtCreate, r.GmtUpdate, want)
	}
}

func TestBuildRecorderError(t *testing.T) {
	boom := errors.New("disk full")
	rec := newFakeRecorder()
	rec.err = boom
	g, err := (&Builder{Recorder: rec}).Build(mkMessage(mkAlert(template.KV{"alertname": "A"})), now0)
	if !errors.Is(err, boom) {
		t.Fatalf("Build error = %v, want the Recorder's", err)
	}
	if g != nil {
		t.Errorf("Build returned a group along with an error")
	}
}

func TestBuildGroupFields(t *testing.T) {
	labels := template.KV{"alertname": "A", "job": "node", "severity": "critical"}
	cases := []struct {
		name        string
		externalURL string
		want        string
	}{
		{"message URL kept", "", "http://am:9093"},
		{"override", "https://alerts.example.com/am", "https://alerts.example.com/am"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := mkMessage(mkAlert(labels), mkAlert(template.KV{"alertname": "B"}))
			m.TruncatedAlerts = 4
			m.GroupLabels = template.KV{"alertname": "A"}
			g, err := (&Builder{ExternalURL: c.externalURL}).Build(m, now0)
			if err != nil {
				t.Fatal(err)
			}
			if g.ExternalURL != c.want {
				t.Errorf("externalURL %q, want %q", g.ExternalURL, c.want)
			}
			if m.ExternalURL != "http://am:9093" {
				t.Errorf("Build changed the message's externalURL to %q", m.ExternalURL)
			}
			if g.GroupKey != "gk" || g.TruncatedAlerts != 4 || g.Receiver != "alertbridge" || g.GroupLabels["alertname"] != "A" {
				t.Errorf("group header %q %d %q %v", g.GroupKey, g.TruncatedAlerts, g.Receiver, g.GroupLabels)
			}
			if !g.ReceivedAt.Equal(now0) {
				t.Errorf("receivedAt %v", g.ReceivedAt)
			}
			for i, r := range g.Records {
				if r.ID != RecordID(g.Alerts[i]) {
					t.Errorf("records[%d] does not describe alerts[%d]", i, i)
				}
				if !reflect.DeepEqual(r.Tags, map[string]string(g.Alerts[i].Labels)) {
					t.Errorf("records[%d].tags %v, want labels %v", i, r.Tags, g.Alerts[i].Labels)
				}
			}
		})
	}
}
