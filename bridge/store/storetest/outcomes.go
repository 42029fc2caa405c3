package storetest

import (
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// outcomeCases: what attempts record, dead letters, deletes, and calls on
// jobs that are not there.
var outcomeCases = []conformance{
	{"Reschedule/RecordsTheAttempt", rescheduleRecords},
	{"Reschedule/AfterTheNewerJobIsDelivered", rescheduleAfterNewerDelivered},
	{"FinishAll/Outcomes", finishOutcomes},
	{"FinishAll/InvalidStateWritesNothing", finishInvalidState},
	{"FinishAll/NeverTwice", finishNeverTwice},
	{"Requeue/DeadLetter", requeueDeadLetter},
	{"Delete/AnyState", deleteAnyState},
	{"Delete/InFlight", deleteInFlight},
	{"UnknownIDs", unknownIDs},
}

func rescheduleRecords(t *testing.T, h *harness) {
	j := h.job("a", "g", "x", T0)
	next := T0.Add(time.Minute)
	superseded, err := h.e.Reschedule(j.ID, 1, 2, next, "serverError", "HTTP 503", T0.Add(time.Second))
	if err != nil || superseded {
		t.Fatalf("Reschedule = %v, %v", superseded, err)
	}
	got := h.get(j.ID)
	if got.State != store.StatePending || got.Attempts != 1 || got.Sent != 2 || !got.NextAttempt.Equal(next) ||
		got.Reason != "serverError" || got.Error != "HTTP 503" || !got.UpdatedAt.Equal(T0.Add(time.Second)) ||
		!got.CreatedAt.Equal(T0) {
		t.Errorf("after Reschedule: %+v", got)
	}
	if !h.hasNotification(j.Notification) {
		t.Error("a rescheduled job lost its notification")
	}
}

// rescheduleAfterNewerDelivered: the newer job is accepted while the
// older one's attempt runs and is delivered before that attempt fails:
// the older one is not sent again.
func rescheduleAfterNewerDelivered(t *testing.T, h *harness) {
	a := h.job("a", "g", "x", T0)
	b := h.job("b", "g", "x", T0)
	h.finish(store.FinishOp{ID: b.ID, State: store.StateDelivered, Now: T0})
	_, err := h.e.Reschedule(a.ID, 1, 0, T0.Add(time.Second), "serverError", "HTTP 500", T0)
	wantErr(t, "Reschedule", err, store.ErrNotFound)
	if got := h.pending(); len(got) != 0 {
		t.Errorf("pending %v, want none", got)
	}
}

func finishOutcomes(t *testing.T, h *harness) {
	ok := h.job("a", "g1", "x", T0)
	dead := h.job("b", "g2", "x", T0)
	if _, err := h.e.Reschedule(ok.ID, 1, 0, T0.Add(time.Minute), "serverError", "HTTP 500", T0); err != nil {
		t.Fatal(err)
	}
	at := T0.Add(time.Hour)
	h.finish(
		store.FinishOp{ID: ok.ID, State: store.StateDelivered, Attempts: 2, Now: at},
		store.FinishOp{ID: dead.ID, State: store.StateDead, Attempts: 3, Reason: "clientError", Msg: "HTTP 400", Now: at},
		store.FinishOp{ID: 1 << 40, State: store.StateDelivered, Now: at}, // unknown: skipped
	)
	d := h.get(ok.ID)
	if d.State != store.StateDelivered || d.Attempts != 2 || d.Superseded || !d.UpdatedAt.Equal(at) || !d.NextAttempt.IsZero() ||
		d.Reason != "" || d.Error != "" {
		t.Errorf("delivered job = %+v", d)
	}
	if h.hasNotification(ok.Notification) {
		t.Error("a delivered job's notification is kept")
	}
	x := h.get(dead.ID)
	if x.State != store.StateDead || x.Attempts != 3 || x.Reason != "clientError" || x.Error != "HTTP 400" ||
		!x.UpdatedAt.Equal(at) || !x.NextAttempt.IsZero() {
		t.Errorf("dead letter = %+v", x)
	}
	if !h.hasNotification(dead.Notification) {
		t.Error("a dead letter lost its notification (needed for replay)")
	}
	for _, id := range []uint64{ok.ID, dead.ID} {
		_, err := h.e.Pending(id)
		wantErr(t, "Pending of a finished job", err, store.ErrNotFound)
	}
	if got := h.pending(); len(got) != 0 {
		t.Errorf("pending after finishing all: %v", got)
	}
}

// finishInvalidState: a batch with an op for another state is refused as
// a whole.
func finishInvalidState(t *testing.T, h *harness) {
	a := h.job("a", "g1", "x", T0)
	b := h.job("b", "g2", "x", T0)
	err := h.e.FinishAll([]store.FinishOp{
		{ID: a.ID, State: store.StateDelivered, Now: T0},
		{ID: b.ID, State: store.StatePending, Now: T0},
	})
	if err == nil {
		t.Error("FinishAll to the pending state: no error")
	}
	for _, id := range []uint64{a.ID, b.ID} {
		if j := h.get(id); j.State != store.StatePending {
			t.Errorf("job %d of the refused batch is %s", id, j.State)
		}
	}
}

// finishNeverTwice: a second outcome of a finished job, in another batch
// or the same one, is skipped.
func finishNeverTwice(t *testing.T, h *harness) {
	a := h.job("a", "g1", "x", T0)
	b := h.job("b", "g2", "x", T0)
	h.finish(store.FinishOp{ID: a.ID, State: store.StateDelivered, Attempts: 1, Now: T0})
	h.finish(store.FinishOp{ID: a.ID, State: store.StateDead, Attempts: 5, Reason: "late", Now: T0.Add(time.Hour)})
	if j := h.get(a.ID); j.State != store.StateDelivered || j.Attempts != 1 || !j.UpdatedAt.Equal(T0) {
		t.Errorf("a second outcome changed the job: %+v", j)
	}
	h.finish(
		store.FinishOp{ID: b.ID, State: store.StateDead, Attempts: 1, Now: T0},
		store.FinishOp{ID: b.ID, State: store.StateDelivered, Attempts: 2, Now: T0},
	)
	if j := h.get(b.ID); j.State != store.StateDead || j.Attempts != 1 {
		t.Errorf("two outcomes in one batch: %+v, want the first", j)
	}
	if !h.hasNotification(b.Notification) {
		t.Error("the dead letter lost its notification to the skipped outcome")
	}
}

func requeueDeadLetter(t *testing.T, h *harness) {
	j := h.job("a", "g", "x", T0)
	if _, err := h.e.Reschedule(j.ID, 1, 2, T0.Add(time.Second), "serverError", "HTTP 503", T0); err != nil {
		t.Fatal(err)
	}
	h.finish(store.FinishOp{ID: j.ID, State: store.StateDead, Attempts: 2, Reason: "serverError", Msg: "HTTP 503", Now: T0})
	later := T0.Add(time.Hour)
	back, err := h.e.Requeue(j.ID, later)
	if err != nil {
		t.Fatal(err)
	}
	for what, got := range map[string]*store.Job{"returned": back, "stored": h.get(j.ID)} {
		if got.State != store.StatePending || got.Attempts != 0 || got.Sent != 0 || got.Reason != "" || got.Error != "" ||
			!got.NextAttempt.IsZero() || !got.CreatedAt.Equal(later) || !got.UpdatedAt.Equal(later) ||
			got.Notification != j.Notification || got.Target != "x" || got.GroupKey != "g" {
			t.Errorf("%s requeued job = %+v", what, got)
		}
	}
	if !h.hasNotification(j.Notification) {
		t.Error("the requeued job lost its notification")
	}
	_, err = h.e.Requeue(j.ID, later)
	wantErr(t, "Requeue of a pending job", err, store.ErrNotFound)
	h.finish(store.FinishOp{ID: j.ID, State: store.StateDelivered, Now: later})
	_, err = h.e.Requeue(j.ID, later)
	wantErr(t, "Requeue of a delivered job", err, store.ErrNotFound)
}

// deleteAnyState: a job is deleted in every state, and with it the
// notification once no waiting job needs it; a deleted job frees its
// group, so a newer notification supersedes nothing.
func deleteAnyState(t *testing.T, h *harness) {
	p := h.job("a", "g1", "x", T0)
	d := h.job("b", "g2", "x", T0)
	h.finish(store.FinishOp{ID: d.ID, State: store.StateDead, Now: T0})
	o := h.job("c", "g3", "x", T0)
	h.finish(store.FinishOp{ID: o.ID, State: store.StateDelivered, Now: T0})
	for _, j := range []*store.Job{p, d, o} {
		if err := h.e.Delete(j.ID); err != nil {
			t.Errorf("Delete(%d): %v", j.ID, err)
		}
		_, err := h.e.Get(j.ID)
		wantErr(t, "Get of a deleted job", err, store.ErrNotFound)
		if h.hasNotification(j.Notification) {
			t.Errorf("job %d deleted, its notification kept", j.ID)
		}
		wantErr(t, "a second Delete", h.e.Delete(j.ID), store.ErrNotFound)
	}
	if acc := h.accept("d", "g1", T0, "x"); len(acc.Superseded) != 0 {
		t.Errorf("a newer notification superseded %v after the pending job was deleted", acc.Superseded)
	}
	for _, st := range []string{store.StateDelivered, store.StateDead} {
		if got := h.list(st, ""); len(got) != 0 {
			t.Errorf("%s after deleting: %v", st, got)
		}
	}
}

// deleteInFlight: the store deletes a pending job whatever its attempt is
// doing (the queue refuses with ErrBusy before); the attempt's outcome
// then finds nothing.
func deleteInFlight(t *testing.T, h *harness) {
	a := h.job("a", "g1", "x", T0)
	b := h.job("b", "g2", "x", T0)
	for _, id := range []uint64{a.ID, b.ID} {
		if err := h.e.Delete(id); err != nil {
			t.Fatal(err)
		}
	}
	_, err := h.e.Reschedule(a.ID, 1, 0, T0.Add(time.Minute), "serverError", "HTTP 500", T0)
	wantErr(t, "Reschedule of a deleted job", err, store.ErrNotFound)
	h.finish(store.FinishOp{ID: b.ID, State: store.StateDead, Attempts: 1, Now: T0})
	for _, id := range []uint64{a.ID, b.ID} {
		_, err := h.e.Get(id)
		wantErr(t, "Get of a deleted job after its outcome", err, store.ErrNotFound)
	}
}

// unknownIDs: ids never handed out (0 included) are ErrNotFound or
// ErrNoAlert, and change nothing.
func unknownIDs(t *testing.T, h *harness) {
	j := h.job("a", "g", "x", T0)
	for _, id := range []uint64{0, j.ID + 1000, 1<<64 - 1} {
		_, err := h.e.Get(id)
		wantErr(t, "Get", err, store.ErrNotFound)
		_, err = h.e.Pending(id)
		wantErr(t, "Pending", err, store.ErrNotFound)
		_, err = h.e.Notification(id)
		wantErr(t, "Notification", err, store.ErrNotFound)
		_, err = h.e.Reschedule(id, 1, 0, T0, "r", "m", T0)
		wantErr(t, "Reschedule", err, store.ErrNotFound)
		_, err = h.e.Requeue(id, T0)
		wantErr(t, "Requeue", err, store.ErrNotFound)
		wantErr(t, "Delete", h.e.Delete(id), store.ErrNotFound)
		if err := h.e.FinishAll([]store.FinishOp{{ID: id, State: store.StateDelivered, Now: T0}}); err != nil {
			t.Errorf("FinishAll of unknown %d: %v", id, err)
		}
	}
	for _, id := range []int64{0, -1, 7} {
		_, _, err := h.e.Alert(id)
		wantErr(t, "Alert", err, store.ErrNoAlert)
	}
	if got := h.get(j.ID); got.State != store.StatePending || got.Attempts != 0 {
		t.Errorf("the known job changed: %+v", got)
	}
}
