package queue

import (
	"fmt"
	"time"
)

// BreakerState is a target's circuit breaker state.
type BreakerState string

// Breaker states. Closed: attempts flow, each failure backs off only its
// own job. Open: the target failed persistently; nothing is sent until
// the probe interval passes. HalfOpen: one probe at a time; a success
// closes the breaker (and the lane ramps back up), a failure opens it
// again.
const (
	BreakerClosed   BreakerState = "closed"
	BreakerOpen     BreakerState = "open"
	BreakerHalfOpen BreakerState = "half-open"
)

// Breaker thresholds. They are set so that random failures of a mostly
// healthy target do not open it: with 30% of posts failing, 10 failures
// in a row happen about once in 100,000 attempts and 16 of 20 about once
// in 200,000, while a target that is down reaches 10 in a row at once.
const (
	// BreakerConsecutive failures in a row open the breaker.
	BreakerConsecutive = 10
	// BreakerWindowFailures failures among the last BreakerWindowSize
	// attempts, all within BreakerWindow, open it too.
	BreakerWindowFailures = 16
	BreakerWindowSize     = 20
	BreakerWindow         = 30 * time.Second
	// BreakerProbeInterval is how long an open breaker waits before a
	// probe: while a target is down it gets about one attempt per interval.
	BreakerProbeInterval = time.Second
)

// Transition is one breaker state change.
type Transition struct {
	From, To BreakerState
	// Reason says what caused it, for the log.
	Reason string
	At     time.Time
}

type outcome struct {
	at     time.Time
	failed bool
}

// breaker is a target's circuit breaker. It is not safe for concurrent
// use: the lane calls it under its lock.
type breaker struct {
	state       BreakerState
	since       time.Time
	probeEvery  time.Duration
	consecutive int
	recent      [BreakerWindowSize]outcome
	n, next     int       // outcomes held, ring position of the next
	probeAt     time.Time // open: when the next probe may go
	probing     bool      // half-open: a probe is in flight
}

func newBreaker(probeEvery time.Duration) breaker {
	return breaker{state: BreakerClosed, probeEvery: probeEvery}
}

func (b *breaker) set(to BreakerState, now time.Time, reason string) *Transition {
	if b.state == to {
		return nil
	}
	t := &Transition{From: b.state, To: to, Reason: reason, At: now}
	b.state, b.since = to, now
	return t
}

// ready moves an open breaker whose probe time came to half-open.
func (b *breaker) ready(now time.Time) *Transition {
	if b.state == BreakerOpen && !now.Before(b.probeAt) {
		b.probing = false
		return b.set(BreakerHalfOpen, now, "probe interval passed; probing with one attempt")
	}
	return nil
}

// success records a sign of a working target (delivered, or an answer
// that is not the target's fault). Any success closes the breaker.
func (b *breaker) success(now time.Time) *Transition {
	b.consecutive = 0
	b.push(now, false)
	b.probing = false
	if b.state != BreakerClosed {
		b.n, b.next = 0, 0
		return b.set(BreakerClosed, now, "target answered again")
	}
	return nil
}

// failure records a failed attempt. probe marks the half-open probe.
func (b *breaker) failure(now time.Time, probe bool) *Transition {
	b.consecutive++
	b.push(now, true)
	switch b.state {
	case BreakerHalfOpen:
		if !probe {
			return nil // an attempt from before the breaker opened
		}
		b.probing = false
		b.probeAt = now.Add(b.probeEvery)
		return b.set(BreakerOpen, now, "probe failed")
	case BreakerOpen:
		return nil
	}
	if b.consecutive >= BreakerConsecutive {
		b.probeAt = now.Add(b.probeEvery)
		return b.set(BreakerOpen, now, fmt.Sprintf("%d failures in a row", b.consecutive))
	}
	if f := b.windowFailures(now); f >= BreakerWindowFailures {
		b.probeAt = now.Add(b.probeEvery)
		return b.set(BreakerOpen, now, fmt.Sprintf("%d of the last %d attempts failed", f, BreakerWindowSize))
	}
	return nil
}

// neutral ends a probe that did not reach the target (the job was
// superseded, expired or could not be read): another may go.
func (b *breaker) neutral(probe bool) {
	if probe {
		b.probing = false
	}
}

// suspect half-opens a closed breaker on evidence from before this run:
// the jobs a restart resumed were failing, so one probe goes first and
// the rest follow only once the target answers.
func (b *breaker) suspect(now time.Time, reason string) *Transition {
	if b.state != BreakerClosed {
		return nil
	}
	b.probing = false
	return b.set(BreakerHalfOpen, now, reason)
}

// reset closes the breaker without evidence (the target was removed, so
// its jobs must be looked at now).
func (b *breaker) reset(now time.Time) *Transition {
	b.consecutive, b.n, b.next, b.probing = 0, 0, 0, false
	return b.set(BreakerClosed, now, "target removed")
}

func (b *breaker) push(now time.Time, failed bool) {
	b.recent[b.next] = outcome{at: now, failed: failed}
	b.next = (b.next + 1) % len(b.recent)
	if b.n < len(b.recent) {
		b.n++
	}
}

// windowFailures counts failures among the last attempts, when there are
// BreakerWindowSize of them within BreakerWindow (fewer prove nothing).
func (b *breaker) windowFailures(now time.Time) int {
	if b.n < len(b.recent) {
		return 0
	}
	f := 0
	for _, o := range b.recent {
		if now.Sub(o.at) > BreakerWindow {
			return 0
		}
		if o.failed {
			f++
		}
	}
	return f
}
