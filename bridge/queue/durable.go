package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// WorkersPerTarget bounds concurrent attempts to one target.
const WorkersPerTarget = 16

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

	busy sync.Map // job id -> struct{}: being attempted or finishing

	// Outcomes are committed in batches by one goroutine: a delivery
	// costs no fsync of its own. A crash before the commit means the job
	// is sent again after restart (at least once).
	finishes      chan finishReq
	committerDone chan struct{}

	hot *hotGroups

	stop    chan struct{}
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// NewDurable returns a queue over db. Call Resume once to schedule the
// jobs a previous run left pending.
func NewDurable(db *store.DB, d Deliverer) *Durable {
	ctx, cancel := context.WithCancel(context.Background())
	q := &Durable{db: db, d: d, lanes: map[string]*lane{}, stop: make(chan struct{}), ctx: ctx, cancel: cancel,
		finishes: make(chan finishReq, maxFinishBatch), committerDone: make(chan struct{}),
		hot: newHotGroups(hotGroupsMax)}
	go q.commitFinishes()
	return q
}

// hotGroupsMax bounds the groups kept in memory for immediate delivery.
const hotGroupsMax = 256

// maxFinishBatch bounds the outcomes committed in one transaction.
const maxFinishBatch = 1024

type finishReq struct {
	op  store.FinishOp
	job *Job
	res notify.Result
}

// commitFinishes writes job outcomes in batches until the channel closes.
func (q *Durable) commitFinishes() {
	defer close(q.committerDone)
	batch := make([]finishReq, 0, maxFinishBatch)
	ops := make([]store.FinishOp, 0, maxFinishBatch)
	for first := range q.finishes {
		batch = append(batch[:0], first)
	drain:
		for len(batch) < maxFinishBatch {
			select {
			case r, ok := <-q.finishes:
				if !ok {
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		ops = ops[:0]
		for _, r := range batch {
			ops = append(ops, r.op)
		}
		err := q.db.FinishAll(ops)
		for _, r := range batch {
			q.busy.Delete(r.op.ID)
			if err == nil {
				q.d.Finished(r.job, r.res)
			}
		}
	}
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
	build := req.Build
	var built []store.NewJob
	req.Build = func(seen []alert.Seen) (*alert.Group, []store.NewJob, error) {
		g, jobs, err := build(seen)
		built = jobs // the last call is the one committed
		return g, jobs, err
	}
	acc, err := q.db.Accept(req)
	if err != nil {
		return nil, err
	}
	for i, j := range acc.Jobs {
		if i < len(built) {
			q.hot.put(j.ID, built[i].Group)
		}
	}
	for _, old := range acc.Superseded {
		q.unschedule(old)
		q.d.Superseded(old.Target)
	}
	for _, j := range acc.Jobs {
		q.schedule(j)
	}
	return acc, nil
}

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
		q.unschedule(j)
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
	q.lane(j.Target).add(entry{id: j.ID, groupKey: j.GroupKey, due: due, created: j.CreatedAt, sent: j.Sent})
}

// unschedule drops a pending job from its target's lane.
func (q *Durable) unschedule(j *store.Job) {
	q.mu.Lock()
	l, ok := q.lanes[j.Target]
	q.mu.Unlock()
	if ok {
		l.remove(j.ID)
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
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		q.cancel()
		<-done
		err = ctx.Err()
	}
	q.cancel()
	close(q.finishes) // workers are gone: nothing sends any more
	<-q.committerDone
	return err
}

func (q *Durable) work(l *lane) {
	defer q.workers.Done()
	for {
		e, ok := l.next(q.stop)
		if !ok {
			return
		}
		q.busy.Store(e.id, struct{}{})
		if !q.attempt(l, e) {
			q.busy.Delete(e.id)
		}
		l.done(e.groupKey)
	}
}

// attempt runs one attempt of a scheduled job and records the outcome. It
// returns true when the job went to the committer, which then releases it.
func (q *Durable) attempt(l *lane, e entry) bool {
	sj, err := q.db.Pending(e.id)
	if err != nil {
		return false // superseded, deleted or finished meanwhile
	}
	pol, ok := q.d.Policy(l.target)
	if !ok {
		return q.finish(sj, nil, notify.Failed(notify.ReasonTargetRemoved, "target removed"))
	}
	now := time.Now()
	if pol.MaxAge > 0 && now.Sub(sj.CreatedAt) > pol.MaxAge {
		return q.finish(sj, nil, notify.Failed(notify.ReasonAttemptsExceeded, "older than max_age %s", pol.MaxAge))
	}
	g, hot := q.hot.take(e.id)
	if !hot {
		g, err = q.db.Payload(e.id)
	}
	if err != nil {
		return q.finish(sj, nil, notify.Failed(notify.ReasonTemplateError, "loading payload: %v", err))
	}
	var pace func(context.Context) error
	if pol.Rate > 0 {
		configureLimiter(l.limiter, pol.Rate, pol.Burst)
		if err := l.limiter.Wait(q.ctx); err != nil {
			l.add(e) // shutting down: keep it scheduled (it stays pending on disk)
			return false
		}
		pace = l.limiter.Wait
	} else if l.limiter.Limit() != pol.Rate {
		l.limiter.SetLimit(rate.Inf)
	}
	job := &Job{
		ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, Group: g, EnqueuedAt: sj.CreatedAt, Attempts: sj.Attempts,
		Sent: e.sent, Pace: pace, Timeout: pol.Timeout,
	}
	res := q.d.Attempt(q.ctx, job)
	attempts := sj.Attempts + 1
	switch res.Verdict {
	case notify.Delivered:
		l.succeeded()
		sj.Attempts = attempts
		return q.finish(sj, job, res)
	case notify.Permanent:
		sj.Attempts = attempts
		return q.finish(sj, job, res)
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
		return q.finish(sj, job, res)
	}
	// No longer busy: from here a newer notification may supersede it,
	// either in its own transaction (then Reschedule finds nothing) or in
	// Reschedule's.
	q.busy.Delete(e.id)
	superseded, err := q.db.Reschedule(sj.ID, attempts, res.Sent, next, string(res.Reason), res.Message, time.Now())
	if err != nil {
		// Superseded meanwhile (ErrNotFound; Accept counted it), or the
		// store is gone (shutdown) and the job stays pending on disk.
		return false
	}
	if superseded {
		q.d.Superseded(l.target)
		return false
	}
	l.add(entry{id: e.id, groupKey: e.groupKey, due: next, created: e.created, sent: res.Sent})
	// A reload may have removed the target during this attempt. Checking
	// after the add covers both orders: if the removal came first we see
	// it here; if it comes later, its hurry finds the entry in the lane.
	if _, ok := q.d.Policy(l.target); !ok {
		l.hurry()
	}
	return false
}

func (q *Durable) finish(sj *store.Job, job *Job, res notify.Result) bool {
	state := store.StateDelivered
	if res.Verdict != notify.Delivered {
		state = store.StateDead
	}
	if job == nil {
		job = &Job{ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, EnqueuedAt: sj.CreatedAt}
	}
	job.Attempts = sj.Attempts
	q.finishes <- finishReq{
		op:  store.FinishOp{ID: sj.ID, State: state, Attempts: sj.Attempts, Reason: string(res.Reason), Msg: res.Message, Now: time.Now()},
		job: job, res: res,
	}
	return true
}

// Removed tells the queue that target no longer exists: its waiting jobs
// are looked at now and become dead letters (reason targetRemoved) instead
// of waiting out their backoff.
func (q *Durable) Removed(target string) {
	q.mu.Lock()
	l, ok := q.lanes[target]
	q.mu.Unlock()
	if ok {
		l.hurry()
	}
}

// LaneState describes one target's lane for status pages and metrics.
type LaneState struct {
	Depth       int
	PausedUntil time.Time
	// Oldest is when the oldest waiting job was accepted (zero if none).
	Oldest time.Time
}

// Lane reports the state of a target's lane (zero if it has none yet).
func (q *Durable) Lane(target string) LaneState {
	q.mu.Lock()
	l, ok := q.lanes[target]
	q.mu.Unlock()
	if !ok {
		return LaneState{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := LaneState{Depth: len(l.items) - len(l.removed)}
	for _, e := range l.items {
		if !l.removed[e.id] && (st.Oldest.IsZero() || e.created.Before(st.Oldest)) {
			st.Oldest = e.created
		}
	}
	if time.Now().Before(l.pausedUntil) {
		st.PausedUntil = l.pausedUntil
	}
	return st
}
