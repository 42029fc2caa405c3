// Package queue schedules the delivery jobs kept in the store: one lane
// per target, so a slow or dead target never delays another; bounded
// concurrency per lane (max_in_flight, reached by slow start); one job at
// a time per alert group, so a channel sees firing before resolved; a
// failed attempt backs off its own job only (jittered, capped), while the
// target pauses only on target-wide signals: the waits it asks for (429,
// Retry-After, platform rate-limit codes) and a circuit breaker that
// opens on sustained failure and probes one attempt at a time; a
// token-bucket rate limit per target; and dead letters when max_age (or
// attempts, when set) run out. A job whose state cannot be written stays
// scheduled in memory and is tried again; nothing leaves a lane silently.
package queue

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// Job is one delivery attempt's view of a stored job.
type Job struct {
	ID       uint64
	Target   string
	GroupKey string
	// Group is nil when the job ended before its payload was loaded.
	Group      *alert.Group
	EnqueuedAt time.Time
	// Attempts made before this one.
	Attempts int
	// Sent counts the messages of this job earlier attempts delivered.
	Sent int
	// Pace waits for the target's rate limit before each further message of
	// a multi-message notification (nil: unlimited). The queue already
	// waited for the first.
	Pace func(context.Context) error
	// Timeout bounds each request.
	Timeout time.Duration
}

// Policy is a target's delivery schedule.
type Policy struct {
	// Attempts bounds the attempts of a job; 0 means no bound (MaxAge
	// decides).
	Attempts int
	// Interval is the first retry's backoff, doubled per attempt up to
	// MaxInterval, with jitter.
	Interval    time.Duration
	MaxInterval time.Duration
	// MaxAge is how long a job may wait in all; older ones become dead
	// letters.
	MaxAge time.Duration
	// Timeout bounds each request of an attempt.
	Timeout time.Duration
	// Rate and Burst are the token bucket; Rate 0 means unlimited.
	Rate  rate.Limit
	Burst int
	// MaxInFlight bounds concurrent attempts to the target (0: the
	// default).
	MaxInFlight int
}

// Deliverer performs attempts for the queue. Implementations resolve the
// target by name at attempt time, so a reload applies to waiting jobs.
type Deliverer interface {
	// Policy returns the target's schedule; false means the target no
	// longer exists.
	Policy(target string) (Policy, bool)
	// Attempt makes one delivery attempt.
	Attempt(ctx context.Context, job *Job) notify.Result
	// Finished reports a job's final outcome (delivered or dead).
	Finished(job *Job, r notify.Result)
	// Superseded reports that a waiting job of target was replaced by a
	// newer notification of the same group.
	Superseded(target string)
	// BreakerChanged reports a change of target's circuit breaker (once
	// per transition, not per attempt).
	BreakerChanged(target string, t Transition)
	// Rebuild makes the group a job of target delivers from its stored
	// notification, when the group is no longer held in memory.
	Rebuild(target string, n *store.Notification) (*alert.Group, error)
	// StoreError reports a failure to read or write a job's state (op is
	// "read", "reschedule" or "finish"). The job stays scheduled in
	// memory and is tried again; retry says when, at the earliest.
	StoreError(job *Job, op string, err error, retry time.Duration)
}

// Store is what the queue needs of the job store: store.Queue, whose
// doc comments are the contract every engine keeps (store.DB implements
// it; tests wrap it to inject faults).
type Store interface {
	store.Queue
}

var _ Store = (*store.DB)(nil)

// LaneState describes one target's lane for status pages and metrics.
type LaneState struct {
	// Depth counts every waiting job: scheduled, waiting for the rate
	// limit or in flight.
	Depth    int
	InFlight int
	// PausedUntil is when the target may be tried again, if it asked to
	// wait or its breaker is open (zero otherwise).
	PausedUntil time.Time
	// Oldest is when the oldest waiting job was accepted (zero if none).
	Oldest       time.Time
	Breaker      BreakerState
	BreakerSince time.Time
}
