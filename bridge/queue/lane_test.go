package queue

import (
	"testing"
	"time"
)

// takeNow is next without blocking, for tests.
func takeNow(l *lane) (entry, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, _, ok := l.take(time.Now())
	return e, ok
}

func TestLaneOrderAndGroupSerialization(t *testing.T) {
	l := newLane("x", time.Second)
	now := time.Now()
	l.add(entry{id: 3, groupKey: "b", due: now.Add(-time.Second)})
	l.add(entry{id: 1, groupKey: "a", due: now.Add(-time.Second)})
	l.add(entry{id: 2, groupKey: "a", due: now.Add(-time.Second)})
	stop := make(chan struct{})
	e, ok := l.next(stop)
	if !ok || e.id != 1 {
		t.Fatalf("first = %+v, want id 1 (same due time: acceptance order)", e)
	}
	// Group a is active: id 2 must wait although it is due; id 3 goes.
	if e, _ := l.next(stop); e.id != 3 {
		t.Fatalf("second = %+v, want id 3 while group a is busy", e)
	}
	if e, ok := takeNow(l); ok {
		t.Fatalf("handed out %+v while its group is in flight", e)
	}
	l.settle(1, "a", nil)
	if e, _ := l.next(stop); e.id != 2 {
		t.Fatalf("third = %+v, want id 2 after group a is released", e)
	}
}

func TestLaneSkipsRemovedAndStops(t *testing.T) {
	l := newLane("x", time.Second)
	l.add(entry{id: 1, groupKey: "a"})
	l.add(entry{id: 2, groupKey: "b"})
	l.remove(1)
	if d := l.depth(); d != 1 {
		t.Errorf("depth %d, want 1", d)
	}
	stop := make(chan struct{})
	if e, _ := l.next(stop); e.id != 2 {
		t.Fatalf("got %+v, want id 2 (1 was removed)", e)
	}
	done := make(chan bool)
	go func() { _, ok := l.next(stop); done <- ok }()
	close(stop)
	select {
	case ok := <-done:
		if ok {
			t.Error("next returned a job from an empty lane")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("next did not return after stop")
	}
}

// TestLaneRemovedInFlightIsNotRequeued: a job superseded while its
// attempt runs leaves the lane when the attempt settles.
func TestLaneRemovedInFlightIsNotRequeued(t *testing.T) {
	l := newLane("x", time.Second)
	l.add(entry{id: 1, groupKey: "a"})
	e, _ := takeNow(l)
	l.remove(e.id)
	next := e
	next.due = time.Now()
	l.settle(e.id, e.groupKey, &next)
	if d := l.depth(); d != 0 {
		t.Errorf("depth %d after the removed job settled, want 0", d)
	}
}

// TestLaneDepthCountsInFlight: a job handed out (in flight, or waiting for
// the rate limiter) still counts as waiting, and so does its age.
func TestLaneDepthCountsInFlight(t *testing.T) {
	l := newLane("x", time.Second)
	created := time.Now().Add(-time.Minute)
	l.add(entry{id: 1, groupKey: "a", created: created})
	l.add(entry{id: 2, groupKey: "b", created: time.Now(), due: time.Now().Add(time.Hour)})
	if _, ok := takeNow(l); !ok {
		t.Fatal("nothing due")
	}
	st := l.state(time.Now())
	if st.Depth != 2 || st.InFlight != 1 || !st.Oldest.Equal(created) {
		t.Errorf("state %+v: want depth 2, 1 in flight, oldest the job in flight", st)
	}
}

// TestLaneFailureDoesNotPause: a failed attempt backs off its job only;
// other due jobs go on at once (the lane pause design held them all).
func TestLaneFailureDoesNotPause(t *testing.T) {
	l := newLane("x", time.Second)
	l.add(entry{id: 1, groupKey: "a"})
	l.add(entry{id: 2, groupKey: "b"})
	e, _ := takeNow(l)
	l.observe(resultDown, e.probe, 0)
	next := e
	next.due = time.Now().Add(time.Hour)
	l.settle(e.id, e.groupKey, &next)
	if e, ok := takeNow(l); !ok || e.id != 2 {
		t.Fatalf("after a failure got %+v %v, want job 2 at once", e, ok)
	}
	if st := l.state(time.Now()); !st.PausedUntil.IsZero() || st.Breaker != BreakerClosed {
		t.Errorf("one failure paused the lane: %+v", st)
	}
}

// TestLaneThrottleHoldsDueJobs: a rate-limit answer pauses the whole
// target, without counting toward the breaker.
func TestLaneThrottleHoldsDueJobs(t *testing.T) {
	l := newLane("x", time.Second)
	l.add(entry{id: 1, groupKey: "a"})
	l.add(entry{id: 2, groupKey: "b"})
	e, _ := takeNow(l)
	l.observe(resultThrottled, e.probe, time.Hour)
	l.settle(e.id, e.groupKey, nil)
	if e, ok := takeNow(l); ok {
		t.Fatalf("paused lane handed out %+v", e)
	}
	st := l.state(time.Now())
	if time.Until(st.PausedUntil) < 59*time.Minute || st.Breaker != BreakerClosed {
		t.Errorf("state %+v: want paused for the hour asked, breaker closed", st)
	}
	if l.consecutiveThrottles() != 1 {
		t.Errorf("throttles = %d", l.consecutiveThrottles())
	}
	l.observe(resultUp, false, 0)
	if l.consecutiveThrottles() != 0 {
		t.Error("success did not reset the throttle count")
	}
}

// TestLaneSlowStart: a new lane runs startWindow attempts at once, and
// each success widens the window by one up to max_in_flight.
func TestLaneSlowStart(t *testing.T) {
	l := newLane("x", time.Second)
	l.configure(6)
	for i := 1; i <= 10; i++ {
		l.add(entry{id: uint64(i), groupKey: string(rune('a' + i))})
	}
	var got []entry
	for {
		e, ok := takeNow(l)
		if !ok {
			break
		}
		got = append(got, e)
	}
	if len(got) != startWindow {
		t.Fatalf("%d in flight at start, want %d", len(got), startWindow)
	}
	for _, e := range got {
		l.observe(resultUp, false, 0)
		l.settle(e.id, e.groupKey, nil)
	}
	n := 0
	for {
		if _, ok := takeNow(l); !ok {
			break
		}
		n++
	}
	if n != 6 {
		t.Errorf("%d in flight after 4 successes, want max_in_flight 6", n)
	}
}

// TestLaneRecoveryCatchesAttemptsInFlight: a job whose attempt failed
// while the target was down but settles after the breaker closed goes
// with the backlog, not after its own (long) backoff.
func TestLaneRecoveryCatchesAttemptsInFlight(t *testing.T) {
	l := newLane("x", time.Second)
	l.add(entry{id: 1, groupKey: "a"})
	e, _ := takeNow(l)
	time.Sleep(time.Millisecond)
	l.mu.Lock()
	l.recovered(time.Now())
	l.mu.Unlock()
	next := e
	next.due = time.Now().Add(time.Hour)
	l.settle(e.id, e.groupKey, &next)
	if e, ok := takeNow(l); !ok || e.id != 1 {
		t.Fatalf("job that failed during the outage not due after recovery: %+v %v", e, ok)
	}
}
