package queue

// Review tests for the queue's use of the store: reads of a job's stored
// notification that fail for a while, and jobs superseded during an
// attempt (each fails without its fix).

import (
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// flakyNotifications fails the first reads of stored notifications, as a
// transient I/O error would (EIO, EMFILE, ENOMEM).
type flakyNotifications struct {
	Store
	failures atomic.Int32
}

func (f *flakyNotifications) Notification(nid uint64) (*store.Notification, error) {
	if f.failures.Add(-1) >= 0 {
		return nil, errors.New("injected: read /data/pebble/000123.blob: input/output error")
	}
	return f.Store.Notification(nid)
}

// TestReviewTransientPayloadReadIsRetried: a job whose stored notification
// cannot be read for a moment (a store read error, not damage) stays
// queued and is delivered, as a failed Pending read or Reschedule is:
// nothing leaves its lane silently. (It used to turn the read error into
// a permanent failure: a dead letter, reason templateError, after a
// single transient error.)
func TestReviewTransientPayloadReadIsRetried(t *testing.T) {
	db := openStore(t, t.TempDir())
	// Accepted by an earlier run: the group is not in memory, so the
	// attempt reads the stored notification.
	if _, err := db.Accept(acceptReq("g")); err != nil {
		t.Fatal(err)
	}
	st := &flakyNotifications{Store: db}
	st.failures.Store(1)
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond}, func(*Job, int) notify.Result { return ok })
	q := startQueue(t, st, d)
	if _, err := q.Resume(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "an outcome", func() bool { return d.nFinished() == 1 })
	_, fin := d.snapshot()
	for id, res := range fin {
		if res.Verdict != notify.Delivered {
			t.Fatalf("job %d finished %v (%s: %s), want delivered after the read error passed", id, res.Verdict, res.Reason, res.Message)
		}
	}
}

// supersedeDuringAttempt accepts a newer notification of the same group
// right after the attempt read its job: the older job is superseded and
// its notification, whose last waiting job it was, is dropped before the
// attempt loads it.
type supersedeDuringAttempt struct {
	Store
	once atomic.Bool
	t    *testing.T
}

func (s *supersedeDuringAttempt) Pending(id uint64) (*store.Job, error) {
	j, err := s.Store.Pending(id)
	if err == nil && s.once.CompareAndSwap(false, true) {
		if _, aerr := s.Store.Accept(acceptReq(j.GroupKey)); aerr != nil {
			s.t.Error(aerr)
		}
	}
	return j, err
}

// TestReviewSupersededDuringAttemptIsNotADeadLetter: a job superseded
// between its attempt's job read and payload read is reported as
// superseded (or not at all), not as a dead letter: the app logs every
// dead letter at error ("delivery failed; kept as a dead letter") and
// counts it in alertbridge_deliveries_total{result="dead"}, which on-call
// alerts on, although nothing is kept.
func TestReviewSupersededDuringAttemptIsNotADeadLetter(t *testing.T) {
	db := openStore(t, t.TempDir())
	acc, err := db.Accept(acceptReq("g"))
	if err != nil {
		t.Fatal(err)
	}
	old := acc.Jobs[0].ID
	st := &supersedeDuringAttempt{Store: db, t: t}
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond}, func(*Job, int) notify.Result { return ok })
	q := startQueue(t, st, d)
	if _, err := q.Resume(); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "the old job's attempt to end", func() bool {
		j, err := db.Get(old)
		return err == nil && j.State == store.StateDelivered
	})
	time.Sleep(100 * time.Millisecond)
	if _, fin := d.snapshot(); fin[old].Verdict == notify.Permanent {
		j, _ := db.Get(old)
		t.Fatalf("superseded job %d reported as a dead letter (%s: %s); in the store it is %s, superseded=%v",
			old, fin[old].Reason, fin[old].Message, j.State, j.Superseded)
	}
}
