// Package queue schedules the delivery jobs kept in the store: one lane
// per target, so a slow or dead target never delays another; bounded
// concurrency per lane; one job at a time per alert group, so a channel
// sees firing before resolved; retries on the target's backoff schedule,
// honouring the waits targets ask for; a token-bucket rate limit per
// target; and dead letters when attempts or age run out.
package queue

import (
	"context"
	"time"

	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
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
	Attempts    int
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
}
