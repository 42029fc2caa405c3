package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// acceptCases: acceptance, dedup, counters and superseding.
var acceptCases = []conformance{
	{"Accept/StoresPendingJobs", acceptStoresPendingJobs},
	{"Accept/DedupWithinWindow", acceptDedupWithinWindow},
	{"Accept/EmptyDedupKeyNeverDuplicates", acceptEmptyDedupKey},
	{"Accept/StampsCounters", acceptStampsCounters},
	{"Accept/Refused", acceptRefused},
	{"Accept/IDsIncrease", acceptIDsIncrease},
	{"Supersede/WaitingOlderJob", supersedeWaitingOlder},
	{"Supersede/OnePendingPerGroupAndTarget", supersedeOnePending},
	{"Supersede/NeverByAnOlderJob", supersedeNeverByOlder},
}

func acceptStoresPendingJobs(t *testing.T, h *harness) {
	req := acceptReq("k1", "g", T0, "x", "y")
	acc, err := h.e.Accept(req)
	if err != nil {
		t.Fatal(err)
	}
	if acc.Duplicate || len(acc.Jobs) != 2 || len(acc.Superseded) != 0 || len(acc.Seen) != 1 {
		t.Fatalf("acceptance %+v", acc)
	}
	for i, j := range acc.Jobs {
		got := h.get(j.ID)
		if got.State != store.StatePending || got.Target != []string{"x", "y"}[i] || got.GroupKey != "g" ||
			got.Alerts != 1 || got.Attempts != 0 || !got.CreatedAt.Equal(T0) || !got.UpdatedAt.Equal(T0) ||
			got.Notification == 0 || got.Notification != acc.Jobs[0].Notification {
			t.Errorf("stored job %d = %+v", i, got)
		}
		if p, err := h.e.Pending(j.ID); err != nil || p.ID != j.ID {
			t.Errorf("Pending(%d) = %+v, %v", j.ID, p, err)
		}
	}
	n, err := h.e.Notification(acc.Jobs[0].Notification)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(n.Body, req.Body) || !n.ReceivedAt.Equal(T0) || len(n.Seen) != 1 || n.Seen[0].Times != 1 {
		t.Errorf("notification = received %v, seen %+v, body %q", n.ReceivedAt, n.Seen, n.Body)
	}
	if got, want := h.pending(), jobIDs(acc.Jobs); !slices.Equal(got, want) {
		t.Errorf("pending %v, want %v", got, want)
	}
}

func acceptDedupWithinWindow(t *testing.T, h *harness) {
	a := h.accept("k1", "g", T0, "x", "y")
	if a.Duplicate || len(a.Jobs) != 2 {
		t.Fatalf("first accept: %+v", a)
	}
	if d := h.accept("k1", "g", T0.Add(30*time.Second), "x"); !d.Duplicate || len(d.Jobs) != 0 || len(d.Seen) != 0 {
		t.Errorf("within the window: %+v, want a duplicate", d)
	}
	if got := h.pending(); len(got) != 2 {
		t.Errorf("a duplicate added jobs: pending %v", got)
	}
	if d := h.accept("k1", "g", T0.Add(2*time.Minute), "x"); d.Duplicate {
		t.Errorf("after the window: duplicate, want accepted")
	}
	// The duplicate did not count: two notifications carried alert 42,
	// so a third sees it for the third time, first seen at T0.
	acc := h.accept("k3", "g", T0.Add(3*time.Minute))
	if len(acc.Seen) != 1 || acc.Seen[0].Times != 3 || !acc.Seen[0].FirstSeen.Equal(T0) {
		t.Errorf("counters after two accepted notifications and a third: %+v", acc.Seen)
	}
}

func acceptEmptyDedupKey(t *testing.T, h *harness) {
	for i := range 2 {
		if acc := h.accept("", "g", T0, "x"); acc.Duplicate || len(acc.Jobs) != 1 {
			t.Errorf("accept %d without a dedup key: %+v", i, acc)
		}
	}
}

// acceptStampsCounters: the counters are stamped into the groups the
// caller keeps and stored with the notification.
func acceptStampsCounters(t *testing.T, h *harness) {
	h.accept("k1", "g", T0, "x")
	req := acceptReq("k2", "g", T0.Add(time.Hour), "x")
	acc, err := h.e.Accept(req)
	if err != nil {
		t.Fatal(err)
	}
	if r := req.Jobs[0].Group.Records[0]; r.Times != 2 || r.GmtCreate != "2026-11-23T10:00:00" {
		t.Errorf("record in memory: times %d, gmtCreate %q; want 2, first seen at T0", r.Times, r.GmtCreate)
	}
	if r := req.Group.Records[0]; r.Times != 2 {
		t.Errorf("request's group: times %d, want 2", r.Times)
	}
	if s := acc.Seen; len(s) != 1 || s[0].Times != 2 || !s[0].FirstSeen.Equal(T0) {
		t.Errorf("Acceptance.Seen = %+v", s)
	}
	n, err := h.e.Notification(acc.Jobs[0].Notification)
	if err != nil {
		t.Fatal(err)
	}
	if s := n.Seen[0]; s.Times != 2 || !s.FirstSeen.Equal(T0) || !n.ReceivedAt.Equal(T0.Add(time.Hour)) {
		t.Errorf("stored counters: %+v received %v", s, n.ReceivedAt)
	}
}

// acceptRefused: a request without a group, or with jobs but no body, is
// an error and writes nothing, not even its dedup key.
func acceptRefused(t *testing.T, h *harness) {
	noGroup := acceptReq("k", "g", T0, "x")
	noGroup.Group = nil
	if _, err := h.e.Accept(noGroup); err == nil {
		t.Error("accept without a group: no error")
	}
	noBody := acceptReq("k", "g", T0, "x")
	noBody.Body = nil
	if _, err := h.e.Accept(noBody); err == nil {
		t.Error("accept of jobs without a body: no error")
	}
	if got := h.pending(); len(got) != 0 {
		t.Errorf("refused accepts left jobs %v", got)
	}
	if acc := h.accept("k", "g", T0, "x"); acc.Duplicate || acc.Seen[0].Times != 1 {
		t.Errorf("after refused accepts: %+v, want a first acceptance", acc)
	}
}

// acceptIDsIncrease: concurrent acceptances get distinct ids, and a later
// one a greater id than every earlier one.
func acceptIDsIncrease(t *testing.T, h *harness) {
	const n = 8
	done := make(chan []uint64, n)
	for i := range n {
		go func() {
			acc, err := h.e.Accept(acceptReq("", string(rune('a'+i)), T0, "x", "y"))
			if err != nil {
				t.Error(err)
				done <- nil
				return
			}
			done <- jobIDs(acc.Jobs)
		}()
	}
	seen := map[uint64]bool{}
	var high uint64
	for range n {
		for _, id := range <-done {
			if seen[id] {
				t.Errorf("id %d handed out twice", id)
			}
			seen[id] = true
			high = max(high, id)
		}
	}
	if later := h.job("", "later", "x", T0); later.ID <= high {
		t.Errorf("later job id %d, not above %d", later.ID, high)
	}
}

// supersedeWaitingOlder: a newer notification of a group supersedes the
// waiting job of the same target, also one being attempted (whose outcome
// is then not recorded); other targets and groups are untouched.
func supersedeWaitingOlder(t *testing.T, h *harness) {
	first := h.job("a", "g", "x", T0)
	acc := h.accept("b", "g", T0.Add(time.Second), "x")
	if len(acc.Superseded) != 1 || acc.Superseded[0].ID != first.ID || !acc.Superseded[0].Superseded ||
		acc.Superseded[0].State != store.StateDelivered {
		t.Fatalf("superseded %+v, want job %d in the history", acc.Superseded, first.ID)
	}
	second := acc.Jobs[0]
	if j := h.get(first.ID); j.State != store.StateDelivered || !j.Superseded || j.Reason != "superseded" {
		t.Errorf("old job = %+v", j)
	}
	if h.hasNotification(first.Notification) {
		t.Error("the superseded job's notification is kept")
	}
	_, err := h.e.Reschedule(first.ID, 1, 0, T0.Add(time.Second), "serverError", "HTTP 500", T0)
	wantErr(t, "Reschedule of a superseded job", err, store.ErrNotFound)
	h.finish(store.FinishOp{ID: first.ID, State: store.StateDead, Now: T0})
	if j := h.get(first.ID); j.State != store.StateDelivered || !j.Superseded {
		t.Errorf("the superseded job's late outcome was recorded: %+v", j)
	}
	if p, err := h.e.Pending(second.ID); err != nil || p.ID != second.ID {
		t.Errorf("the newer job is not pending: %v", err)
	}
	if other := h.accept("c", "g", T0, "y"); len(other.Superseded) != 0 {
		t.Errorf("another target's job superseded: %v", other.Superseded)
	}
	if other := h.accept("d", "h", T0, "x"); len(other.Superseded) != 0 {
		t.Errorf("another group's job superseded: %v", other.Superseded)
	}
}

// supersedeOnePending: however many notifications of a group arrive,
// one job per target is pending, the newest.
func supersedeOnePending(t *testing.T, h *harness) {
	var last *store.Acceptance
	for i := range 5 {
		last = h.accept(string(rune('a'+i)), "g", T0.Add(time.Duration(i)*time.Second), "x", "y")
	}
	if got, want := h.pending(), jobIDs(last.Jobs); !slices.Equal(got, want) {
		t.Errorf("pending %v, want only the newest %v", got, want)
	}
	if got := h.list(store.StateDelivered, ""); len(got) != 8 {
		t.Errorf("history %v, want the 8 superseded jobs", got)
	}
}

// supersedeNeverByOlder: a job that is no longer the newest of its group
// is never made pending again, whether the newer one is pending,
// delivered, pruned or deleted; a replayed dead letter that is still the
// newest is superseded by a later notification like any waiting job.
func supersedeNeverByOlder(t *testing.T, h *harness) {
	a := h.job("k1", "g", "x", T0)
	h.finish(store.FinishOp{ID: a.ID, State: store.StateDead, Attempts: 1, Now: T0})
	if _, err := h.e.Requeue(a.ID, T0); err != nil {
		t.Fatalf("Requeue of the newest job's dead letter: %v", err)
	}
	b := h.accept("k2", "g", T0.Add(time.Second), "x")
	if len(b.Superseded) != 1 || b.Superseded[0].ID != a.ID {
		t.Fatalf("newer notification superseded %v, want the replayed dead letter %d", b.Superseded, a.ID)
	}
	bj := b.Jobs[0]
	h.finish(store.FinishOp{ID: bj.ID, State: store.StateDead, Attempts: 1, Now: T0})
	// c is pending: b's replay would overtake it.
	c := h.job("k3", "g", "x", T0.Add(2*time.Second))
	_, err := h.e.Requeue(bj.ID, T0)
	wantErr(t, "Requeue with a newer job pending", err, store.ErrSuperseded)
	// c is delivered, then pruned from the history.
	h.finish(store.FinishOp{ID: c.ID, State: store.StateDelivered, Attempts: 1, Now: T0})
	_, err = h.e.Requeue(bj.ID, T0)
	wantErr(t, "Requeue with a newer job delivered", err, store.ErrSuperseded)
	if _, err := h.e.Prune(T0.Add(time.Hour), time.Minute, 100, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := h.e.Get(c.ID); err == nil {
		t.Fatal("the delivered job was not pruned")
	}
	_, err = h.e.Requeue(bj.ID, T0)
	wantErr(t, "Requeue after the newer job was pruned", err, store.ErrSuperseded)
	if j := h.get(bj.ID); j.State != store.StateDead {
		t.Errorf("refused dead letter is now %s", j.State)
	}
	// Another group: the newer job is deleted.
	d := h.job("k4", "h", "x", T0)
	h.finish(store.FinishOp{ID: d.ID, State: store.StateDead, Now: T0})
	e := h.job("k5", "h", "x", T0)
	if err := h.e.Delete(e.ID); err != nil {
		t.Fatal(err)
	}
	_, err = h.e.Requeue(d.ID, T0)
	wantErr(t, "Requeue after the newer job was deleted", err, store.ErrSuperseded)
}
