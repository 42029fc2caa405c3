package queue

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Memory is an in-process queue: one buffered lane and one worker per
// target. Jobs do not survive a restart.
type Memory struct {
	d        Deliverer
	capacity int

	mu     sync.Mutex
	lanes  map[string]chan *Job
	closed bool
	nextID atomic.Uint64

	stop    chan struct{} // closed when draining must end
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

var _ Queue = (*Memory)(nil)

// NewMemory returns a queue holding up to capacity jobs per target.
func NewMemory(d Deliverer, capacity int) *Memory {
	ctx, cancel := context.WithCancel(context.Background())
	return &Memory{d: d, capacity: capacity, lanes: map[string]chan *Job{}, stop: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Enqueue implements Queue. It fails with ErrFull if any target's lane
// lacks room for its jobs, so either all jobs are taken or none.
func (q *Memory) Enqueue(jobs []*Job) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return ErrClosed
	}
	need := map[string]int{}
	for _, j := range jobs {
		need[j.Target]++
	}
	for target, n := range need {
		lane := q.laneLocked(target)
		if cap(lane)-len(lane) < n {
			return ErrFull
		}
	}
	for _, j := range jobs {
		j.ID = q.nextID.Add(1)
		q.lanes[j.Target] <- j // cannot block: room checked under the lock
	}
	return nil
}

func (q *Memory) laneLocked(target string) chan *Job {
	lane, ok := q.lanes[target]
	if !ok {
		lane = make(chan *Job, q.capacity)
		q.lanes[target] = lane
		q.workers.Add(1)
		go q.work(lane)
	}
	return lane
}

// Close implements Queue.
func (q *Memory) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		for _, lane := range q.lanes {
			close(lane)
		}
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		close(q.stop)
		q.cancel()
		<-done
		return ctx.Err()
	}
}

func (q *Memory) work(lane chan *Job) {
	defer q.workers.Done()
	for job := range lane {
		q.deliver(job)
	}
}

// deliver runs a job's attempts until it is delivered, fails permanently,
// runs out of attempts, or the queue stops.
func (q *Memory) deliver(job *Job) {
	for {
		pol, ok := q.d.Policy(job.Target)
		if !ok {
			q.d.Finished(job, notify.Failed(notify.ReasonTargetRemoved, "target removed"))
			return
		}
		ctx, cancel := context.WithTimeout(q.ctx, pol.Timeout)
		res := q.d.Attempt(ctx, job)
		cancel()
		job.Attempts++
		if res.Verdict != notify.Retry {
			q.d.Finished(job, res)
			return
		}
		if job.Attempts >= pol.Attempts {
			res.Verdict = notify.Permanent
			res.Message = "attempts exhausted; last error: " + res.Message
			q.d.Finished(job, res)
			return
		}
		wait := res.RetryAfter
		if wait <= 0 {
			wait = notify.Backoff(job.Attempts, pol.Interval, pol.MaxInterval)
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-q.stop:
			t.Stop()
			q.d.Finished(job, notify.Failed(notify.ReasonDeadline, "shut down before delivery (in-memory queue)"))
			return
		}
	}
}
