package queue

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestBreakerOpens(t *testing.T) {
	t0 := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		// outcomes: F failure, S success, one per step.
		outcomes string
		step     time.Duration
		want     BreakerState
		reason   string
	}{
		{"nine failures in a row", "SFFFFFFFFF", time.Millisecond, BreakerClosed, ""},
		{"ten failures in a row", "SFFFFFFFFFF", time.Millisecond, BreakerOpen, "10 failures in a row"},
		{"a success resets the run", "FFFFFFFFFSFFFFFFFFF", time.Millisecond, BreakerClosed, ""},
		{"16 of the last 20", "SFFFFSFFFFSFFFFSFFFF", time.Millisecond, BreakerOpen, "16 of the last 20 attempts failed"},
		{"16 of 20 spread over more than the window", "SFFFFSFFFFSFFFFSFFFF", 2 * time.Second, BreakerClosed, ""},
		{"15 of 20", "SSFFFSFFFFSFFFFSFFFF", time.Millisecond, BreakerClosed, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := newBreaker(time.Second)
			var last *Transition
			now := t0
			for _, o := range c.outcomes {
				now = now.Add(c.step)
				var tr *Transition
				if o == 'F' {
					tr = b.failure(now, false)
				} else {
					tr = b.success(now)
				}
				if tr != nil {
					last = tr
				}
			}
			if b.state != c.want {
				t.Fatalf("state %s, want %s", b.state, c.want)
			}
			if c.reason != "" && (last == nil || !strings.Contains(last.Reason, c.reason) || last.From != BreakerClosed) {
				t.Errorf("transition %+v, want from closed because %q", last, c.reason)
			}
		})
	}
}

func TestBreakerProbeCycle(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b := newBreaker(time.Second)
	for range BreakerConsecutive {
		b.failure(now, false)
	}
	if b.state != BreakerOpen {
		t.Fatalf("state %s", b.state)
	}
	if tr := b.ready(now.Add(999 * time.Millisecond)); tr != nil || b.state != BreakerOpen {
		t.Fatalf("half-open before the probe interval: %+v", tr)
	}
	if tr := b.ready(now.Add(time.Second)); tr == nil || tr.To != BreakerHalfOpen {
		t.Fatalf("not half-open after the probe interval: %+v", tr)
	}
	// A late failure of an attempt from before the breaker opened does
	// not count as the probe's.
	if tr := b.failure(now.Add(time.Second), false); tr != nil || b.state != BreakerHalfOpen {
		t.Fatalf("a stray failure moved the breaker: %+v", tr)
	}
	if tr := b.failure(now.Add(1100*time.Millisecond), true); tr == nil || tr.To != BreakerOpen {
		t.Fatalf("failed probe: %+v, want open again", tr)
	}
	b.ready(now.Add(2100 * time.Millisecond))
	if tr := b.success(now.Add(2200 * time.Millisecond)); tr == nil || tr.From != BreakerHalfOpen || tr.To != BreakerClosed {
		t.Fatalf("successful probe: %+v, want closed", tr)
	}
	// Closed again with a clean slate: nine failures do not reopen it.
	for range BreakerConsecutive - 1 {
		b.failure(now.Add(3*time.Second), false)
	}
	if b.state != BreakerClosed {
		t.Errorf("state %s after nine failures in a fresh closed breaker", b.state)
	}
}

// TestBreakerIgnoresRandomFailures: a target failing 30% of attempts at
// random is flaky, not down: 100,000 attempts do not open the breaker.
func TestBreakerIgnoresRandomFailures(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	b := newBreaker(time.Second)
	opened := 0
	for range 100000 {
		now = now.Add(time.Millisecond)
		if r.Float64() < 0.3 {
			if tr := b.failure(now, false); tr != nil && tr.To == BreakerOpen {
				opened++
				b.success(now) // count each opening once
			}
		} else {
			b.success(now)
		}
	}
	if opened > 2 {
		t.Errorf("breaker opened %d times for a target failing 30%% at random", opened)
	}
}
