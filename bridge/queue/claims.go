package queue

import (
	"context"
	"sort"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// Several bridges can share one store (the replicated engine): each
// target is then delivered by one bridge at a time, the one that claimed
// it, so one attempt per group is in flight and the target's rate limit
// holds across the fleet. A queue with an owner test (SetOwner) schedules
// only the jobs of targets it owns; the claimer adopts and releases
// targets as claims move, and Observe brings the jobs other bridges
// accepted or requeued.

// SetOwner makes the queue schedule only the jobs of targets for which
// owns is true (nil: every target, the default). Call it before Resume.
func (q *Durable) SetOwner(owns func(target string) bool) {
	q.mu.Lock()
	q.owns = owns
	q.mu.Unlock()
}

func (q *Durable) owned(target string) bool {
	q.mu.Lock()
	owns := q.owns
	q.mu.Unlock()
	return owns == nil || owns(target)
}

// Adopt schedules the pending jobs of target, which this bridge now
// delivers for (its claim was won), as Resume does at start; the owner
// test must already be true for it. It returns how many it scheduled.
func (q *Durable) Adopt(target string) (int, error) {
	q.lane(target).adopt()
	return q.resume(func(j *store.Job) bool { return j.Target == target })
}

// Release stops scheduling target's jobs (another bridge delivers them
// from now on) and waits until its attempts in flight have ended and
// their outcomes are written, or ctx ends.
func (q *Durable) Release(ctx context.Context, target string) error {
	q.mu.Lock()
	l, ok := q.lanes[target]
	q.mu.Unlock()
	if !ok {
		return nil
	}
	l.release()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for l.inFlight() > 0 || q.finishing(target) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
	return nil
}

// finishing reports whether an outcome of target is still being written.
func (q *Durable) finishing(target string) bool {
	busy := false
	q.busy.Range(func(_, v any) bool {
		if t, ok := v.(string); ok && t == target {
			busy = true
			return false
		}
		return true
	})
	return busy
}

// Observe applies what another bridge's write did to the pending jobs:
// jobs that became pending are scheduled if this bridge owns their
// target, jobs that are no longer pending are dropped. A change this
// bridge made (Local) is already known.
func (q *Durable) Observe(c store.Change) {
	if c.Reset {
		q.readopt()
		return
	}
	if c.Local {
		return
	}
	for _, j := range c.Gone {
		q.unschedule(j)
	}
	for _, j := range c.Pending {
		q.schedule(j)
	}
}

// readopt reads the pending jobs of every target this bridge owns
// again (the store was rebuilt and changes may have been missed); jobs
// already scheduled stay as they are, jobs no longer pending are dropped
// when their attempt finds them gone.
func (q *Durable) readopt() {
	q.mu.Lock()
	var owned []string
	for target := range q.lanes {
		if q.owns == nil || q.owns(target) {
			owned = append(owned, target)
		}
	}
	q.mu.Unlock()
	set := map[string]bool{}
	for _, t := range owned {
		set[t] = true
	}
	if _, err := q.resume(func(j *store.Job) bool { return set[j.Target] }); err != nil {
		for _, t := range owned {
			q.d.StoreError(&Job{Target: t}, "read", err, q.storeRetry)
		}
	}
}

// resumeJobs schedules jobs read from the store: due ones spread over up
// to ResumeSpread per target in the order they were due, later ones at
// their time, and a target whose jobs were failing probed first.
func (q *Durable) resumeJobs(jobs []*store.Job, now time.Time) {
	overdue := map[string][]*store.Job{}
	failing := map[string]int{}
	for _, j := range jobs {
		if j.Attempts > 0 {
			failing[j.Target]++
		}
		if due := dueOf(j); due.After(now) {
			q.scheduleAt(j, due)
		} else {
			overdue[j.Target] = append(overdue[j.Target], j)
		}
	}
	for _, js := range overdue {
		sort.SliceStable(js, func(a, b int) bool { return dueOf(js[a]).Before(dueOf(js[b])) })
		step := min(resumeStep, ResumeSpread/time.Duration(len(js)))
		for k, j := range js {
			q.scheduleAt(j, now.Add(time.Duration(k)*step))
		}
	}
	for target, n := range failing {
		if q.owned(target) {
			q.lane(target).suspect(resumeReason(n))
		}
	}
}
