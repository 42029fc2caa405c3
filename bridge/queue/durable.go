package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// lastAttemptGrace is how late past max_age a job's last attempt, due
// when max_age runs out, may start (a busy lane may hand it out late).
const lastAttemptGrace = 10 * time.Second

// MaxRetryAfter caps the wait a target may ask for (Retry-After and
// similar), so a broken header cannot park a lane for days.
const MaxRetryAfter = time.Hour

// Waits after a failure to read or write a job's state: doubling from
// storeRetryBase up to storeRetryMax, with jitter.
const (
	storeRetryBase = time.Second
	storeRetryMax  = 30 * time.Second
)

// ResumeSpread is the longest stretch over which the jobs a previous run
// left overdue are spread at startup, so a restart during an outage does
// not fire them all at once.
const ResumeSpread = 2 * time.Second

// resumeStep is the widest gap between two resumed overdue jobs.
const resumeStep = 100 * time.Millisecond

// ErrClosed means the queue is shutting down.
var ErrClosed = errors.New("delivery queue is closed")

// Durable schedules the jobs kept in a Store.
type Durable struct {
	db Store
	d  Deliverer

	mu    sync.Mutex
	lanes map[string]*lane
	// owns tells whether this bridge delivers for a target (nil: all).
	owns      func(target string) bool
	closed    bool
	closeOnce sync.Once

	busy sync.Map // job id -> struct{}: being attempted or finishing

	// Outcomes are committed in batches by one goroutine: a delivery
	// costs no fsync of its own. A crash before the commit means the job
	// is sent again after restart (at least once).
	finishes      chan finishReq
	committerDone chan struct{}

	hot *hotGroups

	// probeEvery is the breaker's probe interval (tests shorten it).
	probeEvery time.Duration
	// storeRetry is the first wait after a store error (tests shorten it).
	storeRetry time.Duration

	stop chan struct{}
	// stopped ends with stop: waits for the rate limit end there.
	stopped     context.Context
	stopStopped context.CancelFunc
	// ctx ends when in-flight attempts must give up.
	ctx     context.Context
	cancel  context.CancelFunc
	workers sync.WaitGroup
}

// NewDurable returns a queue over db. Call Resume once to schedule the
// jobs a previous run left pending.
func NewDurable(db Store, d Deliverer) *Durable {
	ctx, cancel := context.WithCancel(context.Background())
	stopped, stopStopped := context.WithCancel(context.Background())
	q := &Durable{stopped: stopped, stopStopped: stopStopped, db: db, d: d, lanes: map[string]*lane{}, stop: make(chan struct{}), ctx: ctx, cancel: cancel,
		finishes: make(chan finishReq, maxFinishBatch), committerDone: make(chan struct{}),
		hot: newHotGroups(hotGroupsMax), probeEvery: BreakerProbeInterval, storeRetry: storeRetryBase}
	go q.commitFinishes()
	return q
}

// hotGroupsMax bounds the groups kept in memory for immediate delivery.
const hotGroupsMax = 256

// resumeReason is the breaker's reason for a resumed failing target.
func resumeReason(n int) string {
	return fmt.Sprintf("resumed %d jobs whose last attempt failed; probing before sending the rest", n)
}

// Resume schedules every pending job in the store at its stored due time.
// Jobs already due are spread over up to ResumeSpread per target, in the
// order they were due, so a restart does not burst them at the target.
func (q *Durable) Resume() (int, error) {
	return q.resume(func(*store.Job) bool { return true })
}

// resume schedules the pending jobs keep selects (see resumeJobs) and
// returns how many.
func (q *Durable) resume(keep func(*store.Job) bool) (int, error) {
	var jobs []*store.Job
	err := q.db.ForEachPending(func(j *store.Job) error {
		if keep(j) {
			jobs = append(jobs, j)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	q.resumeJobs(jobs, time.Now())
	return len(jobs), nil
}

func dueOf(j *store.Job) time.Time {
	if j.NextAttempt.IsZero() {
		return j.CreatedAt
	}
	return j.NextAttempt
}

// Accept persists a notification (see store.Queue.Accept) and schedules its
// jobs. After a nil error the jobs are on disk.
func (q *Durable) Accept(req store.AcceptRequest) (*store.Acceptance, error) {
	q.mu.Lock()
	closed := q.closed
	q.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	acc, err := q.db.Accept(req)
	if err != nil {
		return nil, err
	}
	// The store stamped the counters into the request's groups: they are
	// what it stored.
	for i, j := range acc.Jobs {
		if i < len(req.Jobs) {
			q.hot.put(j.ID, req.Jobs[i].Group)
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

// Retry moves a dead letter back to pending and schedules it.
// store.ErrSuperseded if its group has a newer notification for the
// target: an older state is never sent after a newer one.
func (q *Durable) Retry(id uint64) (*store.Job, error) {
	j, err := q.db.Requeue(id, time.Now())
	if err != nil {
		return nil, err
	}
	q.schedule(j)
	return j, nil
}

// Delete removes a job; a pending one is unscheduled first. store.ErrBusy
// if it is being attempted.
func (q *Durable) Delete(id uint64) error {
	j, err := q.db.Get(id)
	if err != nil {
		return err
	}
	if j.State != store.StatePending {
		return q.db.Delete(id)
	}
	// Take it out of its lane first, in one step with the check that no
	// attempt has it, so none can start between the check and the delete.
	q.mu.Lock()
	l, ok := q.lanes[j.Target]
	q.mu.Unlock()
	var e entry
	var claimed bool
	if ok {
		var busy bool
		if e, claimed, busy = l.claim(id); busy {
			return store.ErrBusy
		}
	}
	if q.isBusy(id) { // finishing: its outcome is being written
		if claimed {
			l.add(e)
		}
		return store.ErrBusy
	}
	if err := q.db.Delete(id); err != nil {
		if claimed {
			l.add(e) // still stored: still scheduled
		}
		return err
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
		l = newLane(target, q.probeEvery)
		l.report = func(t Transition) { q.d.BreakerChanged(target, t) }
		q.lanes[target] = l
		if !q.closed {
			q.workers.Add(1)
			go q.dispatch(l)
		}
	}
	return l
}

func (q *Durable) schedule(j *store.Job) { q.scheduleAt(j, dueOf(j)) }

func (q *Durable) scheduleAt(j *store.Job, due time.Time) {
	if !q.owned(j.Target) {
		return // another bridge delivers for the target
	}
	// The group key is copied: one decoded from a webhook payload may
	// share its memory with the whole payload, which a waiting job must
	// not keep alive (100k queued jobs would hold 600 MB of payloads).
	q.lane(j.Target).add(entry{id: j.ID, groupKey: strings.Clone(j.GroupKey), due: due, created: j.CreatedAt, sent: j.Sent, attempts: j.Attempts})
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
		q.stopStopped()
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
	q.closeOnce.Do(func() { close(q.finishes) }) // workers are gone: nothing sends any more
	<-q.committerDone
	return err
}

// dispatch starts the attempts of one lane, each in its own goroutine, as
// the lane lets them, until the queue stops.
func (q *Durable) dispatch(l *lane) {
	defer q.workers.Done()
	for {
		if pol, ok := q.d.Policy(l.target); ok {
			l.configure(pol.MaxInFlight)
		}
		e, ok := l.next(q.stop)
		if !ok {
			return
		}
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			q.busy.Store(e.id, l.target)
			q.attempt(l, e)
		}()
	}
}

// attempt runs one attempt of a job the lane handed out and settles it:
// it goes to the committer (delivered or dead), back into the lane with
// its next due time, or out of the lane when it is no longer pending.
func (q *Durable) attempt(l *lane, e entry) {
	sj, err := q.db.Pending(e.id)
	if errors.Is(err, store.ErrNotFound) {
		q.drop(l, e) // superseded, deleted or finished meanwhile
		return
	}
	if err != nil {
		q.keep(l, e, nil, "read", err, time.Time{})
		return
	}
	pol, ok := q.d.Policy(l.target)
	if !ok {
		l.observe(resultNone, e.probe, 0)
		q.finish(l, e, sj, nil, notify.Failed(notify.ReasonTargetRemoved, "target removed"))
		return
	}
	if pol.MaxAge > 0 && time.Since(sj.CreatedAt) > pol.MaxAge+lastAttemptGrace {
		l.observe(resultNone, e.probe, 0)
		q.finish(l, e, sj, nil, notify.Failed(notify.ReasonAttemptsExceeded, "older than max_age %s", pol.MaxAge))
		return
	}
	g, hot := q.hot.take(e.id)
	if !hot {
		n, err := q.db.Notification(sj.Notification)
		switch {
		case errors.Is(err, store.ErrNotFound):
			// Its last waiting job went meanwhile: this one was
			// superseded or deleted after it was read. If it is still
			// pending, its notification is missing: that is damage.
			if _, perr := q.db.Pending(e.id); errors.Is(perr, store.ErrNotFound) {
				q.drop(l, e)
				return
			}
			l.observe(resultNone, e.probe, 0)
			q.finish(l, e, sj, nil, notify.Failed(notify.ReasonTemplateError, "its stored notification is missing"))
			return
		case err != nil && !errors.Is(err, store.ErrCorrupt):
			// A read that may work next time (I/O, shutting down).
			q.keep(l, e, nil, "read", err, time.Time{})
			return
		case err == nil:
			g, err = q.d.Rebuild(sj.Target, n)
		}
		if err != nil {
			// Damaged, or no longer buildable: no retry can fix it.
			l.observe(resultNone, e.probe, 0)
			q.finish(l, e, sj, nil, notify.Failed(notify.ReasonTemplateError, "loading the notification: %v", err))
			return
		}
	}
	var pace func(context.Context) error
	if pol.Rate > 0 {
		configureLimiter(l.limiter, pol.Rate, max(pol.Burst, 1))
		if err := l.limiter.Wait(q.stopped); err != nil {
			// Shutting down: it stays pending on disk.
			q.busy.Delete(e.id)
			l.observe(resultNone, e.probe, 0)
			l.settle(e.id, e.groupKey, &e)
			return
		}
		pace = l.limiter.Wait
		if !q.owned(l.target) {
			// Another bridge delivers for the target now (the claim
			// moved while this attempt waited): it is left to that one.
			q.busy.Delete(e.id)
			l.observe(resultNone, e.probe, 0)
			l.settle(e.id, e.groupKey, nil)
			return
		}
	} else if l.limiter.Limit() != rate.Inf {
		l.limiter.SetLimit(rate.Inf)
	}
	job := &Job{
		ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, Group: g, EnqueuedAt: sj.CreatedAt, Attempts: max(sj.Attempts, e.attempts),
		Sent: e.sent, Pace: pace, Timeout: pol.Timeout,
	}
	res := q.d.Attempt(q.ctx, job)
	attempts := job.Attempts + 1
	sj.Attempts = attempts
	switch {
	case res.Verdict == notify.Delivered:
		l.observe(resultUp, e.probe, 0)
		q.finish(l, e, sj, job, res)
		return
	case res.Verdict == notify.Permanent:
		if res.Reason == notify.ReasonTargetRemoved {
			l.observe(resultNone, e.probe, 0)
		} else {
			l.observe(resultUp, e.probe, 0) // the target answered: this notification is refused
		}
		q.finish(l, e, sj, job, res)
		return
	}
	// A target-wide signal pauses the lane; any other failure backs off
	// this job only (and counts toward the breaker).
	var wait time.Duration
	switch {
	case q.ctx.Err() != nil:
		wait = notify.Backoff(attempts, pol.Interval, pol.MaxInterval)
		l.observe(resultNone, e.probe, 0) // cancelled by the shutdown
	case res.Reason == notify.ReasonRateLimited || res.RetryAfter > 0:
		wait = min(res.RetryAfter, MaxRetryAfter)
		if wait <= 0 {
			wait = notify.Backoff(l.consecutiveThrottles()+1, pol.Interval, pol.MaxInterval)
		}
		l.observe(resultThrottled, e.probe, wait)
	default:
		wait = notify.Backoff(attempts, pol.Interval, pol.MaxInterval)
		l.observe(resultDown, e.probe, 0)
	}
	now := time.Now()
	next := now.Add(max(wait, time.Millisecond))
	expired := false
	if deadline := sj.CreatedAt.Add(pol.MaxAge); pol.MaxAge > 0 && next.After(deadline) {
		// The backoff would outlast max_age: one last attempt when it
		// runs out, none after.
		expired = !now.Before(deadline)
		next = deadline
	}
	if (pol.Attempts > 0 && attempts >= pol.Attempts) || expired {
		res.Verdict = notify.Permanent
		res.Message = "retries exhausted; last error: " + res.Message
		q.finish(l, e, sj, job, res)
		return
	}
	// No longer busy: from here a newer notification may supersede it,
	// either in its own transaction (then Reschedule finds nothing) or in
	// Reschedule's.
	q.busy.Delete(e.id)
	superseded, err := q.db.Reschedule(sj.ID, attempts, res.Sent, next, string(res.Reason), res.Message, now)
	switch {
	case errors.Is(err, store.ErrNotFound):
		q.drop(l, e) // superseded meanwhile (Accept counted it) or deleted
		return
	case err != nil:
		e.attempts, e.sent = attempts, res.Sent
		q.keep(l, e, job, "reschedule", err, next)
		return
	case superseded:
		q.d.Superseded(l.target)
		q.drop(l, e)
		return
	}
	e.due, e.sent, e.attempts, e.storeErrors = next, res.Sent, attempts, 0
	l.settle(e.id, e.groupKey, &e)
	// A reload may have removed the target during this attempt. Checking
	// after the settle covers both orders: if the removal came first we
	// see it here; if it comes later, its hurry finds the entry in the
	// lane.
	if _, ok := q.d.Policy(l.target); !ok {
		l.hurry()
	}
}

// drop ends a job's life in the lane: it is no longer pending.
func (q *Durable) drop(l *lane, e entry) {
	q.busy.Delete(e.id)
	l.observe(resultNone, e.probe, 0)
	l.settle(e.id, e.groupKey, nil)
}

// keep puts back a job whose state could not be read or written: it
// stays scheduled in memory, due again after a store backoff (or at
// notBefore, when later), and the error is reported.
func (q *Durable) keep(l *lane, e entry, job *Job, op string, err error, notBefore time.Time) {
	q.busy.Delete(e.id)
	e.storeErrors++
	wait := notify.Backoff(e.storeErrors, q.storeRetry, storeRetryMax)
	e.due = later(time.Now().Add(wait), notBefore)
	if job == nil {
		job = &Job{ID: e.id, Target: l.target, GroupKey: e.groupKey, EnqueuedAt: e.created, Attempts: e.attempts, Sent: e.sent}
	}
	q.d.StoreError(job, op, err, time.Until(e.due))
	if op == "read" {
		l.observe(resultNone, e.probe, 0)
	}
	l.settle(e.id, e.groupKey, &e)
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

// Lane reports the state of a target's lane (a closed breaker and nothing
// waiting if it has none yet).
func (q *Durable) Lane(target string) LaneState {
	q.mu.Lock()
	l, ok := q.lanes[target]
	q.mu.Unlock()
	if !ok {
		return LaneState{Breaker: BreakerClosed}
	}
	return l.state(time.Now())
}
