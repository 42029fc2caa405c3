// Package queue holds accepted delivery jobs and schedules their attempts:
// one lane per target, so a slow or dead target never delays another, with
// retries on the target's backoff schedule.
package queue

import (
	"context"
	"errors"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Job is one delivery of one group to one target.
type Job struct {
	ID         uint64
	Target     string
	Group      *alert.Group
	EnqueuedAt time.Time
	// Attempts made so far.
	Attempts int
}

// Policy is a target's delivery schedule.
type Policy struct {
	Attempts    int
	Interval    time.Duration
	MaxInterval time.Duration
	// Timeout bounds one attempt.
	Timeout time.Duration
}

// Deliverer performs attempts for the queue. Implementations resolve the
// target by name at attempt time, so a reload applies to waiting jobs.
type Deliverer interface {
	// Policy returns the target's schedule; false means the target no
	// longer exists.
	Policy(target string) (Policy, bool)
	// Attempt makes one delivery attempt.
	Attempt(ctx context.Context, job *Job) notify.Result
	// Finished reports a job's final outcome (delivered or given up).
	Finished(job *Job, r notify.Result)
}

// Queue accepts jobs and delivers them in the background.
type Queue interface {
	// Enqueue accepts all jobs or none. After a nil return the queue owns
	// their delivery.
	Enqueue(jobs []*Job) error
	// Close stops accepting jobs and waits, until ctx ends, for queued jobs
	// to finish; in-flight attempts are then cancelled.
	Close(ctx context.Context) error
}

// ErrFull means the queue cannot take more jobs now; the caller should
// answer 503 so Alertmanager retries.
var ErrFull = errors.New("delivery queue is full")

// ErrClosed means the queue is shutting down.
var ErrClosed = errors.New("delivery queue is closed")
