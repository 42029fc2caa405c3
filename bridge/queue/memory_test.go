package queue

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// scripted is a Deliverer whose attempts answer from a per-target script.
type scripted struct {
	mu       sync.Mutex
	policy   map[string]Policy
	script   map[string][]notify.Result
	attempts map[string]int
	finished chan finished
	block    map[string]chan struct{}
}

type finished struct {
	job *Job
	res notify.Result
}

func newScripted() *scripted {
	return &scripted{policy: map[string]Policy{}, script: map[string][]notify.Result{},
		attempts: map[string]int{}, finished: make(chan finished, 100), block: map[string]chan struct{}{}}
}

func (s *scripted) Policy(target string) (Policy, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.policy[target]
	return p, ok
}

func (s *scripted) Attempt(ctx context.Context, job *Job) notify.Result {
	s.mu.Lock()
	block := s.block[job.Target]
	s.attempts[job.Target]++
	var r notify.Result
	if sc := s.script[job.Target]; len(sc) > 0 {
		r, s.script[job.Target] = sc[0], sc[1:]
	}
	s.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return notify.Retryable(notify.ReasonDeadline, 0, "cancelled")
		}
	}
	return r
}

func (s *scripted) Finished(job *Job, r notify.Result) { s.finished <- finished{job, r} }

func (s *scripted) wait(t *testing.T) finished {
	t.Helper()
	select {
	case f := <-s.finished:
		return f
	case <-time.After(10 * time.Second):
		t.Fatal("no job finished within 10s")
		return finished{}
	}
}

func job(target string) *Job { return &Job{Target: target, Group: &alert.Group{GroupKey: "g"}} }

var fast = Policy{Attempts: 3, Interval: time.Millisecond, MaxInterval: 2 * time.Millisecond, Timeout: time.Second}

func TestRetriesThenGivesUp(t *testing.T) {
	d := newScripted()
	d.policy["a"] = fast
	retry := notify.Retryable(notify.ReasonServerError, 0, "HTTP 500")
	d.script["a"] = []notify.Result{retry, retry, retry, notify.OK()}
	q := NewMemory(d, 10)
	defer q.Close(context.Background())
	if err := q.Enqueue([]*Job{job("a")}); err != nil {
		t.Fatal(err)
	}
	f := d.wait(t)
	if f.res.Verdict != notify.Permanent || f.job.Attempts != 3 {
		t.Errorf("after 3 failing attempts: %+v attempts %d", f.res, f.job.Attempts)
	}
}

func TestPermanentStopsImmediately(t *testing.T) {
	d := newScripted()
	d.policy["a"] = fast
	d.script["a"] = []notify.Result{notify.Failed(notify.ReasonAuthError, "HTTP 401")}
	q := NewMemory(d, 10)
	defer q.Close(context.Background())
	_ = q.Enqueue([]*Job{job("a")})
	if f := d.wait(t); f.res.Reason != notify.ReasonAuthError || f.job.Attempts != 1 {
		t.Errorf("got %+v after %d attempts", f.res, f.job.Attempts)
	}
}

func TestSlowTargetDoesNotDelayOthers(t *testing.T) {
	d := newScripted()
	d.policy["slow"] = Policy{Attempts: 1, Interval: time.Millisecond, MaxInterval: time.Millisecond, Timeout: time.Minute}
	d.policy["fast"] = fast
	d.block["slow"] = make(chan struct{})
	q := NewMemory(d, 10)
	if err := q.Enqueue([]*Job{job("slow"), job("fast")}); err != nil {
		t.Fatal(err)
	}
	if f := d.wait(t); f.job.Target != "fast" || f.res.Verdict != notify.Delivered {
		t.Errorf("first finished: %s %+v", f.job.Target, f.res)
	}
	close(d.block["slow"])
	d.wait(t)
	if err := q.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestFullLaneRejectsWholeBatch(t *testing.T) {
	d := newScripted()
	d.policy["a"] = fast
	d.policy["b"] = fast
	d.block["a"] = make(chan struct{})
	q := NewMemory(d, 2)
	defer func() { close(d.block["a"]); q.Close(context.Background()) }()
	// One job is taken by the worker, two fill the lane.
	for i := 0; i < 3; i++ {
		if err := q.Enqueue([]*Job{job("a")}); err != nil {
			// The worker may not have picked the first job yet; allow one retry.
			time.Sleep(10 * time.Millisecond)
			if err := q.Enqueue([]*Job{job("a")}); err != nil {
				t.Fatalf("enqueue %d: %v", i, err)
			}
		}
	}
	if err := q.Enqueue([]*Job{job("b"), job("a")}); err != ErrFull {
		t.Fatalf("over capacity: %v, want ErrFull", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.attempts["b"] != 0 {
		t.Error("job b was enqueued although the batch was rejected")
	}
}

func TestRemovedTargetAndClosed(t *testing.T) {
	d := newScripted()
	q := NewMemory(d, 10)
	_ = q.Enqueue([]*Job{job("gone")})
	if f := d.wait(t); f.res.Reason != notify.ReasonTargetRemoved {
		t.Errorf("got %+v", f.res)
	}
	if err := q.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := q.Enqueue([]*Job{job("gone")}); err != ErrClosed {
		t.Errorf("enqueue after close: %v", err)
	}
}
