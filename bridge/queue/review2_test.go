package queue

// Second review of the delivery scheduler: deleting a job while the lane
// could hand it out, closing twice, and the in-flight window growing back
// after a recovery.

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// deleteHook runs before each store Delete, after Durable.Delete took the
// job out of its lane.
type deleteHook struct {
	Store
	before func(id uint64)
}

func (s *deleteHook) Delete(id uint64) error {
	if s.before != nil {
		s.before(id)
	}
	return s.Store.Delete(id)
}

// TestReview2DeleteRacesAttempt: Delete takes a waiting job out of its
// lane in one step with the check that no attempt has it, so no attempt
// can start between the check and the store delete (before, one could:
// Delete returned nil and the deleted notification was sent). The hook
// frees the lane exactly in that window. A job that is being attempted is
// refused with store.ErrBusy.
func TestReview2DeleteRacesAttempt(t *testing.T) {
	releaseBlocker := make(chan struct{})
	victimIn := make(chan struct{}, 1)
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond, MaxInFlight: 1}, func(job *Job, _ int) notify.Result {
		switch job.GroupKey {
		case "blocker":
			<-releaseBlocker
		case "victim":
			victimIn <- struct{}{}
		}
		return ok
	})
	db := openStore(t, t.TempDir())
	st := &deleteHook{Store: db}
	q := startQueue(t, st, d)
	accept(t, q, "blocker")
	eventually(t, 5*time.Second, "the blocker in flight", func() bool { return q.Lane(target).InFlight == 1 })
	victim := accept(t, q, "victim")
	entered := false
	st.before = func(id uint64) {
		if id != victim {
			return
		}
		// Delete is about to remove the victim from the store; the lane
		// frees up now. It must not hand the victim out.
		close(releaseBlocker)
		select {
		case <-victimIn:
			entered = true
		case <-time.After(300 * time.Millisecond):
		}
	}
	if err := q.Delete(victim); err != nil {
		t.Fatalf("Delete of a waiting job: %v", err)
	}
	if entered {
		t.Fatal("the job was attempted while it was being deleted")
	}
	eventually(t, 5*time.Second, "the blocker's outcome", func() bool { return d.nFinished() == 1 })
	if _, fin := d.snapshot(); len(fin) != 1 {
		t.Fatalf("outcomes %v: the deleted job was attempted", fin)
	}
	if _, err := db.Get(victim); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted job still stored: %v", err)
	}
	if st := q.Lane(target); st.Depth != 0 {
		t.Errorf("lane after the delete: %+v", st)
	}

	// A job in flight is refused.
	hold := make(chan struct{})
	d2 := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond}, func(*Job, int) notify.Result { <-hold; return ok })
	q2 := startQueue(t, openStore(t, t.TempDir()), d2)
	busy := accept(t, q2, "busy")
	eventually(t, 5*time.Second, "the job in flight", func() bool { return q2.Lane(target).InFlight == 1 })
	if err := q2.Delete(busy); !errors.Is(err, store.ErrBusy) {
		t.Errorf("Delete of a job in flight: %v, want store.ErrBusy", err)
	}
	close(hold)
}

// TestReview2CloseTwice: Close guards close(q.stop) with q.closed but closes
// q.finishes unconditionally, so a second Close (a deferred Close after a
// Serve that already shut down, a test cleanup after an explicit Close)
// panics with "close of closed channel".
func TestReview2CloseTwice(t *testing.T) {
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond}, func(*Job, int) notify.Result { return ok })
	q := NewDurable(openStore(t, t.TempDir()), d)
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		q.Close(context.Background())
	}()
	if panicked != nil {
		t.Fatalf("second Close panicked: %v", panicked)
	}
}

// TestReview2WindowGrowsBackAfterRecovery (passes): after the breaker opened
// and closed again, the slow-start window restarts at one and grows back
// to max_in_flight.
func TestReview2WindowGrowsBackAfterRecovery(t *testing.T) {
	up := make(chan struct{})
	d := newFake(Policy{Interval: 20 * time.Millisecond, MaxInterval: 50 * time.Millisecond, MaxInFlight: 8}, func(*Job, int) notify.Result {
		select {
		case <-up:
			return ok
		default:
			return fail
		}
	})
	d.delay = 20 * time.Millisecond
	q := startQueue(t, openStore(t, t.TempDir()), d)
	for i := range 200 {
		accept(t, q, fmt.Sprint("g", i))
	}
	eventually(t, 10*time.Second, "the breaker to open", func() bool {
		for _, tr := range d.breakerLog() {
			if tr.To == BreakerOpen {
				return true
			}
		}
		return false
	})
	d.mu.Lock()
	before := d.maxInFlight
	d.mu.Unlock()
	if before > startWindow {
		t.Fatalf("%d in flight before any success, want at most the start window %d", before, startWindow)
	}
	close(up)
	eventually(t, 20*time.Second, "every job delivered", func() bool { return d.nFinished() == 200 })
	d.mu.Lock()
	peak := d.maxInFlight
	d.mu.Unlock()
	if peak != 8 {
		t.Fatalf("peak in flight %d after recovery, want max_in_flight 8", peak)
	}
	if st := q.Lane(target); st.Depth != 0 || st.InFlight != 0 || st.Breaker != BreakerClosed {
		t.Fatalf("lane after draining: %+v", st)
	}
}
