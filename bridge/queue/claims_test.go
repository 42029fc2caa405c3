package queue

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// TestClaimsSchedule: a queue that owns no target schedules nothing of
// what it accepts; Observe brings another bridge's jobs once it owns the
// target; Adopt schedules what was waiting; Release stops it and waits
// for the attempt in flight; a Reset reads the owned targets' jobs again
// (writes it may have missed).
func TestClaimsSchedule(t *testing.T) {
	db := openStore(t, t.TempDir())
	release := make(chan struct{})
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond, MaxAge: time.Hour, Timeout: time.Second},
		func(job *Job, _ int) notify.Result {
			if job.GroupKey == "slow" {
				<-release
			}
			return ok
		})
	q := startQueue(t, db, d)
	var owns atomic.Bool
	q.SetOwner(func(string) bool { return owns.Load() })

	waiting := accept(t, q, "waiting") // accepted here while another bridge owns the target
	time.Sleep(50 * time.Millisecond)
	if got := d.nFinished(); got != 0 {
		t.Fatalf("%d jobs delivered for a target this queue does not own", got)
	}

	owns.Store(true)
	if n, err := q.Adopt(target); err != nil || n != 1 {
		t.Fatalf("Adopt: %d, %v; want the waiting job", n, err)
	}
	eventually(t, 5*time.Second, "the adopted job delivered", func() bool { _, f := d.snapshot(); _, ok := f[waiting]; return ok })

	// Another bridge's acceptance, observed.
	acc, err := db.Accept(acceptReq("remote"))
	if err != nil {
		t.Fatal(err)
	}
	q.Observe(store.Change{Pending: acc.Jobs})
	eventually(t, 5*time.Second, "the observed job delivered", func() bool { _, f := d.snapshot(); _, ok := f[acc.Jobs[0].ID]; return ok })

	// A write missed (not observed), found again by a Reset.
	missed, err := db.Accept(acceptReq("missed"))
	if err != nil {
		t.Fatal(err)
	}
	q.Observe(store.Change{Reset: true})
	eventually(t, 5*time.Second, "the missed job delivered", func() bool { _, f := d.snapshot(); _, ok := f[missed.Jobs[0].ID]; return ok })

	// Release waits for the attempt in flight, and nothing starts after.
	slow := accept(t, q, "slow")
	eventually(t, 5*time.Second, "the slow attempt started", func() bool { return q.Lane(target).InFlight == 1 })
	done := make(chan error, 1)
	go func() {
		owns.Store(false)
		done <- q.Release(context.Background(), target)
	}()
	select {
	case err := <-done:
		t.Fatalf("Release returned (%v) with an attempt in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	after := accept(t, q, "after")
	time.Sleep(50 * time.Millisecond)
	_, f := d.snapshot()
	if _, ok := f[slow]; !ok {
		t.Error("the attempt in flight at the release did not finish")
	}
	if _, ok := f[after]; ok {
		t.Error("a job was delivered after the target was released")
	}
}
