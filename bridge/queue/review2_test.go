package queue

// Second review of the delivery scheduler. Tests that show a real bug skip
// (so CI stays green) unless REVIEW2_BUGS=1, which runs them to show the
// failure:
//
//	REVIEW2_BUGS=1 go test ./bridge/queue/ -run Review2

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// review2Bug skips a test that demonstrates a known bug, unless asked to
// run it.
func review2Bug(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("REVIEW2_BUGS") == "" {
		t.Skip("BUG: " + why)
	}
}

// deleteHook runs before each store Delete, after Durable.Delete checked
// that the job is not busy.
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

// TestReview2DeleteRacesAttempt: Durable.Delete checks q.busy, then deletes
// from the store, without holding anything that stops the lane from handing
// the job out in between; and the busy mark itself is set only in the
// attempt goroutine, after lane.next handed the job out. An attempt that
// starts in that window reads the job (still pending) and sends it; Delete
// returns nil instead of store.ErrBusy, and the "deleted" notification is
// delivered (Finished reports it delivered). The hook makes the window
// deterministic; in production it is the store write (an fsync) long.
func TestReview2DeleteRacesAttempt(t *testing.T) {
	review2Bug(t, "Delete's busy check and the store delete are not atomic with the lane handing the job out: Delete returns nil while the job is being sent (durable.go:199-213; busy set late at durable.go:298)")
	releaseBlocker := make(chan struct{})
	releaseVictim := make(chan struct{})
	victimIn := make(chan struct{}, 1)
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond, MaxInFlight: 1}, func(job *Job, _ int) notify.Result {
		switch job.GroupKey {
		case "blocker":
			<-releaseBlocker
		case "victim":
			victimIn <- struct{}{}
			<-releaseVictim
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
		// Delete found the victim pending and not busy; the lane frees
		// up now and hands it out.
		close(releaseBlocker)
		select {
		case <-victimIn:
			entered = true
		case <-time.After(3 * time.Second):
		}
	}
	err := q.Delete(victim)
	close(releaseVictim)
	if !entered {
		t.Fatal("setup: the victim was not attempted during Delete")
	}
	eventually(t, 5*time.Second, "both outcomes", func() bool { return d.nFinished() == 2 })
	_, fin := d.snapshot()
	if err == nil {
		t.Fatalf("Delete returned nil while the job was being attempted (want store.ErrBusy); the deleted job was then reported %v", fin[victim].Verdict)
	}
	if !errors.Is(err, store.ErrBusy) {
		t.Fatalf("Delete: %v, want store.ErrBusy", err)
	}
}

// TestReview2CloseTwice: Close guards close(q.stop) with q.closed but closes
// q.finishes unconditionally, so a second Close (a deferred Close after a
// Serve that already shut down, a test cleanup after an explicit Close)
// panics with "close of closed channel".
func TestReview2CloseTwice(t *testing.T) {
	review2Bug(t, "a second Close panics: close(q.finishes) is not guarded (durable.go:278)")
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
