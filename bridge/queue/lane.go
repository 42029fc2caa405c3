package queue

import (
	"container/heap"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// entry is a scheduled job: only what ordering needs; the job and its
// payload stay on disk until a worker takes it.
type entry struct {
	id       uint64
	groupKey string
	due      time.Time
	created  time.Time
	// sent counts the job's messages delivered by earlier attempts of this
	// process (a group split over several messages resumes after them; a
	// restart starts over, which may repeat a part: at least once).
	sent int
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

// lane is one target's schedule.
type lane struct {
	target string

	mu          sync.Mutex
	items       entries
	removed     map[uint64]bool // superseded or deleted while scheduled
	active      map[string]bool // group keys being attempted
	pausedUntil time.Time
	failures    int // consecutive retryable failures
	wake        chan struct{}
	limiter     *rate.Limiter
}

func newLane(target string) *lane {
	return &lane{
		target:  target,
		removed: map[uint64]bool{},
		active:  map[string]bool{},
		wake:    make(chan struct{}, 1),
		limiter: rate.NewLimiter(rate.Inf, 1),
	}
}

func (l *lane) signal() {
	select {
	case l.wake <- struct{}{}:
	default:
	}
}

func (l *lane) add(e entry) {
	l.mu.Lock()
	heap.Push(&l.items, e)
	delete(l.removed, e.id)
	l.mu.Unlock()
	l.signal()
}

func (l *lane) remove(id uint64) {
	l.mu.Lock()
	l.removed[id] = true
	l.mu.Unlock()
}

func (l *lane) depth() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.items) - len(l.removed)
}

// next blocks until a job is due, its group is idle and the lane is not
// paused, then marks the group active and returns the job. It returns false
// when stop is closed.
func (l *lane) next(stop <-chan struct{}) (entry, bool) {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		l.mu.Lock()
		now := time.Now()
		wait := time.Hour
		if now.Before(l.pausedUntil) {
			wait = l.pausedUntil.Sub(now)
		} else {
			var blocked []entry
			var got *entry
			for len(l.items) > 0 {
				e := heap.Pop(&l.items).(entry)
				if l.removed[e.id] {
					delete(l.removed, e.id)
					continue
				}
				if e.due.After(now) {
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
			if got != nil {
				l.active[got.groupKey] = true
				l.mu.Unlock()
				return *got, true
			}
		}
		l.mu.Unlock()
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

// done releases a group after an attempt.
func (l *lane) done(groupKey string) {
	l.mu.Lock()
	delete(l.active, groupKey)
	l.mu.Unlock()
	l.signal()
}

// failed pauses the lane after a retryable failure: the target is likely
// down or throttling, so no other job should burn an attempt meanwhile.
func (l *lane) failed(wait time.Duration) {
	l.mu.Lock()
	l.failures++
	if until := time.Now().Add(wait); until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	l.mu.Unlock()
}

func (l *lane) succeeded() {
	l.mu.Lock()
	l.failures = 0
	l.mu.Unlock()
}

func (l *lane) consecutiveFailures() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.failures
}

// hurry makes every waiting job due now and lifts a pause, so the lane's
// workers look at them at once (used when the target was removed).
func (l *lane) hurry() {
	l.mu.Lock()
	now := time.Now()
	for i := range l.items {
		l.items[i].due = now
	}
	heap.Init(&l.items)
	l.pausedUntil = time.Time{}
	l.mu.Unlock()
	l.signal()
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
