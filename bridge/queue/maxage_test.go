package queue

import (
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
)

// TestRetriedUntilMaxAge: a job is retried until max_age runs out, not
// only while its next backoff would end before it: when the backoff
// would outlast max_age, one last attempt goes when max_age runs out, and
// then the job is a dead letter. (Before, it gave up as soon as the next
// backoff passed max_age: up to 5 minutes early with the default retry,
// an hour with a Retry-After.)
func TestRetriedUntilMaxAge(t *testing.T) {
	const maxAge = 400 * time.Millisecond
	d := newFake(Policy{Interval: time.Second, MaxInterval: time.Second, MaxAge: maxAge}, func(*Job, int) notify.Result { return fail })
	q := startQueue(t, openStore(t, t.TempDir()), d)
	start := time.Now()
	id := accept(t, q, "g")
	eventually(t, 5*time.Second, "the job to end", func() bool { return d.nFinished() == 1 })
	attempts, finished := d.snapshot()
	if len(attempts) != 2 {
		t.Fatalf("%d attempts, want 2: the first and a last one when max_age ran out", len(attempts))
	}
	if at := attempts[1].at.Sub(start); at < maxAge-50*time.Millisecond {
		t.Errorf("last attempt %s after acceptance, want at max_age (%s)", at, maxAge)
	}
	if r := finished[id]; r.Verdict != notify.Permanent || !strings.Contains(r.Message, "retries exhausted") {
		t.Errorf("outcome %+v, want a dead letter after the retries ran out", r)
	}
}
