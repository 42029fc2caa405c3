package queue

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// WorkersPerTarget bounds concurrent attempts to one target.
const WorkersPerTarget = 4

// MaxRetryAfter caps the wait a target may ask for (Retry-After and
// similar), so a broken header cannot park a lane for days.
const MaxRetryAfter = time.Hour

// ErrClosed means the queue is shutting down.
var ErrClosed = errors.New("delivery queue is closed")

// Durable schedules the jobs kept in a store.DB.
type Durable struct {
	db *store.DB
	d  Deliverer

	mu     sync.Mutex
	lanes  map[string]*lane
	closed bool

	busy       sync.Map // job id -> struct{}: being attempted
	superseded atomic.Int64

	stop    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// NewDurable returns a queue over db. Call Resume once to schedule the
// jobs a previous run left pending.
func NewDurable(db *store.DB, d Deliverer) *Durable {
	ctx, cancel := context.WithCancel(context.Background())
	return &Durable{db: db, d: d, lanes: map[string]*lane{}, stop: make(chan struct{}), ctx: ctx, cancel: cancel}
}

// Resume schedules every pending job in the store.
func (q *Durable) Resume() (int, error) {
	n := 0
	err := q.db.ForEachPending(func(j *store.Job) error {
		q.schedule(j)
		n++
		return nil
	})
	return n, err
}

// Accept persists a notification (see store.DB.Accept) and schedules its
// jobs. After a nil error the jobs are on disk.
func (q *Durable) Accept(req store.AcceptRequest) (*store.Acceptance, error) {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	req.Busy = q.isBusy
	acc, err := q.db.Accept(req)
	if err != nil {
		return nil, err
	}
	for _, id := range acc.Superseded {
		q.superseded.Add(1)
		q.unschedule(id)
	}
	for _, j := range acc.Jobs {
		q.schedule(j)
	}
	return acc, nil
}

// Superseded counts notifications replaced before they were attempted.
func (q *Durable) Superseded() int64 { return q.superseded.Load() }

// Depth returns the number of scheduled jobs per target.
func (q *Durable) Depth() map[string]int {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]int, len(q.lanes))
	for name, l := range q.lanes {
		out[name] = l.depth()
	}
	return out
}

// Retry moves a dead letter back to pending and schedules it.
func (q *Durable) Retry(id uint64) (*store.Job, error) {
	j, err := q.db.Requeue(id, time.Now())
	if err != nil {
		return nil, err
	}
	q.schedule(j)
	return j, nil
}

// Delete removes a job; a pending one is unscheduled first.
func (q *Durable) Delete(id uint64) error {
	j, err := q.db.Get(id)
	if err != nil {
		return err
	}
	if err := q.db.Delete(id, q.isBusy); err != nil {
		return err
	}
	if j.State == store.StatePending {
		q.unschedule(id)
	}
	return nil
}

func (q *Durable) isBusy(id uint64) bool {
	_, ok := q.busy.Load(id)
	return ok
}

func (q *Durable) lane(target string) *lane {
	q.mu.Lock()
	defer q.mu.Unlock()
	l, ok := q.lanes[target]
	if !ok {
		l = newLane(target)
		q.lanes[target] = l
		if !q.closed {
			for i := 0; i < WorkersPerTarget; i++ {
				q.workers.Add(1)
				go q.work(l)
			}
		}
	}
	return l
}

func (q *Durable) schedule(j *store.Job) {
	due := j.NextAttempt
	if due.IsZero() {
		due = j.CreatedAt
	}
	q.lane(j.Target).add(entry{id: j.ID, groupKey: j.GroupKey, due: due})
}

func (q *Durable) unschedule(id uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, l := range q.lanes {
		l.remove(id)
	}
}

// Close stops taking jobs, lets in-flight attempts finish until ctx ends,
// then cancels them. Jobs not attempted stay pending in the store for the
// next start.
func (q *Durable) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.stop)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.workers.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel()
		<-done
		return ctx.Err()
	}
}

func (q *Durable) work(l *lane) {
	defer q.workers.Done()
	for {
		e, ok := l.next(q.stop)
		if !ok {
			return
		}
		q.busy.Store(e.id, struct{}{})
		q.attempt(l, e)
		q.busy.Delete(e.id)
		l.done(e.groupKey)
	}
}

// attempt runs one attempt of a scheduled job and records the outcome.
func (q *Durable) attempt(l *lane, e entry) {
	sj, err := q.db.Get(e.id)
	if err != nil || sj.State != store.StatePending {
		return // superseded, deleted or finished meanwhile
	}
	pol, ok := q.d.Policy(l.target)
	if !ok {
		q.finish(sj, nil, notify.Failed(notify.ReasonTargetRemoved, "target removed"))
		return
	}
	now := time.Now()
	if pol.MaxAge > 0 && now.Sub(sj.CreatedAt) > pol.MaxAge {
		q.finish(sj, nil, notify.Failed(notify.ReasonAttemptsExceeded, "older than max_age %s", pol.MaxAge))
		return
	}
	g, err := q.db.Payload(e.id)
	if err != nil {
		q.finish(sj, nil, notify.Failed(notify.ReasonTemplateError, "loading payload: %v", err))
		return
	}
	if pol.Rate > 0 {
		if l.limiter.Limit() != pol.Rate || l.limiter.Burst() != pol.Burst {
			l.limiter.SetLimit(pol.Rate)
			l.limiter.SetBurst(pol.Burst)
		}
		if err := l.limiter.Wait(q.ctx); err != nil {
			l.add(e) // shutting down: keep it scheduled (it stays pending on disk)
			return
		}
	} else if l.limiter.Limit() != pol.Rate {
		l.limiter.SetLimit(rate.Inf)
	}
	job := &Job{ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, Group: g, EnqueuedAt: sj.CreatedAt, Attempts: sj.Attempts}
	ctx, cancel := context.WithTimeout(q.ctx, pol.Timeout)
	res := q.d.Attempt(ctx, job)
	cancel()
	attempts := sj.Attempts + 1
	switch res.Verdict {
	case notify.Delivered:
		l.succeeded()
		sj.Attempts = attempts
		q.finish(sj, job, res)
		return
	case notify.Permanent:
		sj.Attempts = attempts
		q.finish(sj, job, res)
		return
	}
	wait := min(res.RetryAfter, MaxRetryAfter)
	if wait <= 0 {
		wait = notify.Backoff(l.consecutiveFailures()+1, pol.Interval, pol.MaxInterval)
	}
	l.failed(wait)
	next := time.Now().Add(wait)
	if attempts >= pol.Attempts || (pol.MaxAge > 0 && next.Sub(sj.CreatedAt) > pol.MaxAge) {
		sj.Attempts = attempts
		res.Verdict = notify.Permanent
		res.Message = "retries exhausted; last error: " + res.Message
		q.finish(sj, job, res)
		return
	}
	// No longer busy: from here a newer notification may supersede it,
	// either in its own transaction (then Reschedule finds nothing) or in
	// Reschedule's.
	q.busy.Delete(e.id)
	superseded, err := q.db.Reschedule(sj.ID, attempts, next, string(res.Reason), res.Message, time.Now())
	if err != nil {
		// Superseded meanwhile (ErrNotFound; Accept counted it), or the
		// store is gone (shutdown) and the job stays pending on disk.
		return
	}
	if superseded {
		q.superseded.Add(1)
		return
	}
	l.add(entry{id: e.id, groupKey: e.groupKey, due: next})
}

func (q *Durable) finish(sj *store.Job, job *Job, res notify.Result) {
	state := store.StateDelivered
	if res.Verdict != notify.Delivered {
		state = store.StateDead
	}
	if err := q.db.Finish(sj.ID, state, sj.Attempts, string(res.Reason), res.Message, time.Now()); err != nil {
		return // store closed: the job stays pending and is retried on the next start
	}
	if job == nil {
		job = &Job{ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, EnqueuedAt: sj.CreatedAt, Attempts: sj.Attempts}
	}
	job.Attempts = sj.Attempts
	q.d.Finished(job, res)
}
