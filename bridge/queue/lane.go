package queue

import (
	"container/heap"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// entry is a scheduled job: only what ordering needs; the job and its
// payload stay on disk until an attempt takes it.
type entry struct {
	id       uint64
	groupKey string
	due      time.Time
	created  time.Time
	// sent counts the job's messages delivered by earlier attempts (a group
	// split over several messages resumes after them). Each outcome stores
	// it with the job, and a restart resumes from the stored count, so only
	// a message in flight when the process stopped may be sent twice.
	sent int
	// attempts made so far as this process knows them (the store may hold
	// fewer when writing an outcome failed).
	attempts int
	// storeErrors counts consecutive failures to read or write the job.
	storeErrors int
	// probe marks the one attempt a half-open breaker lets through.
	probe bool
	// started is when the lane handed the job out.
	started time.Time
}

// entries is a min-heap by due time, then id (acceptance order).
type entries []entry

func (h entries) Len() int { return len(h) }
func (h entries) Less(i, j int) bool {
	if !h[i].due.Equal(h[j].due) {
		return h[i].due.Before(h[j].due)
	}
	return h[i].id < h[j].id
}
func (h entries) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *entries) Push(x any)   { *h = append(*h, x.(entry)) }
func (h *entries) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// Lane defaults.
const (
	// DefaultMaxInFlight is a target's concurrent attempts when its
	// policy does not say.
	DefaultMaxInFlight = 128
	// startWindow is how many attempts a new lane lets run at once before
	// successes widen it (slow start: each success adds one, so the window
	// doubles per round trip up to the target's max_in_flight).
	startWindow = 4
)

// lane is one target's schedule: waiting jobs by due time, the attempts
// in flight, the target-wide pause and the circuit breaker. Every waiting
// job is either in items (keyed in queued) or in inflight, never both.
type lane struct {
	target string

	mu       sync.Mutex
	items    entries
	queued   map[uint64]bool   // ids in items that still count
	inflight map[uint64]*entry // handed out, not yet settled
	active   map[string]bool   // group keys with a job in flight
	// pausedUntil is a target-wide wait the target asked for (429,
	// Retry-After, a platform's rate-limit code).
	pausedUntil time.Time
	throttles   int // consecutive rate-limit answers without a wait
	br          breaker
	recoveredAt time.Time // when the breaker last closed
	maxInFlight int
	window      int // slow-start limit on attempts in flight
	// released: another bridge delivers for the target now (see
	// Durable.Release); nothing is scheduled until it is adopted again.
	released bool
	wake     chan struct{}
	limiter  *rate.Limiter
	// transitions holds breaker changes not yet reported.
	transitions []Transition
	// report receives each breaker change once, in order (may be nil).
	report   func(Transition)
	reportMu sync.Mutex
}

func newLane(target string, probeEvery time.Duration) *lane {
	return &lane{
		target:      target,
		queued:      map[uint64]bool{},
		inflight:    map[uint64]*entry{},
		active:      map[string]bool{},
		br:          newBreaker(probeEvery),
		maxInFlight: DefaultMaxInFlight,
		window:      startWindow,
		wake:        make(chan struct{}, 1),
		limiter:     rate.NewLimiter(rate.Inf, 1),
	}
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

// add schedules a job that is not in flight.
func (l *lane) add(e entry) {
	l.mu.Lock()
	l.push(e)
	l.mu.Unlock()
	l.signal()
}

func (l *lane) push(e entry) {
	e.probe = false
	if l.released {
		return
	}
	if _, ok := l.inflight[e.id]; ok {
		return // its attempt reschedules it if it must
	}
	if l.queued[e.id] {
		// Already scheduled (scheduled twice by a race between a retry
		// and a resume): keep one, due at the earlier time.
		for i := range l.items {
			if l.items[i].id == e.id && l.queued[e.id] && e.due.Before(l.items[i].due) {
				l.items[i].due = e.due
				heap.Fix(&l.items, i)
			}
		}
		return
	}
	heap.Push(&l.items, e)
	l.queued[e.id] = true
}

// remove drops a job from the schedule (superseded or deleted). A job in
// flight is dropped when its attempt settles.
func (l *lane) remove(id uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.inflight[id]; ok {
		e.id = 0 // requeue will not bring it back
		return
	}
	delete(l.queued, id) // the heap entry is skipped when popped
}

// claim takes a waiting job out of the lane, so no attempt can start it,
// and returns it (to give back with add if deleting it fails). busy: the
// job is being attempted. A job the lane does not hold is neither.
func (l *lane) claim(id uint64) (e entry, claimed, busy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.inflight[id]; ok {
		return entry{}, false, true
	}
	if !l.queued[id] {
		return entry{}, false, false
	}
	for _, it := range l.items {
		if it.id == id {
			e = it
			break
		}
	}
	delete(l.queued, id) // the heap entry is skipped when popped
	return e, e.id == id, false
}

// release drops every waiting job and schedules none until adopt.
func (l *lane) release() {
	l.mu.Lock()
	l.released = true
	l.items = l.items[:0]
	clear(l.queued)
	l.mu.Unlock()
	l.signal()
}

// adopt lets the lane schedule again after release.
func (l *lane) adopt() {
	l.mu.Lock()
	l.released = false
	l.mu.Unlock()
}

// inFlight counts the attempts in flight.
func (l *lane) inFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.inflight)
}

// configure applies a target's concurrency.
func (l *lane) configure(maxInFlight int) {
	if maxInFlight < 1 {
		maxInFlight = DefaultMaxInFlight
	}
	l.mu.Lock()
	l.maxInFlight = maxInFlight
	l.mu.Unlock()
}

func (l *lane) depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queued) + len(l.inflight)
}

// limit is how many attempts may be in flight now. Called with mu held.
func (l *lane) limit() int {
	return min(l.maxInFlight, l.window)
}

// next blocks until an attempt may start, then marks the job's group
// active, counts the job in flight and returns it. An attempt may start
// when the lane is not paused, the breaker lets it (closed: up to the
// window; half-open: one probe, which takes the earliest job even if it
// is not due yet, so a recovered target is found quickly), and a job is
// due whose group has no attempt in flight. It returns false when stop is
// closed.
func (l *lane) next(stop <-chan struct{}) (entry, bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.mu.Lock()
		e, wait, ok := l.take(time.Now())
		changed := len(l.transitions) > 0
		l.mu.Unlock()
		if changed {
			l.flush()
		}
		if ok {
			return e, true
		}
		timer.Reset(wait)
		select {
		case <-stop:
			return entry{}, false
		case <-l.wake:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// take is next without blocking: a job, or how long to wait at most
// before looking again. Called with mu held.
func (l *lane) take(now time.Time) (entry, time.Duration, bool) {
	if now.Before(l.pausedUntil) {
		return entry{}, l.pausedUntil.Sub(now), false
	}
	if t := l.br.ready(now); t != nil {
		l.transitions = append(l.transitions, *t)
	}
	probe := false
	switch l.br.state {
	case BreakerOpen:
		return entry{}, l.br.probeAt.Sub(now), false
	case BreakerHalfOpen:
		if l.br.probing {
			return entry{}, time.Hour, false
		}
		probe = true
	default:
		if len(l.inflight) >= l.limit() {
			return entry{}, time.Hour, false
		}
	}
	wait := time.Hour
	var blocked []entry
	var got *entry
	for len(l.items) > 0 {
		e := heap.Pop(&l.items).(entry)
		if !l.queued[e.id] {
			continue // removed
		}
		if !probe && e.due.After(now) {
			heap.Push(&l.items, e)
			wait = e.due.Sub(now)
			break
		}
		if l.active[e.groupKey] {
			blocked = append(blocked, e)
			continue
		}
		got = &e
		break
	}
	for _, b := range blocked {
		heap.Push(&l.items, b)
	}
	if got == nil {
		return entry{}, wait, false
	}
	delete(l.queued, got.id)
	got.probe, got.started = probe, now
	if probe {
		l.br.probing = true
	}
	l.active[got.groupKey] = true
	l.inflight[got.id] = got
	return *got, 0, true
}

// result is what an attempt tells the lane about its target.
type result int

const (
	// resultNone: the attempt did not reach the target.
	resultNone result = iota
	// resultUp: the target answered (delivered, or a permanent refusal
	// of this one notification).
	resultUp
	// resultDown: a retryable failure (5xx, transport error, timeout,
	// platform busy code).
	resultDown
	// resultThrottled: the target asked to slow down; wait is how long.
	resultThrottled
)

// observe updates the breaker, the slow-start window and the pause from
// one attempt's result, right after the attempt.
func (l *lane) observe(r result, probe bool, wait time.Duration) {
	now := time.Now()
	l.mu.Lock()
	var t *Transition
	switch r {
	case resultNone:
		l.br.neutral(probe)
	case resultUp:
		l.throttles = 0
		if t = l.br.success(now); t != nil {
			l.recovered(now)
		} else if l.window < l.maxInFlight {
			l.window++
		}
	case resultDown:
		t = l.br.failure(now, probe)
	case resultThrottled:
		// The target is up but busy: not a breaker failure; a probe
		// that is throttled closes the breaker, and the pause holds the
		// lane.
		if probe {
			if t = l.br.success(now); t != nil {
				l.recovered(now)
			}
		}
		l.throttles++
		if until := now.Add(wait); until.After(l.pausedUntil) {
			l.pausedUntil = until
		}
	}
	if t != nil {
		l.transitions = append(l.transitions, *t)
	}
	l.mu.Unlock()
	if t != nil {
		l.flush()
	}
	l.signal()
}

// recovered runs when the breaker closes: jobs that backed off while the
// target was down are due now, and the window ramps up from one. Called
// with mu held.
func (l *lane) recovered(now time.Time) {
	l.recoveredAt = now
	l.window = 1
	for i := range l.items {
		if l.items[i].due.After(now) {
			l.items[i].due = now
		}
	}
	heap.Init(&l.items)
}

// consecutiveThrottles is how many rate-limit answers came in a row.
func (l *lane) consecutiveThrottles() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.throttles
}

// settle ends a job's attempt: the job leaves the in-flight set, its group
// becomes idle, and next, when not nil, schedules its next attempt
// (unless the job was removed meanwhile).
func (l *lane) settle(id uint64, groupKey string, next *entry) {
	l.mu.Lock()
	e, ok := l.inflight[id]
	delete(l.inflight, id)
	delete(l.active, groupKey)
	if next != nil && ok && e.id != 0 {
		if e.started.Before(l.recoveredAt) && next.due.After(l.recoveredAt) {
			// It failed while the target was down, and the target has
			// recovered since: it goes with the rest of the backlog.
			next.due = l.recoveredAt
		}
		l.push(*next)
	}
	l.mu.Unlock()
	l.signal()
}

// flush reports the breaker changes not yet reported, in order.
func (l *lane) flush() {
	l.reportMu.Lock()
	defer l.reportMu.Unlock()
	l.mu.Lock()
	ts := l.transitions
	l.transitions = nil
	l.mu.Unlock()
	if l.report != nil {
		for _, t := range ts {
			l.report(t)
		}
	}
}

// suspect starts the lane with its breaker half-open (see
// breaker.suspect).
func (l *lane) suspect(reason string) {
	l.mu.Lock()
	if t := l.br.suspect(time.Now(), reason); t != nil {
		l.transitions = append(l.transitions, *t)
	}
	l.mu.Unlock()
	l.flush()
	l.signal()
}

// hurry makes every waiting job due now, lifts a pause and closes the
// breaker, so the lane looks at every job at once (used when the target
// was removed: its jobs become dead letters).
func (l *lane) hurry() {
	l.mu.Lock()
	now := time.Now()
	for i := range l.items {
		l.items[i].due = now
	}
	heap.Init(&l.items)
	l.pausedUntil = time.Time{}
	if t := l.br.reset(now); t != nil {
		l.transitions = append(l.transitions, *t)
	}
	l.window = l.maxInFlight
	l.mu.Unlock()
	l.flush()
	l.signal()
}

// state describes the lane. Called without mu held.
func (l *lane) state(now time.Time) LaneState {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := LaneState{
		Depth: len(l.queued) + len(l.inflight), InFlight: len(l.inflight),
		Breaker: l.br.state, BreakerSince: l.br.since,
	}
	for _, e := range l.items {
		if l.queued[e.id] && (st.Oldest.IsZero() || e.created.Before(st.Oldest)) {
			st.Oldest = e.created
		}
	}
	for _, e := range l.inflight {
		if st.Oldest.IsZero() || e.created.Before(st.Oldest) {
			st.Oldest = e.created
		}
	}
	if now.Before(l.pausedUntil) {
		st.PausedUntil = l.pausedUntil
	}
	if l.br.state == BreakerOpen {
		st.PausedUntil = later(st.PausedUntil, l.br.probeAt)
	}
	return st
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// configureLimiter applies a target's rate and burst to its lane's
// limiter when they changed. The burst is set first: a lane starts
// unlimited, and setting a finite rate first would cap the bucket at the
// old burst of 1, so a new lane would start with one token instead of a
// full burst.
func configureLimiter(l *rate.Limiter, r rate.Limit, burst int) {
	if l.Limit() == r && l.Burst() == burst {
		return
	}
	l.SetBurst(burst)
	l.SetLimit(r)
}
