package notifytest

import "time"

// Window is a sliding-window rate limiter as platforms enforce them: at most
// max events in any span of length per.
type Window struct {
	max    int
	per    time.Duration
	events []time.Time
}

// NewWindow returns a limiter of max events per span; max <= 0 allows all.
func NewWindow(max int, per time.Duration) *Window { return &Window{max: max, per: per} }

// Allow records an event at now and reports whether it stays within the
// limit. Refused events are not recorded.
func (w *Window) Allow(now time.Time) bool {
	if w == nil || w.max <= 0 {
		return true
	}
	keep := w.events[:0]
	for _, t := range w.events {
		if now.Sub(t) < w.per {
			keep = append(keep, t)
		}
	}
	w.events = keep
	if len(w.events) >= w.max {
		return false
	}
	w.events = append(w.events, now)
	return true
}

// Max is the number of events allowed per span.
func (w *Window) Max() int { return w.max }

// Per is the span of the window.
func (w *Window) Per() time.Duration { return w.per }

// Oldest is the time of the oldest event recorded.
func (w *Window) Oldest() time.Time { return w.events[0] }

// Full reports whether an event at now would be refused, recording nothing.
func (w *Window) Full(now time.Time) bool {
	n := 0
	for _, t := range w.events {
		if now.Sub(t) < w.per {
			n++
		}
	}
	return n >= w.max
}

// Forget takes back the latest event recorded (it was not sent after all).
func (w *Window) Forget() { w.events = w.events[:len(w.events)-1] }
