package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// historyCases: listing and pruning jobs, the pending walk, and the life
// of a shared notification.
var historyCases = []conformance{
	{"ForEachPending/OrderAndStop", forEachPendingOrder},
	{"List/FiltersOrderAndPages", listFiltersOrderPages},
	{"Prune/HistoryAndDedupKeys", pruneHistory},
	{"Notification/GoesWithItsLastJob", notificationRefs},
}

func forEachPendingOrder(t *testing.T, h *harness) {
	var want []uint64
	for i := range 5 {
		want = append(want, jobIDs(h.accept(fmt.Sprint("k", i), fmt.Sprint("g", i), T0, "y", "x").Jobs)...)
	}
	h.finish(store.FinishOp{ID: want[3], State: store.StateDead, Now: T0})
	want = slices.Delete(want, 3, 4)
	if got := h.pending(); !slices.Equal(got, want) {
		t.Errorf("ForEachPending order %v, want %v", got, want)
	}
	stop := errors.New("stop")
	calls := 0
	err := h.e.ForEachPending(func(*store.Job) error {
		calls++
		if calls == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 2 {
		t.Errorf("ForEachPending stopped after %d calls with %v, want 2 and the callback's error", calls, err)
	}
}

// listFiltersOrderPages: List is per state, newest first, paged by id,
// filtered by target, bounded by limit.
func listFiltersOrderPages(t *testing.T, h *harness) {
	var ids []uint64
	for i := range 6 {
		target := []string{"x", "y"}[i%2]
		ids = append(ids, h.job(fmt.Sprint("k", i), fmt.Sprint("g", i), target, T0).ID)
	}
	h.finish(
		store.FinishOp{ID: ids[0], State: store.StateDelivered, Attempts: 1, Now: T0},
		store.FinishOp{ID: ids[1], State: store.StateDead, Attempts: 3, Now: T0},
	)
	rev := func(s ...uint64) []uint64 { s = slices.Clone(s); slices.Reverse(s); return s }
	cases := []struct {
		state, target string
		before        uint64
		limit         int
		want          []uint64
	}{
		{store.StatePending, "", 0, 100, rev(ids[2:]...)},
		{store.StatePending, "x", 0, 100, []uint64{ids[4], ids[2]}},
		{store.StatePending, "y", 0, 100, []uint64{ids[5], ids[3]}},
		{store.StatePending, "nope", 0, 100, []uint64{}},
		{store.StatePending, "", 0, 2, []uint64{ids[5], ids[4]}},
		{store.StatePending, "", ids[4], 2, []uint64{ids[3], ids[2]}},
		{store.StatePending, "", ids[2], 2, []uint64{}},
		{store.StatePending, "y", ids[5], 1, []uint64{ids[3]}},
		{store.StateDelivered, "", 0, 100, []uint64{ids[0]}},
		{store.StateDead, "", 0, 100, []uint64{ids[1]}},
		{store.StateDead, "x", 0, 100, []uint64{}},
	}
	for _, c := range cases {
		jobs, err := h.e.List(c.state, c.target, c.before, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if jobs == nil || !slices.Equal(jobIDs(jobs), c.want) {
			t.Errorf("List(%s, %q, %d, %d) = %v, want %v", c.state, c.target, c.before, c.limit, jobIDs(jobs), c.want)
		}
		for _, j := range jobs {
			if j.State != c.state {
				t.Errorf("List(%s) returned a %s job", c.state, j.State)
			}
		}
	}
	if _, err := h.e.List("unknown", "", 0, 10); err == nil {
		t.Error("List of an unknown state: no error")
	}
}

// pruneHistory: delivered jobs older than the age or beyond the count go,
// oldest first; pending and dead jobs stay; dedup keys expire with the
// window; alert counters go with PruneAlerts.
func pruneHistory(t *testing.T, h *harness) {
	var ops []store.FinishOp
	for i := range 6 {
		id := h.job(fmt.Sprint("k", i), fmt.Sprint("g", i), "x", T0).ID
		ops = append(ops, store.FinishOp{ID: id, State: store.StateDelivered, Now: T0.Add(time.Duration(i) * time.Hour)})
	}
	h.finish(ops...)
	dead := h.job("kd", "gd", "x", T0)
	h.finish(store.FinishOp{ID: dead.ID, State: store.StateDead, Now: T0})
	waiting := h.job("kp", "gp", "x", T0)
	// At T0+6h with a 3h retention, entries finished at +0h..+2h are too
	// old; a cap of 2 then keeps only the newest two.
	n, err := h.e.Prune(T0.Add(6*time.Hour), 3*time.Hour+time.Minute, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if left := h.list(store.StateDelivered, ""); n != 4 || !slices.Equal(left, []uint64{ops[5].ID, ops[4].ID}) {
		t.Errorf("pruned %d, left %v", n, left)
	}
	if got := h.list(store.StateDead, ""); !slices.Equal(got, []uint64{dead.ID}) {
		t.Errorf("dead letters after Prune %v", got)
	}
	if got := h.pending(); !slices.Equal(got, []uint64{waiting.ID}) {
		t.Errorf("pending after Prune %v", got)
	}
	if d := h.accept("k0", "g0", T0.Add(6*time.Hour), "x"); d.Duplicate {
		t.Error("expired dedup key still matched")
	}
	// Alert 42 was last carried at +6h: a cutoff after it forgets it.
	if removed, err := h.e.PruneAlerts(T0.Add(7 * time.Hour)); err != nil || removed != 1 {
		t.Errorf("PruneAlerts removed %d (%v), want 1", removed, err)
	}
	if acc := h.accept("k9", "g9", T0.Add(8*time.Hour)); acc.Seen[0].Times != 1 || !acc.Seen[0].FirstSeen.Equal(T0.Add(8*time.Hour)) {
		t.Errorf("counters after PruneAlerts: %+v, want counted anew", acc.Seen)
	}
}

// notificationRefs: the notification of one acceptance stays while any
// of its jobs is pending or dead, whatever happens to the others, and
// goes with the last.
func notificationRefs(t *testing.T, h *harness) {
	acc := h.accept("k", "g", T0, "x", "y", "z", "w")
	nid := acc.Jobs[0].Notification
	x, y, z, w := acc.Jobs[0], acc.Jobs[1], acc.Jobs[2], acc.Jobs[3]
	steps := []struct {
		what string
		do   func() error
		kept bool
	}{
		{"x delivered", func() error {
			return h.e.FinishAll([]store.FinishOp{{ID: x.ID, State: store.StateDelivered, Now: T0}})
		}, true},
		{"y dead", func() error {
			return h.e.FinishAll([]store.FinishOp{{ID: y.ID, State: store.StateDead, Now: T0}})
		}, true},
		{"z superseded", func() error {
			_, err := h.e.Accept(acceptReq("k2", "g", T0, "z"))
			return err
		}, true},
		{"w deleted", func() error { return h.e.Delete(w.ID) }, true},
		{"y requeued", func() error { _, err := h.e.Requeue(y.ID, T0); return err }, true},
		{"y delivered", func() error {
			return h.e.FinishAll([]store.FinishOp{{ID: y.ID, State: store.StateDelivered, Now: T0}})
		}, false},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.what, err)
		}
		if got := h.hasNotification(nid); got != s.kept {
			t.Errorf("after %s: notification kept = %v, want %v", s.what, got, s.kept)
		}
	}
	if j := h.get(z.ID); !j.Superseded {
		t.Errorf("z = %+v, want superseded", j)
	}
}
