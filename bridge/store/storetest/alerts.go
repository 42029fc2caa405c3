package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// alertCases: the alert center.
var alertCases = []conformance{
	{"AlertCenter/EntryAndItsDeliveries", alertEntryAndDeliveries},
	{"AlertCenter/FiltersOrderAndPages", alertFiltersOrderPages},
}

// route sends the alerts at the given indices of a notification to target.
type route struct {
	target string
	alerts []int
}

func testAlert(name, status, severity string, n int) template.Alert {
	a := template.Alert{
		Status:       status,
		Labels:       template.KV{"alertname": name, "job": "node", "instance": fmt.Sprintf("web-%d", n), "severity": severity},
		Annotations:  template.KV{"summary": fmt.Sprintf("%s on web-%d", name, n)},
		StartsAt:     T0.Add(-time.Hour),
		GeneratorURL: "http://prom:9090/graph?g0.expr=up",
		Fingerprint:  fmt.Sprintf("%s-%d", name, n),
	}
	if status == "resolved" {
		a.EndsAt = T0
	}
	return a
}

func testMessage(groupKey string, alerts ...template.Alert) *alert.Message {
	return &alert.Message{Data: template.Data{Receiver: "am-receiver", Status: "firing", Alerts: alerts}, GroupKey: groupKey, Version: "4"}
}

// acceptMsg accepts m as the bridge does: records built with the
// counters, one job per route carrying the routed alerts.
func (h *harness) acceptMsg(key string, now time.Time, m *alert.Message, routes ...route) *store.Acceptance {
	h.t.Helper()
	g := (&alert.Builder{}).BuildSeen(m, now, nil)
	var jobs []store.NewJob
	for _, r := range routes {
		view := g.Filter(func(a template.Alert) bool {
			for _, i := range r.alerts {
				if m.Alerts[i].Fingerprint == a.Fingerprint {
					return true
				}
			}
			return false
		})
		jobs = append(jobs, store.NewJob{Job: &store.Job{Target: r.target, GroupKey: m.GroupKey}, Group: view})
	}
	acc, err := h.e.Accept(store.AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Jobs: jobs, Body: bodyOf(g)})
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

func entryIDs(entries []*store.AlertEntry) []int64 {
	out := []int64{}
	for _, e := range entries {
		out = append(out, e.ID)
	}
	return out
}

// alertEntryAndDeliveries: every alert of a notification gets an entry,
// also one no job carries; Alert lists its jobs newest first in their
// current state, without the removed ones.
func alertEntryAndDeliveries(t *testing.T, h *harness) {
	cpu, disk := testAlert("HighCPU", "firing", "critical", 1), testAlert("DiskFull", "firing", "warning", 2)
	first := h.acceptMsg("n1", T0, testMessage("g", cpu, disk), route{"ops", []int{0}})
	cpuResolved := cpu
	cpuResolved.Status, cpuResolved.EndsAt = "resolved", T0
	second := h.acceptMsg("n2", T0.Add(time.Minute), testMessage("g", cpuResolved, disk), route{"ops", []int{0}}, route{"chat", []int{0, 1}})
	e, jobs, err := h.e.Alert(alert.RecordID(cpu))
	if err != nil {
		t.Fatal(err)
	}
	if e.ID != alert.RecordID(cpu) || e.Status != alert.StatusResolved || e.Times != 2 || !e.UpdatedAt.Equal(T0.Add(time.Minute)) ||
		e.Fingerprint != cpu.Fingerprint || e.GroupKey != "g" || e.Receiver != "am-receiver" ||
		e.Annotations["summary"] != "HighCPU on web-1" || !slices.Equal(e.DeliveryTargets, []string{"chat", "ops"}) {
		t.Errorf("entry = %+v", e)
	}
	want := []uint64{second.Jobs[1].ID, second.Jobs[0].ID, first.Jobs[0].ID}
	if got := jobIDs(jobs); !slices.Equal(got, want) {
		t.Fatalf("deliveries %v, want %v (newest first)", got, want)
	}
	if jobs[2].State != store.StateDelivered || !jobs[2].Superseded || jobs[0].State != store.StatePending {
		t.Errorf("deliveries not in their current state: %+v", jobs)
	}
	if err := h.e.Delete(second.Jobs[1].ID); err != nil {
		t.Fatal(err)
	}
	if _, jobs, err = h.e.Alert(alert.RecordID(cpu)); err != nil || !slices.Equal(jobIDs(jobs), want[1:]) {
		t.Errorf("deliveries after a delete %v (%v), want %v", jobIDs(jobs), err, want[1:])
	}
	d, jobs, err := h.e.Alert(alert.RecordID(disk))
	if err != nil || d.Times != 2 || d.Status != alert.StatusFiring || len(jobs) != 0 {
		t.Errorf("alert carried by the deleted job only: %+v, %v, %v", d, jobIDs(jobs), err)
	}
}

// alertFiltersOrderPages: Alerts lists newest update first (ties by id,
// descending), filters and pages.
func alertFiltersOrderPages(t *testing.T, h *harness) {
	cpu1, cpu2 := testAlert("HighCPU", "firing", "critical", 1), testAlert("HighCPU", "firing", "critical", 2)
	disk := testAlert("DiskFull", "firing", "warning", 3)
	mem := testAlert("OOM", "firing", "error", 4)
	mem.Labels = template.KV{"alertname": "OOM", "severity": "error"} // no job label: target "OOM"
	cpu1Resolved := cpu1
	cpu1Resolved.Status, cpu1Resolved.EndsAt = "resolved", T0
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
		h.acceptMsg(fmt.Sprint("n", i), T0.Add(time.Duration(i)*time.Minute), s.m, s.routes...)
	}
	id := func(a template.Alert) int64 { return alert.RecordID(a) }
	tied := []int64{id(cpu1), id(cpu2)}
	slices.Sort(tied)
	all := []int64{id(disk), tied[1], tied[0], id(mem)}
	ptr := func(n int) *int { return &n }
	cases := []struct {
		name string
		f    store.AlertFilter
		want []int64
	}{
		{"all", store.AlertFilter{}, all},
		{"firing", store.AlertFilter{Status: ptr(alert.StatusFiring)}, []int64{id(disk), id(cpu2), id(mem)}},
		{"resolved", store.AlertFilter{Status: ptr(alert.StatusResolved)}, []int64{id(cpu1)}},
		{"priority high", store.AlertFilter{Priority: ptr(alert.PriorityHigh)}, []int64{tied[1], tied[0]}},
		{"priority medium", store.AlertFilter{Priority: ptr(alert.PriorityMedium)}, []int64{id(mem)}},
		{"target", store.AlertFilter{Target: "node/DiskFull"}, []int64{id(disk)}},
		{"target without job", store.AlertFilter{Target: "OOM"}, []int64{id(mem)}},
		{"unknown target", store.AlertFilter{Target: "node/Nope"}, []int64{}},
		{"delivered to chat", store.AlertFilter{DeliveryTarget: "chat"}, []int64{id(cpu1), id(mem)}},
		{"delivered to ops, firing", store.AlertFilter{DeliveryTarget: "ops", Status: ptr(alert.StatusFiring)}, []int64{id(disk), id(cpu2)}},
		{"since, inclusive", store.AlertFilter{Since: T0.Add(3 * time.Minute)}, all[:3]},
		{"since the future", store.AlertFilter{Since: T0.Add(time.Hour)}, []int64{}},
	}
	for _, c := range cases {
		entries, next, err := h.e.Alerts(c.f, store.AlertPage{})
		if err != nil {
			t.Fatal(err)
		}
		if got := entryIDs(entries); entries == nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
		if !next.IsZero() {
			t.Errorf("%s: next %v on the only page", c.name, next)
		}
	}
	// Pages of 1..5 concatenate to the whole list; the last says nothing
	// follows.
	for limit := 1; limit <= 5; limit++ {
		var got []int64
		var before store.AlertCursor
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("limit %d: paging does not end", limit)
			}
			entries, next, err := h.e.Alerts(store.AlertFilter{}, store.AlertPage{Before: before, Limit: limit})
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) > limit {
				t.Fatalf("limit %d: page of %d", limit, len(entries))
			}
			got = append(got, entryIDs(entries)...)
			if next.IsZero() {
				break
			}
			if len(entries) != limit {
				t.Errorf("limit %d: next %v after a short page", limit, next)
			}
			before = next
		}
		if !slices.Equal(got, all) {
			t.Errorf("limit %d: pages %v, want %v", limit, got, all)
		}
	}
	p1, next, _ := h.e.Alerts(store.AlertFilter{DeliveryTarget: "ops"}, store.AlertPage{Limit: 2})
	p2, next2, _ := h.e.Alerts(store.AlertFilter{DeliveryTarget: "ops"}, store.AlertPage{Limit: 2, Before: next})
	if got := append(entryIDs(p1), entryIDs(p2)...); !slices.Equal(got, all[:3]) || next.IsZero() || !next2.IsZero() {
		t.Errorf("filtered pages %v (next %v, %v), want %v", got, next, next2, all[:3])
	}
}
