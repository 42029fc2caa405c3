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
	db, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// accept stores one notification of group gk for the given targets.
func accept(t *testing.T, db *DB, key, gk string, now time.Time, targets ...string) *Acceptance {
	t.Helper()
	acc, err := db.Accept(AcceptRequest{
		DedupKey: key, DedupWindow: time.Minute, AlertIDs: []int64{42}, Now: now,
		Build: func(seen []alert.Seen) (*alert.Group, []NewJob, error) {
			var jobs []NewJob
			for _, tg := range targets {
				g := &alert.Group{GroupKey: gk, Data: template.Data{Alerts: template.Alerts{{Status: "firing"}}}}
				jobs = append(jobs, NewJob{Job: &Job{Target: tg, GroupKey: gk}, Group: g})
			}
			return nil, jobs, nil
		},
	})
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
	var seen []alert.Seen
	_, err := db.Accept(AcceptRequest{DedupKey: "k3", DedupWindow: time.Minute, AlertIDs: []int64{42}, Now: t0.Add(3 * time.Minute),
		Build: func(s []alert.Seen) (*alert.Group, []NewJob, error) { seen = s; return nil, nil, nil }})
	if err != nil || seen[0].Times != 3 || !seen[0].FirstSeen.Equal(t0) {
		t.Errorf("counters after two accepted notifications and a third: %+v %v", seen, err)
	}
}

func TestSupersedeSkipsBusy(t *testing.T) {
	db := open(t)
	first := accept(t, db, "a", "g", t0, "x").Jobs[0]
	busy := func(id uint64) bool { return id == first.ID }
	acc, err := db.Accept(AcceptRequest{DedupKey: "b", DedupWindow: time.Minute, Now: t0, Busy: busy,
		Build: func([]alert.Seen) (*alert.Group, []NewJob, error) {
			return nil, []NewJob{{Job: &Job{Target: "x", GroupKey: "g"}, Group: &alert.Group{GroupKey: "g"}}}, nil
		}})
	if err != nil || len(acc.Superseded) != 0 {
		t.Fatalf("busy job superseded: %+v %v", acc, err)
	}
	second := acc.Jobs[0]
	// The busy attempt fails: a newer job waits, so it is superseded now.
	sup, err := db.Reschedule(first.ID, 1, 0, t0.Add(time.Second), "serverError", "HTTP 500", t0)
	if err != nil || !sup {
		t.Fatalf("Reschedule with a newer job waiting: superseded=%v err=%v", sup, err)
	}
	j, _ := db.Get(first.ID)
	if j.State != StateDelivered || !j.Superseded {
		t.Errorf("old job = %+v", j)
	}
	if _, err := db.Payload(first.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("superseded payload kept: %v", err)
	}
	// A third notification supersedes the idle second one at once.
	third := accept(t, db, "c", "g", t0, "x")
	if len(third.Superseded) != 1 || third.Superseded[0].ID != second.ID || !third.Superseded[0].Superseded || third.Superseded[0].Target != "x" {
		t.Errorf("third accept superseded %+v, want job %d", third.Superseded, second.ID)
	}
	// Other targets and groups are untouched.
	other := accept(t, db, "d", "g", t0, "y")
	if len(other.Superseded) != 0 {
		t.Errorf("another target's job superseded: %v", other.Superseded)
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
	if _, err := db.Payload(ids[0]); !errors.Is(err, ErrNotFound) {
		t.Error("delivered job kept its payload")
	}
	if _, err := db.Payload(ids[1]); err != nil {
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
	if err := db.Delete(ids[2], func(id uint64) bool { return id == ids[2] }); !errors.Is(err, ErrBusy) {
		t.Errorf("delete busy: %v", err)
	}
	if err := db.Delete(ids[2], nil); err != nil {
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
	_, err := db.Accept(AcceptRequest{Now: t0, Build: func([]alert.Seen) (*alert.Group, []NewJob, error) { return nil, nil, nil }})
	if !errors.Is(err, ErrClosed) {
		t.Errorf("accept on a closed store: %v", err)
	}
}

func TestOpenLockedFailsFast(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := Open(dir); err == nil {
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

// The index of newest jobs per group holds only groups with a waiting job:
// a finished job leaves it (so accepted-and-delivered jobs never reach the
// database file through it), and a replayed dead letter comes back into
// it, so a newer notification supersedes it while it waits.
func TestLatestIndexHoldsWaitingJobsOnly(t *testing.T) {
	db := open(t)
	latest := func(gk string) []byte {
		var v []byte
		_ = db.read(func(tx kvTx) error {
			v = append([]byte(nil), tx.Bucket(bucketLatest).Get(latestKey(&Job{Target: "ops", GroupKey: gk}))...)
			return nil
		})
		return v
	}
	a := accept(t, db, "k1", "g", t0, "ops").Jobs[0]
	if len(latest("g")) != 8 {
		t.Fatal("no index entry for a waiting job")
	}
	if err := db.FinishAll([]FinishOp{{ID: a.ID, State: StateDead, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if v := latest("g"); len(v) != 0 {
		t.Fatalf("index entry %x left after the job finished", v)
	}
	if _, err := db.Requeue(a.ID, t0); err != nil {
		t.Fatal(err)
	}
	b := accept(t, db, "k2", "g", t0.Add(time.Second), "ops")
	if len(b.Superseded) != 1 || b.Superseded[0].ID != a.ID {
		t.Fatalf("newer notification superseded %v, want the replayed dead letter %d", b.Superseded, a.ID)
	}
	if err := db.FinishAll([]FinishOp{{ID: b.Jobs[0].ID, State: StateDelivered, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if v := latest("g"); len(v) != 0 {
		t.Fatalf("index entry %x left after delivery", v)
	}
}
