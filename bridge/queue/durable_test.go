package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	"golang.org/x/time/rate"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

const target = "t"

// errDisk is the write error faultyStore injects.
var errDisk = errors.New("injected: no space left on device")

// faultyStore fails chosen store calls while its switches are on.
type faultyStore struct {
	Store
	failPending, failReschedule, failFinish atomic.Bool
}

func (f *faultyStore) Pending(id uint64) (*store.Job, error) {
	if f.failPending.Load() {
		return nil, errDisk
	}
	return f.Store.Pending(id)
}

func (f *faultyStore) Reschedule(id uint64, attempts, sent int, next time.Time, reason, msg string, now time.Time) (bool, error) {
	if f.failReschedule.Load() {
		return false, errDisk
	}
	return f.Store.Reschedule(id, attempts, sent, next, reason, msg, now)
}

func (f *faultyStore) FinishAll(ops []store.FinishOp) error {
	if f.failFinish.Load() {
		return errDisk
	}
	return f.Store.FinishAll(ops)
}

// attemptRec is one attempt the fake deliverer saw.
type attemptRec struct {
	id       uint64
	group    string
	attempts int // made before this one
	at       time.Time
}

// fakeDeliverer answers attempts with answer and records everything the
// queue reports.
type fakeDeliverer struct {
	pol    Policy
	answer func(job *Job, n int) notify.Result // n: attempts of this group so far

	mu          sync.Mutex
	attempts    []attemptRec
	perGroup    map[string]int
	finished    map[uint64]notify.Result
	transitions []Transition
	storeErrs   map[string]int
	inFlight    map[string]int
	maxInFlight int
	maxPerGroup int
	delivered   map[string][]uint64 // group -> job ids in delivery order
	delay       time.Duration
}

func newFake(pol Policy, answer func(job *Job, n int) notify.Result) *fakeDeliverer {
	return &fakeDeliverer{pol: pol, answer: answer, perGroup: map[string]int{}, finished: map[uint64]notify.Result{},
		storeErrs: map[string]int{}, inFlight: map[string]int{}, delivered: map[string][]uint64{}}
}

func (f *fakeDeliverer) Policy(string) (Policy, bool) { return f.pol, true }

func (f *fakeDeliverer) Attempt(_ context.Context, job *Job) notify.Result {
	f.mu.Lock()
	f.attempts = append(f.attempts, attemptRec{id: job.ID, group: job.GroupKey, attempts: job.Attempts, at: time.Now()})
	n := f.perGroup[job.GroupKey]
	f.perGroup[job.GroupKey]++
	f.inFlight[job.GroupKey]++
	f.maxPerGroup = max(f.maxPerGroup, f.inFlight[job.GroupKey])
	total := 0
	for _, c := range f.inFlight {
		total += c
	}
	f.maxInFlight = max(f.maxInFlight, total)
	f.mu.Unlock()
	time.Sleep(f.delay)
	res := f.answer(job, n)
	f.mu.Lock()
	f.inFlight[job.GroupKey]--
	if res.Verdict == notify.Delivered {
		f.delivered[job.GroupKey] = append(f.delivered[job.GroupKey], job.ID)
	}
	f.mu.Unlock()
	return res
}

func (f *fakeDeliverer) Finished(job *Job, r notify.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, dup := f.finished[job.ID]; dup {
		panic(fmt.Sprintf("job %d finished twice", job.ID))
	}
	f.finished[job.ID] = r
}

func (f *fakeDeliverer) Superseded(string) {}

// Rebuild decodes the stored payload, as the app does, without a view.
func (f *fakeDeliverer) Rebuild(_ string, n *store.Notification) (*alert.Group, error) {
	m, err := alert.Decode(bytes.NewReader(n.Body))
	if err != nil {
		return nil, err
	}
	return (&alert.Builder{}).BuildSeen(m, n.ReceivedAt, n.Seen), nil
}

func (f *fakeDeliverer) BreakerChanged(_ string, t Transition) {
	f.mu.Lock()
	f.transitions = append(f.transitions, t)
	f.mu.Unlock()
}

func (f *fakeDeliverer) StoreError(_ *Job, op string, _ error, _ time.Duration) {
	f.mu.Lock()
	f.storeErrs[op]++
	f.mu.Unlock()
}

func (f *fakeDeliverer) snapshot() (attempts []attemptRec, finished map[uint64]notify.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	finished = make(map[uint64]notify.Result, len(f.finished))
	for k, v := range f.finished {
		finished[k] = v
	}
	return append([]attemptRec(nil), f.attempts...), finished
}

func (f *fakeDeliverer) nFinished() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.finished)
}

func (f *fakeDeliverer) storeErrors(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.storeErrs[op]
}

func (f *fakeDeliverer) breakerLog() []Transition {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Transition(nil), f.transitions...)
}

// openStore opens a store in a temporary folder for one test.
func openStore(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// startQueue runs a queue over st for one test, with a short breaker probe
// interval and store retry.
func startQueue(t *testing.T, st Store, d Deliverer) *Durable {
	t.Helper()
	q := NewDurable(st, d)
	q.probeEvery = 50 * time.Millisecond
	q.storeRetry = 10 * time.Millisecond
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q.Close(ctx)
	})
	return q
}

// acceptReq is one notification of group gk for target.
func acceptReq(gk string) store.AcceptRequest {
	h := fnv.New64a()
	h.Write([]byte(gk))
	now := time.Now()
	g := &alert.Group{GroupKey: gk, ReceivedAt: now,
		Data:    template.Data{Receiver: "r", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A", "g": gk}}}},
		Records: []alert.Record{{ID: int64(h.Sum64() >> 1)}}}
	body, err := (&alert.Message{Data: g.Data, Version: alert.Version, GroupKey: gk}).Body()
	if err != nil {
		panic(err)
	}
	return store.AcceptRequest{Now: now, Group: g, Body: body, Jobs: []store.NewJob{{Job: &store.Job{Target: target, GroupKey: gk}, Group: g}}}
}

// accept queues one notification of group gk for target.
func accept(t *testing.T, q *Durable, gk string) uint64 {
	t.Helper()
	acc, err := q.Accept(acceptReq(gk))
	if err != nil {
		t.Fatal(err)
	}
	return acc.Jobs[0].ID
}

// eventually waits up to limit for cond (a bound for correctness, not a
// speed assertion).
func eventually(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up after %s waiting for %s", limit, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var (
	ok   = notify.OK()
	fail = notify.Retryable(notify.ReasonServerError, 0, "HTTP 500")
)

// TestFailedJobBacksOffAlone: a failed attempt reschedules its own job;
// the lane goes on with the others at once. (The lane pause design held
// every job of the target for the failed job's backoff, and retried it
// first.)
func TestFailedJobBacksOffAlone(t *testing.T) {
	d := newFake(Policy{Interval: time.Second, MaxInterval: time.Second, MaxInFlight: 1}, func(job *Job, n int) notify.Result {
		if job.GroupKey == "bad" && n == 0 {
			return fail
		}
		return ok
	})
	q := startQueue(t, openStore(t, t.TempDir()), d)
	accept(t, q, "bad")
	for i := range 20 {
		accept(t, q, fmt.Sprint("good", i))
	}
	eventually(t, 10*time.Second, "21 deliveries", func() bool { return d.nFinished() == 21 })
	attempts, finished := d.snapshot()
	for id, r := range finished {
		if r.Verdict != notify.Delivered {
			t.Errorf("job %d: %+v", id, r)
		}
	}
	if last := attempts[len(attempts)-1]; last.group != "bad" || last.attempts != 1 {
		t.Errorf("last attempt %+v: want the failed job's retry after all the others", last)
	}
	if st := q.Lane(target); st.Depth != 0 || st.Breaker != BreakerClosed {
		t.Errorf("lane %+v", st)
	}
}

// TestBreakerPausesDownTargetAndRecovers: a target that fails everything
// opens the breaker, gets about one probe per interval while down, and
// once a probe succeeds every job is delivered at once, although their own
// backoff (an hour) has not run out.
func TestBreakerPausesDownTargetAndRecovers(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	d := newFake(Policy{Interval: time.Hour, MaxInterval: time.Hour, MaxInFlight: 4}, func(*Job, int) notify.Result {
		if down.Load() {
			return notify.Retryable(notify.ReasonTransportError, 0, "connection refused")
		}
		return ok
	})
	q := startQueue(t, openStore(t, t.TempDir()), d)
	const jobs = 30
	for i := range jobs {
		accept(t, q, fmt.Sprint("g", i))
	}
	eventually(t, 5*time.Second, "the breaker to open", func() bool { return q.Lane(target).Breaker != BreakerClosed })
	before, _ := d.snapshot()
	if len(before) > BreakerConsecutive+startWindow {
		t.Errorf("%d attempts before the breaker opened, want at most %d", len(before), BreakerConsecutive+startWindow)
	}
	const watch = 500 * time.Millisecond // 10 probe intervals
	time.Sleep(watch)
	during, _ := d.snapshot()
	if probes := len(during) - len(before); probes > 12 || probes < 3 {
		t.Errorf("%d attempts in %s while down, want about one per probe interval (50ms)", probes, watch)
	}
	if st := q.Lane(target); st.Depth != jobs || st.PausedUntil.IsZero() && st.Breaker == BreakerOpen {
		t.Errorf("lane while down: %+v", st)
	}
	down.Store(false)
	eventually(t, 5*time.Second, "the backlog after recovery", func() bool { return d.nFinished() == jobs })
	log := d.breakerLog()
	if len(log) < 3 || log[0].To != BreakerOpen || log[len(log)-1].To != BreakerClosed {
		t.Fatalf("transitions %+v: want open ... closed", log)
	}
	for i := 1; i < len(log); i++ {
		if log[i].From != log[i-1].To || log[i].From == log[i].To {
			t.Errorf("transition %d %+v does not follow %+v (one report per change)", i, log[i], log[i-1])
		}
	}
	if st := q.Lane(target); st.Breaker != BreakerClosed || st.Depth != 0 {
		t.Errorf("lane after recovery: %+v", st)
	}
}

// TestThrottleIsTargetWide: a rate-limit answer with a wait holds every
// job of the target for that wait, without opening the breaker.
func TestThrottleIsTargetWide(t *testing.T) {
	const wait = 300 * time.Millisecond
	var throttledAt atomic.Int64
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond, MaxInFlight: 1}, func(job *Job, n int) notify.Result {
		if throttledAt.CompareAndSwap(0, time.Now().UnixNano()) {
			return notify.Retryable(notify.ReasonRateLimited, wait, "HTTP 429")
		}
		return ok
	})
	q := startQueue(t, openStore(t, t.TempDir()), d)
	for i := range 5 {
		accept(t, q, fmt.Sprint("g", i))
	}
	eventually(t, 5*time.Second, "5 deliveries", func() bool { return d.nFinished() == 5 })
	attempts, _ := d.snapshot()
	start := time.Unix(0, throttledAt.Load())
	for _, a := range attempts[1:] {
		if a.at.Sub(start) < wait-20*time.Millisecond {
			t.Errorf("attempt %+v %s after the 429, want none within its %s", a, a.at.Sub(start), wait)
		}
	}
	for _, tr := range d.breakerLog() {
		t.Errorf("throttling moved the breaker: %+v", tr)
	}
}

// TestStrandedJobsAreRetried: a job whose state cannot be read or written
// stays in its lane, counted, is reported, and is tried again; a delivered
// job whose outcome cannot be written is not sent again.
func TestStrandedJobsAreRetried(t *testing.T) {
	cases := []struct {
		name string
		// fault is switched on before the first job and off once it was
		// reported.
		fault    func(*faultyStore) *atomic.Bool
		op       string
		failOnce bool // the first attempt of each job fails (so it is rescheduled)
		// attempts is how many attempts each job gets in all.
		attempts int
	}{
		{"read", func(f *faultyStore) *atomic.Bool { return &f.failPending }, "read", false, 1},
		{"reschedule", func(f *faultyStore) *atomic.Bool { return &f.failReschedule }, "reschedule", true, 0},
		{"finish", func(f *faultyStore) *atomic.Bool { return &f.failFinish }, "finish", false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := openStore(t, t.TempDir())
			fs := &faultyStore{Store: db}
			sw := c.fault(fs)
			sw.Store(true)
			d := newFake(Policy{Interval: 10 * time.Millisecond, MaxInterval: 10 * time.Millisecond}, func(_ *Job, n int) notify.Result {
				// While the store fails, the target fails too, so the
				// jobs are still waiting when the test looks.
				if c.failOnce && (n == 0 || sw.Load()) {
					return fail
				}
				return ok
			})
			q := startQueue(t, fs, d)
			ids := []uint64{accept(t, q, "a"), accept(t, q, "b")}
			eventually(t, 5*time.Second, "the store errors to be reported", func() bool { return d.storeErrors(c.op) >= 2 })
			if st := q.Lane(target); st.Depth != 2 {
				t.Errorf("lane while the store fails: %+v, want both jobs counted", st)
			}
			sw.Store(false)
			eventually(t, 5*time.Second, "both jobs to finish", func() bool { return d.nFinished() == 2 })
			attempts, finished := d.snapshot()
			for _, id := range ids {
				if finished[id].Verdict != notify.Delivered {
					t.Errorf("job %d: %+v", id, finished[id])
				}
				j, err := db.Get(id)
				if err != nil || j.State != store.StateDelivered {
					t.Errorf("job %d on disk: %+v %v, want delivered", id, j, err)
				}
				n := 0
				for _, a := range attempts {
					if a.id == id {
						n++
					}
				}
				if c.attempts > 0 && n != c.attempts {
					t.Errorf("job %d attempted %d times, want %d", id, n, c.attempts)
				}
			}
			if st := q.Lane(target); st.Depth != 0 {
				t.Errorf("lane after: %+v", st)
			}
		})
	}
}

// TestRateLimitedJobsCountInDepth: jobs waiting for the rate limiter are
// waiting jobs: the depth and the oldest age count them.
func TestRateLimitedJobsCountInDepth(t *testing.T) {
	d := newFake(Policy{Interval: time.Second, MaxInterval: time.Second, Rate: rate.Every(time.Hour), Burst: 1}, func(*Job, int) notify.Result { return ok })
	q := startQueue(t, openStore(t, t.TempDir()), d)
	for i := range 5 {
		accept(t, q, fmt.Sprint("g", i))
	}
	eventually(t, 5*time.Second, "the one delivery the burst allows", func() bool { return d.nFinished() == 1 })
	eventually(t, 5*time.Second, "the others to wait for the limiter", func() bool { return q.Lane(target).InFlight == 4 })
	st := q.Lane(target)
	if st.Depth != 4 || st.Oldest.IsZero() {
		t.Errorf("lane %+v: want 4 waiting and an oldest age", st)
	}
}

// TestConcurrencyLimits: at most max_in_flight attempts at once, one per
// group, and a group's deliveries come in acceptance order.
func TestConcurrencyLimits(t *testing.T) {
	var calls atomic.Int64
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: 5 * time.Millisecond, MaxInFlight: 3}, func(*Job, int) notify.Result {
		if calls.Add(1)%4 == 0 {
			return fail
		}
		return ok
	})
	d.delay = 2 * time.Millisecond
	q := startQueue(t, openStore(t, t.TempDir()), d)
	for round := range 5 {
		for g := range 8 {
			accept(t, q, fmt.Sprintf("g%d", g))
		}
		time.Sleep(time.Duration(round) * time.Millisecond)
	}
	eventually(t, 10*time.Second, "an empty lane", func() bool { return q.Lane(target).Depth == 0 })
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.maxInFlight > 3 || d.maxPerGroup > 1 {
		t.Errorf("max in flight %d (want <= 3), per group %d (want 1)", d.maxInFlight, d.maxPerGroup)
	}
	for g, ids := range d.delivered {
		for i := 1; i < len(ids); i++ {
			if ids[i] < ids[i-1] {
				t.Errorf("group %s delivered %v: an older state after a newer one", g, ids)
			}
		}
	}
}

// TestResumeKeepsBackoffAndSpreadsOverdue: after a restart, jobs wait for
// their stored next attempt, keep their attempt count, and those already
// due are spread out instead of all tried at once.
// TestResumeSpreadsOverdue: jobs that were never attempted and are
// overdue at a restart are spread out rather than fired at once.
func TestResumeSpreadsOverdue(t *testing.T) {
	db := openStore(t, t.TempDir())
	var ids []uint64
	for i := range 10 {
		req := acceptReq(fmt.Sprint("g", i))
		req.Now = time.Now().Add(-time.Minute)
		acc, err := db.Accept(req)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.Jobs[0].ID)
	}
	d := newFake(Policy{Interval: time.Second, MaxInterval: time.Second, MaxInFlight: 64}, func(*Job, int) notify.Result { return ok })
	q := startQueue(t, db, d)
	if n, err := q.Resume(); err != nil || n != 10 {
		t.Fatalf("Resume: %d %v", n, err)
	}
	eventually(t, 5*time.Second, "10 deliveries", func() bool { return d.nFinished() == 10 })
	attempts, _ := d.snapshot()
	first, last := attempts[0].at, attempts[0].at
	for _, a := range attempts {
		first, last = minTime(first, a.at), maxTime(last, a.at)
	}
	if spread := last.Sub(first); spread < 300*time.Millisecond {
		t.Errorf("the 10 overdue jobs were tried within %s, want them spread out", spread)
	}
	if len(d.breakerLog()) != 0 {
		t.Errorf("breaker moved for jobs that never failed: %v", d.breakerLog())
	}
}

// TestResumeProbesFailingTarget: after a restart during an outage, the
// jobs that were failing keep the target from being hammered (one probe
// per interval, one at a time, not one attempt per job), keep their
// attempt counts, and the moment the target answers, every one of them
// is sent, although their own backoff had minutes to run. Without the
// probe a restart either bursts the backlog at a dead target or leaves
// it waiting out the backoff after the target is back.
func TestResumeProbesFailingTarget(t *testing.T) {
	db := openStore(t, t.TempDir())
	now := time.Now()
	for i := range 10 {
		acc, err := db.Accept(acceptReq(fmt.Sprint("g", i)))
		if err != nil {
			t.Fatal(err)
		}
		next := now.Add(-time.Minute) // overdue
		if i%2 == 0 {
			next = now.Add(5 * time.Minute) // a long backoff
		}
		if _, err := db.Reschedule(acc.Jobs[0].ID, 3, 0, next, "serverError", "HTTP 500", now); err != nil {
			t.Fatal(err)
		}
	}
	var up atomic.Bool
	d := newFake(Policy{Interval: time.Minute, MaxInterval: 5 * time.Minute, MaxInFlight: 64}, func(*Job, int) notify.Result {
		if up.Load() {
			return ok
		}
		return fail
	})
	q := startQueue(t, db, d) // probes every 50 ms
	if n, err := q.Resume(); err != nil || n != 10 {
		t.Fatalf("Resume: %d %v", n, err)
	}
	time.Sleep(400 * time.Millisecond)
	down, _ := d.snapshot()
	// About 8 probes in 400 ms at one per 50 ms; 10 would be every job
	// fired at once.
	if len(down) == 0 || len(down) > 9 {
		t.Errorf("%d attempts in 400 ms against a target that is down, want a probe per 50 ms", len(down))
	}
	d.mu.Lock()
	inFlight := d.maxInFlight
	d.mu.Unlock()
	if inFlight > 1 {
		t.Errorf("%d attempts in flight while probing, want 1", inFlight)
	}
	for _, a := range down {
		if a.attempts < 3 {
			t.Errorf("job %d attempted with %d attempts before, want its stored 3 or more", a.id, a.attempts)
		}
	}
	up.Store(true)
	eventually(t, 2*time.Second, "every job delivered once the target answers", func() bool { return d.nFinished() == 10 })
	log := d.breakerLog()
	if len(log) == 0 || log[0].To != BreakerHalfOpen || !strings.Contains(log[0].Reason, "resumed") {
		t.Errorf("breaker transitions %v, want half-open at the resume first", log)
	}
	if last := log[len(log)-1]; last.To != BreakerClosed {
		t.Errorf("breaker ends %s, want closed", last.To)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// TestRetryOfSupersededDeadLetter: a dead letter whose group has a newer
// notification is not resent.
func TestRetryOfSupersededDeadLetter(t *testing.T) {
	d := newFake(Policy{Interval: time.Millisecond, MaxInterval: time.Millisecond}, func(job *Job, n int) notify.Result {
		if n == 0 {
			return notify.Failed(notify.ReasonClientError, "HTTP 400")
		}
		return ok
	})
	q := startQueue(t, openStore(t, t.TempDir()), d)
	dead := accept(t, q, "g")
	eventually(t, 5*time.Second, "the dead letter", func() bool { return d.nFinished() == 1 })
	accept(t, q, "g")
	eventually(t, 5*time.Second, "the newer notification", func() bool { return d.nFinished() == 2 })
	if _, err := q.Retry(dead); !errors.Is(err, store.ErrSuperseded) {
		t.Fatalf("Retry: %v, want store.ErrSuperseded", err)
	}
	time.Sleep(50 * time.Millisecond)
	if attempts, _ := d.snapshot(); len(attempts) != 2 {
		t.Errorf("%d attempts, want 2: the older state was sent again", len(attempts))
	}
}
