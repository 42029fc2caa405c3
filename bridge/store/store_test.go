package store

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func open(t *testing.T) *DB {
	t.Helper()
	return openAt(t, t.TempDir())
}

func openAt(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// group is a one-alert group of group key gk; the alert's record id is 42.
func group(gk string, now time.Time) *alert.Group {
	return &alert.Group{GroupKey: gk, ReceivedAt: now,
		Data:    template.Data{Receiver: "r", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A"}, Fingerprint: "f"}}},
		Records: []alert.Record{{ID: 42}}}
}

// bodyOf is the webhook payload of a group's alerts.
func bodyOf(g *alert.Group) []byte {
	m := &alert.Message{Data: g.Data, Version: alert.Version, GroupKey: g.GroupKey}
	b, err := m.Body()
	if err != nil {
		panic(err)
	}
	return b
}

// payloadOf loads the stored notification of a pending or dead job;
// ErrNotFound for a delivered or unknown one.
func payloadOf(db *DB, id uint64) (*Notification, error) {
	j, err := db.Get(id)
	if err != nil {
		return nil, err
	}
	if j.State == StateDelivered {
		return nil, ErrNotFound
	}
	return db.Notification(j.Notification)
}

// acceptReq is one notification of group gk for the given targets.
func acceptReq(key, gk string, now time.Time, targets ...string) AcceptRequest {
	g := group(gk, now)
	req := AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Body: bodyOf(g)}
	for _, tg := range targets {
		req.Jobs = append(req.Jobs, NewJob{Job: &Job{Target: tg, GroupKey: gk}, Group: g})
	}
	return req
}

// accept stores one notification of group gk for the given targets.
func accept(t *testing.T, db *DB, key, gk string, now time.Time, targets ...string) *Acceptance {
	t.Helper()
	acc, err := db.Accept(acceptReq(key, gk, now, targets...))
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestAcceptDedupAndCounters(t *testing.T) {
	db := open(t)
	a := accept(t, db, "k1", "g", t0, "x", "y")
	if a.Duplicate || len(a.Jobs) != 2 || a.Jobs[0].ID >= a.Jobs[1].ID || a.Jobs[0].State != StatePending {
		t.Fatalf("first accept: %+v", a)
	}
	if d := accept(t, db, "k1", "g", t0.Add(30*time.Second), "x"); !d.Duplicate || len(d.Jobs) != 0 {
		t.Errorf("within the window: %+v, want duplicate", d)
	}
	if d := accept(t, db, "k1", "g", t0.Add(2*time.Minute), "x"); d.Duplicate {
		t.Errorf("after the window: duplicate, want accepted")
	}
	// The duplicate did not count: 2 notifications carried alert 42, so a
	// third one sees it for the third time, first seen at t0.
	acc := accept(t, db, "k3", "g", t0.Add(3*time.Minute))
	if len(acc.Seen) != 1 || acc.Seen[0].Times != 3 || !acc.Seen[0].FirstSeen.Equal(t0) {
		t.Errorf("counters after two accepted notifications and a third: %+v", acc.Seen)
	}
}

// TestAcceptStampsCounters: the store stamps its counters into the
// groups it stores and the caller keeps, equal to a group built with them.
func TestAcceptStampsCounters(t *testing.T) {
	db := open(t)
	accept(t, db, "k1", "g", t0, "x")
	req := acceptReq("k2", "g", t0.Add(time.Hour), "x")
	acc, err := db.Accept(req)
	if err != nil {
		t.Fatal(err)
	}
	if r := req.Jobs[0].Group.Records[0]; r.Times != 2 || r.GmtCreate != "2026-11-23T10:00:00" {
		t.Errorf("record in memory: times %d, gmtCreate %q; want 2, first seen at t0", r.Times, r.GmtCreate)
	}
	n, err := payloadOf(db, acc.Jobs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if s := n.Seen[0]; s.Times != 2 || !s.FirstSeen.Equal(t0) || !n.ReceivedAt.Equal(t0.Add(time.Hour)) {
		t.Errorf("stored counters: %+v received %v", s, n.ReceivedAt)
	}
}

// TestSupersede: a newer notification of a group supersedes the waiting
// job of the same target, also one being attempted (whose outcome is then
// not recorded); other targets are untouched.
func TestSupersede(t *testing.T) {
	db := open(t)
	first := accept(t, db, "a", "g", t0, "x").Jobs[0]
	acc := accept(t, db, "b", "g", t0, "x")
	if len(acc.Superseded) != 1 || acc.Superseded[0].ID != first.ID || !acc.Superseded[0].Superseded {
		t.Fatalf("superseded %+v, want job %d", acc.Superseded, first.ID)
	}
	second := acc.Jobs[0]
	j, _ := db.Get(first.ID)
	if j.State != StateDelivered || !j.Superseded || j.Reason != "superseded" {
		t.Errorf("old job = %+v", j)
	}
	if _, err := payloadOf(db, first.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("superseded payload kept: %v", err)
	}
	// The old job's attempt ends: its outcome finds nothing pending.
	if _, err := db.Reschedule(first.ID, 1, 0, t0.Add(time.Second), "serverError", "HTTP 500", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Reschedule of a superseded job: %v, want ErrNotFound", err)
	}
	if err := db.FinishAll([]FinishOp{{ID: first.ID, State: StateDelivered, Now: t0}}); err != nil {
		t.Errorf("FinishAll of a superseded job: %v", err)
	}
	if p, _ := db.Pending(second.ID); p == nil {
		t.Error("the newer job is not pending")
	}
	other := accept(t, db, "d", "g", t0, "y")
	if len(other.Superseded) != 0 {
		t.Errorf("another target's job superseded: %v", other.Superseded)
	}
}

// TestRescheduleSupersededByNewer: a failed attempt of a job whose group
// has a newer job is not rescheduled but superseded.
func TestRescheduleSupersededByNewer(t *testing.T) {
	db := open(t)
	a := accept(t, db, "a", "g", t0, "x").Jobs[0]
	// The newer job is accepted while a's attempt runs, and is already
	// delivered when a's attempt fails: a must not be sent again.
	b := accept(t, db, "b", "g", t0, "x")
	if err := db.FinishAll([]FinishOp{{ID: b.Jobs[0].ID, State: StateDelivered, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Reschedule(a.ID, 1, 0, t0.Add(time.Second), "serverError", "HTTP 500", t0); !errors.Is(err, ErrNotFound) {
		t.Errorf("Reschedule: %v", err)
	}
}

func TestFinishRequeueDeleteList(t *testing.T) {
	db := open(t)
	var ids []uint64
	for i := 0; i < 5; i++ {
		ids = append(ids, accept(t, db, string(rune('a'+i)), string(rune('g'+i)), t0, "x").Jobs[0].ID)
	}
	err := db.FinishAll([]FinishOp{
		{ID: ids[0], State: StateDelivered, Attempts: 1, Now: t0},
		{ID: ids[1], State: StateDead, Attempts: 3, Reason: "clientError", Msg: "HTTP 400", Now: t0},
		{ID: 999, State: StateDelivered, Now: t0}, // unknown: skipped
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := payloadOf(db, ids[0]); !errors.Is(err, ErrNotFound) {
		t.Error("delivered job kept its payload")
	}
	if _, err := payloadOf(db, ids[1]); err != nil {
		t.Error("dead letter lost its payload (needed for replay)")
	}
	counts := map[string]int{}
	for _, st := range []string{StatePending, StateDelivered, StateDead} {
		jobs, err := db.List(st, "", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		counts[st] = len(jobs)
	}
	if counts[StatePending] != 3 || counts[StateDelivered] != 1 || counts[StateDead] != 1 {
		t.Errorf("counts %v", counts)
	}
	// Paging: newest first, two at a time.
	page1, _ := db.List(StatePending, "", 0, 2)
	page2, _ := db.List(StatePending, "", page1[1].ID, 2)
	if len(page1) != 2 || len(page2) != 1 || page1[0].ID != ids[4] || page1[1].ID != ids[3] || page2[0].ID != ids[2] {
		t.Errorf("pages %v / %v", ids, append(page1, page2...))
	}
	if l, _ := db.List(StatePending, "nope", 0, 10); len(l) != 0 {
		t.Errorf("target filter: %v", l)
	}
	later := t0.Add(time.Hour)
	j, err := db.Requeue(ids[1], later)
	if err != nil || j.State != StatePending || j.Attempts != 0 || !j.CreatedAt.Equal(later) {
		t.Errorf("requeue: %+v %v", j, err)
	}
	if _, err := db.Requeue(ids[0], later); !errors.Is(err, ErrNotFound) {
		t.Errorf("requeue of a delivered job: %v", err)
	}
	if err := db.Delete(ids[2]); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := db.Get(ids[2]); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted job still there: %v", err)
	}
}

func TestPrune(t *testing.T) {
	db := open(t)
	var ops []FinishOp
	for i := 0; i < 6; i++ {
		id := accept(t, db, string(rune('a'+i)), string(rune('g'+i)), t0, "x").Jobs[0].ID
		ops = append(ops, FinishOp{ID: id, State: StateDelivered, Now: t0.Add(time.Duration(i) * time.Hour)})
	}
	if err := db.FinishAll(ops); err != nil {
		t.Fatal(err)
	}
	// At t0+6h with a 3h retention, entries finished at +0h..+2h are too
	// old; a cap of 2 then keeps only the newest two.
	n, err := db.Prune(t0.Add(6*time.Hour), 3*time.Hour+time.Minute, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	left, _ := db.List(StateDelivered, "", 0, 10)
	if n != 4 || len(left) != 2 || left[0].ID != ops[5].ID || left[1].ID != ops[4].ID {
		t.Errorf("pruned %d, left %v", n, left)
	}
	// Dedup keys expire with the window.
	if d := accept(t, db, "a", "g", t0.Add(6*time.Hour), "x"); d.Duplicate {
		t.Error("expired dedup key still matched")
	}
	// Alert counters go once not seen since the cutoff.
	if removed, err := db.PruneAlerts(t0.Add(7 * time.Hour)); err != nil || removed != 1 {
		t.Errorf("PruneAlerts removed %d (%v), want 1", removed, err)
	}
}

func TestClosedStore(t *testing.T) {
	db := open(t)
	db.Close()
	if _, err := db.Accept(acceptReq("k", "g", t0, "x")); !errors.Is(err, ErrClosed) {
		t.Errorf("accept on a closed store: %v", err)
	}
	if _, err := db.List(StatePending, "", 0, 10); !errors.Is(err, ErrClosed) {
		t.Errorf("list on a closed store: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestOpenLockedFailsFast(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("second open of a locked store succeeded")
	}
}

// TestRescheduleKeepsSentAndRequeueResetsIt: the delivered part count of
// a split notification survives on disk; a replayed dead letter sends
// every part again.
func TestRescheduleKeepsSentAndRequeueResetsIt(t *testing.T) {
	db := open(t)
	j := accept(t, db, "a", "g", t0, "x").Jobs[0]
	if _, err := db.Reschedule(j.ID, 1, 2, t0.Add(time.Second), "serverError", "HTTP 503", t0); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Get(j.ID); got.Sent != 2 {
		t.Fatalf("sent after Reschedule = %d, want 2", got.Sent)
	}
	if err := db.FinishAll([]FinishOp{{ID: j.ID, State: StateDead, Attempts: 2, Reason: "serverError", Now: t0}}); err != nil {
		t.Fatal(err)
	}
	back, err := db.Requeue(j.ID, t0)
	if err != nil || back.Sent != 0 {
		t.Errorf("Requeue = %+v, %v; want sent reset to 0", back, err)
	}
}

// The index of newest jobs per group names a job while it is stored: a
// dead letter whose group moved on is not resent, one whose group did not
// is, and a newer notification then supersedes it while it waits.
// Deleting or pruning the job it names removes the entry, so the index
// does not grow with every group ever seen.
func TestLatestIndexAndDeadLetterOrder(t *testing.T) {
	db := open(t)
	latest := func(gk string) (uint64, bool) {
		id, ok, err := latestID(db, latestKey("ops", gk))
		if err != nil {
			t.Fatal(err)
		}
		return id, ok
	}
	a := accept(t, db, "k1", "g", t0, "ops").Jobs[0]
	if id, ok := latest("g"); !ok || id != a.ID {
		t.Fatal("no index entry for a waiting job")
	}
	if err := db.FinishAll([]FinishOp{{ID: a.ID, State: StateDead, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Requeue(a.ID, t0); err != nil {
		t.Fatal(err)
	}
	b := accept(t, db, "k2", "g", t0.Add(time.Second), "ops")
	if len(b.Superseded) != 1 || b.Superseded[0].ID != a.ID {
		t.Fatalf("newer notification superseded %v, want the replayed dead letter %d", b.Superseded, a.ID)
	}
	// b dies, c (resolved, say) is delivered: retrying b would send an
	// older state after a newer one.
	if err := db.FinishAll([]FinishOp{{ID: b.Jobs[0].ID, State: StateDead, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	c := accept(t, db, "k3", "g", t0.Add(2*time.Second), "ops").Jobs[0]
	if err := db.FinishAll([]FinishOp{{ID: c.ID, State: StateDelivered, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Requeue(b.Jobs[0].ID, t0); !errors.Is(err, ErrSuperseded) {
		t.Errorf("Requeue of a dead letter whose group moved on: %v, want ErrSuperseded", err)
	}
	if j, _ := db.Get(b.Jobs[0].ID); j.State != StateDead {
		t.Errorf("refused dead letter is now %s", j.State)
	}
	if _, err := db.Prune(t0.Add(time.Hour), time.Minute, 100, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok := latest("g"); ok {
		t.Error("index entry left after its job was pruned")
	}
	d := accept(t, db, "k4", "h", t0, "ops").Jobs[0]
	if err := db.Delete(d.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := latest("h"); ok {
		t.Error("index entry left after its job was deleted")
	}
}

// TestReopenKeepsEverything: jobs, payloads, counters, dedup keys and the
// id sequence survive a restart.
func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := accept(t, db, "k1", "g", t0, "x", "y")
	if err := db.FinishAll([]FinishOp{{ID: a.Jobs[1].ID, State: StateDead, Attempts: 3, Reason: "clientError", Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openAt(t, dir)
	var pending []uint64
	if err := db.ForEachPending(func(j *Job) error { pending = append(pending, j.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(pending) != 1 || pending[0] != a.Jobs[0].ID {
		t.Errorf("pending after reopen %v, want [%d]", pending, a.Jobs[0].ID)
	}
	if _, err := payloadOf(db, a.Jobs[1].ID); err != nil {
		t.Errorf("dead letter payload after reopen: %v", err)
	}
	if d := accept(t, db, "k1", "g", t0.Add(time.Second), "x"); !d.Duplicate {
		t.Error("dedup key lost in the restart")
	}
	n := accept(t, db, "k2", "g", t0.Add(time.Minute), "x")
	if n.Jobs[0].ID <= a.Jobs[1].ID {
		t.Errorf("job id %d after restart reuses an old one (<= %d)", n.Jobs[0].ID, a.Jobs[1].ID)
	}
	if n.Seen[0].Times != 2 {
		t.Errorf("counter after restart %d, want 2", n.Seen[0].Times)
	}
}
