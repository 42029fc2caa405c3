package queue

import (
	"testing"
	"time"
)

func TestLaneOrderAndGroupSerialization(t *testing.T) {
	l := newLane("x")
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
	l.done("a")
	if e, _ := l.next(stop); e.id != 2 {
		t.Fatalf("third = %+v, want id 2 after group a is released", e)
	}
}

func TestLaneSkipsRemovedAndStops(t *testing.T) {
	l := newLane("x")
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

func TestLanePauseHoldsDueJobs(t *testing.T) {
	l := newLane("x")
	l.failed(time.Hour)
	l.add(entry{id: 1, groupKey: "a"})
	stop := make(chan struct{})
	got := make(chan entry, 1)
	go func() {
		if e, ok := l.next(stop); ok {
			got <- e
		}
	}()
	select {
	case e := <-got:
		t.Fatalf("paused lane handed out %+v", e)
	case <-time.After(100 * time.Millisecond):
	}
	close(stop)
	if l.consecutiveFailures() != 1 {
		t.Errorf("failures = %d", l.consecutiveFailures())
	}
	l.succeeded()
	if l.consecutiveFailures() != 0 {
		t.Error("success did not reset the failure count")
	}
}
