package notifytest

import "time"

// window is a sliding-window rate limiter as platforms enforce them: at most
// max events in any span of length per.
type window struct {
	max    int
	per    time.Duration
	events []time.Time
}

// allow records an event at now and reports whether it stays within the
// limit. Refused events are not recorded.
func (w *window) allow(now time.Time) bool {
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
