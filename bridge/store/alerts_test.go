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

func TestAlertsFilterAndPaging(t *testing.T) {
	db := open(t)
	// Five notifications a minute apart; each alert's update time is that
	// of the last notification carrying it.
	cpu1, cpu2 := testAlert("HighCPU", "firing", "critical", 1), testAlert("HighCPU", "firing", "critical", 2)
	disk := testAlert("DiskFull", "firing", "warning", 3)
	mem := testAlert("OOM", "firing", "error", 4)
	mem.Labels = template.KV{"alertname": "OOM", "severity": "error"} // no job label: target "OOM"
	cpu1Resolved := cpu1
	cpu1Resolved.Status, cpu1Resolved.EndsAt = "resolved", t0
	steps := []struct {
		m      *alert.Message
		routes []route
	}{
		{testMessage("a", cpu1, cpu2), []route{{"ops", []int{0, 1}}}},
		{testMessage("b", disk), nil},
		{testMessage("c", mem), []route{{"chat", []int{0}}}},
		{testMessage("a", cpu1Resolved, cpu2), []route{{"ops", []int{0, 1}}, {"chat", []int{0}}}},
		{testMessage("d", disk), []route{{"ops", []int{0}}}},
	}
	for i, s := range steps {
		acceptMsg(t, db, fmt.Sprint("n", i), t0.Add(time.Duration(i)*time.Minute), s.m, s.routes...)
	}
	id := func(a template.Alert) int64 { return alert.RecordID(a) }
	// Newest update first: disk (+4m), then cpu1 and cpu2 (+3m, ties by
	// id descending), then mem (+2m).
	tied := []int64{id(cpu1), id(cpu2)}
	slices.Sort(tied)
	all := []int64{id(disk), tied[1], tied[0], id(mem)}
	ptr := func(n int) *int { return &n }
	cases := []struct {
		name string
		f    AlertFilter
		want []int64
	}{
		{"all", AlertFilter{}, all},
		{"firing", AlertFilter{Status: ptr(alert.StatusFiring)}, []int64{id(disk), id(cpu2), id(mem)}},
		{"resolved", AlertFilter{Status: ptr(alert.StatusResolved)}, []int64{id(cpu1)}},
		{"priority high", AlertFilter{Priority: ptr(alert.PriorityHigh)}, []int64{tied[1], tied[0]}},
		{"priority medium", AlertFilter{Priority: ptr(alert.PriorityMedium)}, []int64{id(mem)}},
		{"target", AlertFilter{Target: "node/DiskFull"}, []int64{id(disk)}},
		{"target without job", AlertFilter{Target: "OOM"}, []int64{id(mem)}},
		{"unknown target", AlertFilter{Target: "node/Nope"}, []int64{}},
		{"delivered to chat", AlertFilter{DeliveryTarget: "chat"}, []int64{id(cpu1), id(mem)}},
		{"delivered to ops, firing", AlertFilter{DeliveryTarget: "ops", Status: ptr(alert.StatusFiring)}, []int64{id(disk), id(cpu2)}},
		{"since, inclusive", AlertFilter{Since: t0.Add(3 * time.Minute)}, all[:3]},
		{"since the future", AlertFilter{Since: t0.Add(time.Hour)}, []int64{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entries, next, err := db.Alerts(tc.f, AlertPage{})
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(entries); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
			if !next.IsZero() {
				t.Errorf("next %v on the only page", next)
			}
		})
	}
	// Paging: pages of 1..5 concatenate to the whole list, and the last
	// page says nothing follows.
	for limit := 1; limit <= 5; limit++ {
		var got []int64
		var before AlertCursor
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			entries, next, err := db.Alerts(AlertFilter{}, AlertPage{Before: before, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(entries))
			}
			got = append(got, ids(entries)...)
			if next.IsZero() {
				break
			}
			if len(entries) != limit {
				t.Errorf("limit %d: next %v after a short page", limit, next)
			}
			c, err := ParseAlertCursor(next.String())
			if err != nil || c != next {
				t.Fatalf("cursor %v does not round-trip: %v %v", next, c, err)
			}
			before = c
		}
		if !slices.Equal(got, all) {
			t.Errorf("limit %d: pages %v, want %v", limit, got, all)
		}
	}
	// Paging with a filter.
	p1, next, _ := db.Alerts(AlertFilter{DeliveryTarget: "ops"}, AlertPage{Limit: 2})
	p2, next2, _ := db.Alerts(AlertFilter{DeliveryTarget: "ops"}, AlertPage{Limit: 2, Before: next})
	if got := append(ids(p1), ids(p2)...); !slices.Equal(got, all[:3]) || next.IsZero() || !next2.IsZero() {
		t.Errorf("filtered pages %v (next %v, %v), want %v", got, next, next2, all[:3])
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
