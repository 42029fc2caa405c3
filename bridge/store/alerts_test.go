package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// route sends the alerts at the given indices of a notification to target.
type route struct {
	target string
	alerts []int
}

func testAlert(name, status, severity string, n int) template.Alert {
	a := template.Alert{
		Status:       status,
		Labels:       template.KV{"alertname": name, "job": "node", "instance": fmt.Sprintf("web-%d", n), "severity": severity},
		Annotations:  template.KV{"summary": fmt.Sprintf("%s on web-%d", name, n), "runbook": "see \"wiki\"\nline 2"},
		StartsAt:     t0.Add(-time.Hour),
		GeneratorURL: "http://prom:9090/graph?g0.expr=up",
		Fingerprint:  fmt.Sprintf("%s-%d", name, n),
	}
	if status == "resolved" {
		a.EndsAt = t0
	}
	return a
}

func testMessage(groupKey string, alerts ...template.Alert) *alert.Message {
	return &alert.Message{Data: template.Data{Receiver: "am-receiver", Status: "firing", Alerts: alerts}, GroupKey: groupKey, Version: "4"}
}

// acceptMsg accepts m as the bridge does: records built with the counters,
// one job per route carrying the routed alerts. It returns the acceptance
// and the whole group that was built.
func acceptMsg(t *testing.T, db *DB, key string, now time.Time, m *alert.Message, routes ...route) (*Acceptance, *alert.Group) {
	t.Helper()
	b := alert.Builder{}
	g := b.BuildSeen(m, now, nil)
	built := g
	var jobs []NewJob
	for _, r := range routes {
		view := g.Filter(func(a template.Alert) bool {
			for _, i := range r.alerts {
				if m.Alerts[i].Fingerprint == a.Fingerprint {
					return true
				}
			}
			return false
		})
		jobs = append(jobs, NewJob{Job: &Job{Target: r.target, GroupKey: m.GroupKey}, Group: view})
	}
	acc, err := db.Accept(AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Jobs: jobs, Body: bodyOf(g)})
	if err != nil {
		t.Fatal(err)
	}
	return acc, built
}

func ids(entries []*AlertEntry) []int64 {
	out := []int64{}
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

func jobSummary(jobs []*Job) []string {
	out := []string{}
	for _, j := range jobs {
		out = append(out, fmt.Sprintf("%d:%s:%s", j.ID, j.Target, j.State))
	}
	return out
}

func TestAlertCenterRecordsEveryAlertAndItsDeliveries(t *testing.T) {
	db := open(t)
	m := testMessage("g1",
		testAlert("HighCPU", "firing", "critical", 1),
		testAlert("HighCPU", "firing", "critical", 2),
		testAlert("DiskFull", "firing", "info", 3), // no target takes it
	)
	acc, g := acceptMsg(t, db, "n1", t0, m, route{"ops", []int{0, 1}}, route{"chat", []int{0}})
	ops, chat := acc.Jobs[0], acc.Jobs[1]

	entries, next, err := db.Alerts(AlertFilter{}, AlertPage{})
	if err != nil || !next.IsZero() || len(entries) != 3 {
		t.Fatalf("Alerts: %d entries, next %v, err %v", len(entries), next, err)
	}
	byID := map[int64]*AlertEntry{}
	for _, e := range entries {
		byID[e.ID] = e
	}
	for i, r := range g.Records {
		e := byID[r.ID]
		if e == nil {
			t.Fatalf("alert %d (%s) not listed", i, m.Alerts[i].Fingerprint)
		}
		if !reflect.DeepEqual(e.Record, r) {
			t.Errorf("alert %d record\n got %+v\nwant %+v", i, e.Record, r)
		}
		a := m.Alerts[i]
		if e.Fingerprint != a.Fingerprint || !reflect.DeepEqual(e.Annotations, map[string]string(a.Annotations)) ||
			e.GeneratorURL != a.GeneratorURL || e.Receiver != "am-receiver" || e.GroupKey != "g1" || !e.UpdatedAt.Equal(t0) {
			t.Errorf("alert %d context: %+v", i, e)
		}
	}
	wantTargets := [][]string{{"chat", "ops"}, {"ops"}, {}}
	for i, want := range wantTargets {
		if got := byID[g.Records[i].ID].DeliveryTargets; !slices.Equal(got, want) {
			t.Errorf("alert %d delivery targets %v, want %v", i, got, want)
		}
	}

	// Deliveries per alert, newest first, in their current state.
	if err := db.FinishAll([]FinishOp{
		{ID: ops.ID, State: StateDelivered, Attempts: 1, Now: t0.Add(time.Second)},
		{ID: chat.ID, State: StateDead, Attempts: 3, Reason: "clientError", Msg: "HTTP 400", Now: t0.Add(2 * time.Second)},
	}); err != nil {
		t.Fatal(err)
	}
	e, jobs, err := db.Alert(g.Records[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := jobSummary(jobs), []string{fmt.Sprint(chat.ID, ":chat:dead"), fmt.Sprint(ops.ID, ":ops:delivered")}; !slices.Equal(got, want) {
		t.Errorf("deliveries %v, want %v", got, want)
	}
	if d := jobs[0]; d.Attempts != 3 || d.Reason != "clientError" || d.Error != "HTTP 400" || !d.UpdatedAt.Equal(t0.Add(2*time.Second)) || !d.CreatedAt.Equal(t0) {
		t.Errorf("dead delivery %+v", d)
	}
	if e.Times != 1 || e.Content != "HighCPU on web-1" {
		t.Errorf("entry %+v", e)
	}
	_, jobs, err = db.Alert(g.Records[2].ID)
	if err != nil || len(jobs) != 0 {
		t.Errorf("unrouted alert: deliveries %v, err %v; want none", jobSummary(jobs), err)
	}

	// A duplicate writes nothing.
	before, _, _ := db.Alerts(AlertFilter{}, AlertPage{})
	if d, _ := acceptMsg(t, db, "n1", t0.Add(10*time.Second), m, route{"ops", []int{0, 1, 2}}); !d.Duplicate {
		t.Fatal("not a duplicate")
	}
	after, _, _ := db.Alerts(AlertFilter{}, AlertPage{})
	if !reflect.DeepEqual(before, after) {
		t.Errorf("a duplicate changed the alert center")
	}

	// The next notification resolves alert 0: the latest record replaces
	// the old one, times counts on, deliveries accumulate.
	m2 := testMessage("g1", testAlert("HighCPU", "resolved", "critical", 1))
	acc2, g2 := acceptMsg(t, db, "n2", t0.Add(time.Minute), m2, route{"ops", []int{0}})
	e, jobs, err = db.Alert(g.Records[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.Record, g2.Records[0]) || e.Status != alert.StatusResolved || e.Times != 2 || e.GmtCreate != g.Records[0].GmtCreate {
		t.Errorf("after resolve: %+v", e.Record)
	}
	if got, want := jobSummary(jobs), []string{fmt.Sprint(acc2.Jobs[0].ID, ":ops:pending"), fmt.Sprint(chat.ID, ":chat:dead"), fmt.Sprint(ops.ID, ":ops:delivered")}; !slices.Equal(got, want) {
		t.Errorf("deliveries after resolve %v, want %v", got, want)
	}
	if !slices.Equal(e.DeliveryTargets, []string{"ops", "chat"}) {
		t.Errorf("delivery targets %v", e.DeliveryTargets)
	}

	// A deleted job is simply omitted.
	if err := db.Delete(chat.ID); err != nil {
		t.Fatal(err)
	}
	if _, jobs, _ = db.Alert(g.Records[0].ID); len(jobs) != 2 {
		t.Errorf("deleted delivery still listed: %v", jobSummary(jobs))
	}
	if _, _, err := db.Alert(12345); !errors.Is(err, ErrNoAlert) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestAlertDeliveriesAreBounded(t *testing.T) {
	db := open(t)
	m := testMessage("g", testAlert("Flappy", "firing", "critical", 1))
	var all []uint64
	for i := 0; i < maxAlertDeliveries+5; i++ {
		acc, _ := acceptMsg(t, db, fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Minute), m, route{"ops", []int{0}}, route{fmt.Sprint("t", i%3), []int{0}})
		all = append(all, acc.Jobs[0].ID, acc.Jobs[1].ID)
	}
	e, jobs, err := db.Alert(alert.RecordIDs(m)[0])
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, j := range jobs {
		got = append(got, j.ID)
	}
	want := slices.Clone(all[len(all)-maxAlertDeliveries:])
	slices.Reverse(want)
	if !slices.Equal(got, want) {
		t.Errorf("kept deliveries %v, want the last %d newest first %v", got, maxAlertDeliveries, want)
	}
	if e.Times != maxAlertDeliveries+5 || !slices.Equal(e.DeliveryTargets, []string{"t0", "ops", "t2", "t1"}) {
		t.Errorf("times %d, targets %v", e.Times, e.DeliveryTargets)
	}
}

// TestParseAlertCursor: a cursor's token reads back as the cursor, and a
// malformed one is refused. (The alert center's filters, order and paging
// are engine semantics: see storetest.)
func TestParseAlertCursor(t *testing.T) {
	for _, c := range []AlertCursor{{UpdatedAt: 1, ID: 2}, {UpdatedAt: t0.UnixMilli(), ID: 1 << 62}} {
		if got, err := ParseAlertCursor(c.String()); err != nil || got != c {
			t.Errorf("cursor %v does not round-trip: %v %v", c, got, err)
		}
	}
	for _, bad := range []string{"", "1", "x-1", "1-x", "-1-2", "1-2-3"} {
		if _, err := ParseAlertCursor(bad); err == nil {
			t.Errorf("cursor %q accepted", bad)
		}
	}
}

// TestAlertEncodingKeepsEveryRecordField fills every field of the record
// by reflection: a field added to alert.Record but not to the alert
// encoding fails here.
func TestAlertEncodingKeepsEveryRecordField(t *testing.T) {
	var r alert.Record
	v := reflect.ValueOf(&r).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(fmt.Sprintf("value %d \"quoted\"\n告警", i))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(i + 1))
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{"k": "v", "": "empty key"}))
		default:
			t.Fatalf("alert.Record.%s: kind %s is not covered by the alert encoding; extend appendDetails and decodeAlert", v.Type().Field(i).Name, f.Kind())
		}
	}
	r.Priority, r.Status = 1, 2 // stored in one byte each
	m := testMessage("g", testAlert("X", "firing", "critical", 1))
	g := &alert.Group{Data: m.Data, GroupKey: "g", Records: []alert.Record{r}}
	now := t0
	val := encodeAlert(&alertAccept{id: r.ID, seen: alert.Seen{Times: r.Times, FirstSeen: t0}, at: 0}, g, nil, now, false)
	e, err := decodeAlert(r.ID, val)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(e.Record, r) {
		t.Errorf("record changed in the store\n got %+v\nwant %+v", e.Record, r)
	}
	// Every shorter value is refused, never a panic.
	for n := 0; n < len(val); n++ {
		if e, err := decodeAlert(r.ID, val[:n]); err == nil {
			t.Errorf("truncated to %d of %d bytes: decoded %+v", n, len(val), e)
		}
	}
	// So is a delivery count the value cannot hold.
	bad := append([]byte(nil), val[:27]...)
	bad = appendStr(bad, r.Target)
	bad = binary.AppendUvarint(bad, 1<<63+5)
	bad = append(bad, make([]byte, 100)...)
	if _, err := decodeAlert(r.ID, bad); err == nil {
		t.Error("a huge delivery count decoded")
	}
}

func TestAlertsPrunedWithCounters(t *testing.T) {
	db := open(t)
	old := testMessage("g", testAlert("Old", "firing", "critical", 1))
	recent := testMessage("g", testAlert("Recent", "firing", "critical", 2))
	acceptMsg(t, db, "a", t0, old, route{"ops", []int{0}})
	acceptMsg(t, db, "b", t0.Add(2*time.Hour), recent, route{"ops", []int{0}})
	if n, err := db.PruneAlerts(t0.Add(time.Hour)); err != nil || n != 1 {
		t.Fatalf("PruneAlerts removed %d (%v), want 1", n, err)
	}
	entries, _, _ := db.Alerts(AlertFilter{}, AlertPage{})
	if got := ids(entries); !slices.Equal(got, alert.RecordIDs(recent)) {
		t.Errorf("after pruning: %v, want only the recent alert", got)
	}
	if _, _, err := db.Alert(alert.RecordIDs(old)[0]); !errors.Is(err, ErrNoAlert) {
		t.Errorf("pruned alert: %v", err)
	}

	// Same alert twice in one notification: counted once, recorded once.
	twice := testMessage("g", testAlert("Twice", "firing", "critical", 5), testAlert("Twice", "firing", "critical", 5))
	_, g := acceptMsg(t, db, "d", t0.Add(3*time.Hour), twice, route{"ops", []int{0}})
	if g.Records[0].Times != 1 || g.Records[1].Times != 1 {
		t.Errorf("times of a repeated alert: %d %d, want 1 1", g.Records[0].Times, g.Records[1].Times)
	}
	if _, jobs, _ := db.Alert(g.Records[0].ID); len(jobs) != 1 {
		t.Errorf("repeated alert deliveries %v, want 1", jobSummary(jobs))
	}
}

// TestAlertEntryBounded: an alert's labels and annotations cost the alert
// center at most maxAlertDetailBytes, however large they arrive: long
// values are cut (on a rune boundary, with a marker), short ones kept
// whole, and when there are too many keys to keep, the ones past the
// budget are left out and counted.
func TestAlertEntryBounded(t *testing.T) {
	detailBytes := func(e *AlertEntry) int {
		n := 0
		for k, v := range e.Tags {
			n += len(k) + len(v)
		}
		for k, v := range e.Annotations {
			n += len(k) + len(v)
		}
		return n
	}
	long := testAlert("Long", "firing", "critical", 1)
	long.Annotations["description"] = strings.Repeat("é", 50000) // 100 KB, two bytes a rune
	long.Labels["blob"] = strings.Repeat("x", 30000)
	many := testAlert("Many", "firing", "critical", 2)
	for i := range 3000 {
		many.Labels[fmt.Sprintf("label_%04d", i)] = "v"
	}
	for _, tc := range []struct {
		name  string
		a     template.Alert
		check func(t *testing.T, e *AlertEntry)
	}{
		{"long values", long, func(t *testing.T, e *AlertEntry) {
			if e.Tags["alertname"] != "Long" || e.Tags["severity"] != "critical" || e.Annotations["runbook"] != "see \"wiki\"\nline 2" {
				t.Errorf("short values not kept whole: %v %v", e.Tags, e.Annotations)
			}
			d := e.Annotations["description"]
			if !strings.HasSuffix(d, cutMarker) || !utf8.ValidString(d) || !strings.HasPrefix(d, "éé") {
				t.Errorf("long value cut badly: %q...%q", d[:10], d[len(d)-20:])
			}
			if !strings.HasSuffix(e.Tags["blob"], cutMarker) {
				t.Errorf("long label not cut")
			}
		}},
		{"many labels", many, func(t *testing.T, e *AlertEntry) {
			if e.Tags["alertbridge_cut"] == "" {
				t.Errorf("no marker for the labels left out (%d labels kept)", len(e.Tags))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := open(t)
			_, g := acceptMsg(t, db, "k", t0, testMessage("g", tc.a), route{"ops", []int{0}})
			e, _, err := db.Alert(g.Records[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if n := detailBytes(e); n > maxAlertDetailBytes+100 {
				t.Errorf("labels and annotations take %d bytes in the alert center, over the bound of %d", n, maxAlertDetailBytes)
			}
			tc.check(t, e)
		})
	}
}
