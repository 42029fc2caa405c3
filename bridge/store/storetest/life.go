package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// lifeCases: the watchdog's state, restarts and Close.
var lifeCases = []conformance{
	{"Watchdog/RoundTrip", watchdogRoundTrip},
	{"Durability/ReopenKeepsEverything", reopenKeepsEverything},
	{"Close/ThenErrClosed", closeThenErrClosed},
}

func sameWatchdog(a, b store.WatchdogState) bool {
	return a.Started.Equal(b.Started) && a.LastSeen.Equal(b.LastSeen) && a.Silent == b.Silent && a.Since.Equal(b.Since) &&
		a.DeclaredAt.Equal(b.DeclaredAt) && a.NoticeAt.Equal(b.NoticeAt) && a.Notices == b.Notices
}

func (h *harness) watchdog() (store.WatchdogState, bool) {
	h.t.Helper()
	s, ok, err := h.e.WatchdogState()
	if err != nil {
		h.t.Fatal(err)
	}
	return s, ok
}

// watchdogRoundTrip: none in a new engine; the saved state reads back,
// and a second save replaces it.
func watchdogRoundTrip(t *testing.T, h *harness) {
	if s, ok := h.watchdog(); ok {
		t.Fatalf("new engine: state %+v, want none", s)
	}
	want := store.WatchdogState{Started: T0, LastSeen: T0.Add(time.Minute), Silent: true, Since: T0.Add(time.Minute),
		DeclaredAt: T0.Add(11 * time.Minute), NoticeAt: T0.Add(71 * time.Minute), Notices: 2}
	for _, s := range []store.WatchdogState{{Started: T0.Add(-time.Hour)}, want} {
		if err := h.e.SaveWatchdogState(s); err != nil {
			t.Fatal(err)
		}
		if got, ok := h.watchdog(); !ok || !sameWatchdog(got, s) {
			t.Errorf("read back %+v (%v), want %+v", got, ok, s)
		}
	}
}

// reopenKeepsEverything: what was written before a restart is there
// after it: jobs in every state with their fields, notifications,
// counters, dedup keys, the id sequence, the newest-job rule, the alert
// center and the watchdog's state.
func reopenKeepsEverything(t *testing.T, h *harness) {
	a := h.accept("k1", "g", T0, "x", "y", "z")
	x, y, z := a.Jobs[0], a.Jobs[1], a.Jobs[2]
	if _, err := h.e.Reschedule(x.ID, 1, 1, T0.Add(time.Minute), "serverError", "HTTP 503", T0); err != nil {
		t.Fatal(err)
	}
	h.finish(store.FinishOp{ID: y.ID, State: store.StateDead, Attempts: 3, Reason: "clientError", Msg: "HTTP 400", Now: T0},
		store.FinishOp{ID: z.ID, State: store.StateDelivered, Attempts: 1, Now: T0})
	old := h.job("k0", "old", "x", T0)
	h.finish(store.FinishOp{ID: old.ID, State: store.StateDead, Now: T0})
	newer := h.job("k2", "old", "x", T0)
	h.finish(store.FinishOp{ID: newer.ID, State: store.StateDelivered, Now: T0})
	wd := store.WatchdogState{Started: T0, LastSeen: T0.Add(time.Minute)}
	if err := h.e.SaveWatchdogState(wd); err != nil {
		t.Fatal(err)
	}
	before := map[uint64]*store.Job{}
	for _, id := range []uint64{x.ID, y.ID, z.ID, old.ID, newer.ID} {
		before[id] = h.get(id)
	}
	alerts, _, err := h.e.Alerts(store.AlertFilter{}, store.AlertPage{})
	if err != nil {
		t.Fatal(err)
	}

	h.reopen()

	for id, want := range before {
		got := h.get(id)
		if got.State != want.State || got.Attempts != want.Attempts || got.Sent != want.Sent || got.Reason != want.Reason ||
			got.Error != want.Error || !got.NextAttempt.Equal(want.NextAttempt) || !got.CreatedAt.Equal(want.CreatedAt) ||
			!got.UpdatedAt.Equal(want.UpdatedAt) || got.Notification != want.Notification || got.Target != want.Target ||
			got.GroupKey != want.GroupKey || got.Alerts != want.Alerts {
			t.Errorf("job %d after reopen %+v, want %+v", id, got, want)
		}
	}
	if got := h.pending(); !slices.Equal(got, []uint64{x.ID}) {
		t.Errorf("pending after reopen %v, want [%d]", got, x.ID)
	}
	if !h.hasNotification(y.Notification) {
		t.Error("the dead letter's notification is lost in the restart")
	}
	if _, err := h.e.Requeue(old.ID, T0); err == nil {
		t.Error("after the restart, a dead letter whose group moved on was requeued")
	}
	if got, ok := h.watchdog(); !ok || !sameWatchdog(got, wd) {
		t.Errorf("watchdog after reopen %+v (%v), want %+v", got, ok, wd)
	}
	after, _, err := h.e.Alerts(store.AlertFilter{}, store.AlertPage{})
	if err != nil || !slices.Equal(entryIDs(after), entryIDs(alerts)) {
		t.Errorf("alert center after reopen %v (%v), want %v", entryIDs(after), err, entryIDs(alerts))
	}
	if d := h.accept("k1", "g", T0.Add(time.Second), "x"); !d.Duplicate {
		t.Error("dedup key lost in the restart")
	}
	n := h.accept("k3", "g", T0.Add(time.Minute), "x")
	if n.Jobs[0].ID <= newer.ID {
		t.Errorf("job id %d after restart reuses an old one (<= %d)", n.Jobs[0].ID, newer.ID)
	}
	if len(n.Superseded) != 1 || n.Superseded[0].ID != x.ID {
		t.Errorf("after the restart the newer job superseded %v, want the waiting %d", n.Superseded, x.ID)
	}
	if n.Seen[0].Times != 4 {
		t.Errorf("counter after restart %d, want 4", n.Seen[0].Times)
	}
	if e, jobs, err := h.e.Alert(42); err != nil || e.Times != 4 || len(jobs) == 0 {
		t.Errorf("alert entry after restart %+v, %d jobs, %v", e, len(jobs), err)
	}
}

// closeThenErrClosed: an open engine is writable; after Close every call
// says ErrClosed and a second Close is harmless.
func closeThenErrClosed(t *testing.T, h *harness) {
	j := h.job("k", "g", "x", T0)
	if err := h.e.Writable(); err != nil {
		t.Fatalf("Writable on an open engine: %v", err)
	}
	if err := h.e.Close(); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func() error{
		"Accept":         func() error { _, err := h.e.Accept(acceptReq("k2", "g", T0, "x")); return err },
		"Get":            func() error { _, err := h.e.Get(j.ID); return err },
		"Pending":        func() error { _, err := h.e.Pending(j.ID); return err },
		"Notification":   func() error { _, err := h.e.Notification(j.Notification); return err },
		"Reschedule":     func() error { _, err := h.e.Reschedule(j.ID, 1, 0, T0, "r", "m", T0); return err },
		"FinishAll":      func() error { return h.e.FinishAll([]store.FinishOp{{ID: j.ID, State: store.StateDead, Now: T0}}) },
		"Requeue":        func() error { _, err := h.e.Requeue(j.ID, T0); return err },
		"Delete":         func() error { return h.e.Delete(j.ID) },
		"ForEachPending": func() error { return h.e.ForEachPending(func(*store.Job) error { return nil }) },
		"List":           func() error { _, err := h.e.List(store.StatePending, "", 0, 10); return err },
		"Prune":          func() error { _, err := h.e.Prune(T0, time.Hour, 10, time.Minute); return err },
		"Alerts":         func() error { _, _, err := h.e.Alerts(store.AlertFilter{}, store.AlertPage{}); return err },
		"Alert":          func() error { _, _, err := h.e.Alert(42); return err },
		"PruneAlerts":    func() error { _, err := h.e.PruneAlerts(T0); return err },
		"WatchdogState":  func() error { _, _, err := h.e.WatchdogState(); return err },
		"SaveWatchdog":   func() error { return h.e.SaveWatchdogState(store.WatchdogState{Started: T0}) },
		"Writable":       func() error { return h.e.Writable() },
		"MessageRefs":    func() error { _, _, err := h.e.MessageRefs("x", "g"); return err },
		"SaveMessageRefs": func() error {
			return h.e.SaveMessageRefs("x", "g", store.MessageRefs{Refs: []string{"1"}, Expires: T0})
		},
		"PruneMessageRefs": func() error { _, err := h.e.PruneMessageRefs(T0); return err },
	}
	for name, call := range calls {
		wantErr(t, name+" after Close", call(), store.ErrClosed)
	}
	if err := h.e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
