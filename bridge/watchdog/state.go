// Package watchdog watches the alert pipeline's heartbeat: an alert that
// Prometheus fires all the time (kube-prometheus's Watchdog) and
// Alertmanager keeps sending. When no accepted notification carries it for
// longer than the timeout, the pipeline is silent and the watchdog asks
// for a notice to its targets; it asks again every repeat interval while
// the silence lasts, and for a recovery notice when the heartbeat returns.
//
// The decisions are pure functions of a State and the time (this file);
// Watchdog adds locking, persistence and a loop. Sending is the caller's
// (the bridge enqueues notices through its durable queue), so the package
// does no I/O of its own.
package watchdog

import (
	"time"

	"github.com/prometheus/alertmanager/pkg/labels"
)

// Config is what the watchdog checks. It is immutable once handed to
// Configure.
type Config struct {
	// Matchers select the heartbeat: a firing alert satisfying all of
	// them.
	Matchers labels.Matchers
	// Timeout is the longest silence allowed; Repeat how often a silence
	// is reported again. Both positive.
	Timeout, Repeat time.Duration
	// Targets are the names of the targets told.
	Targets []string
	// SeverityLabel is the label a notice sets to "critical" (empty:
	// "severity"); Location the zone of the times in a notice's text
	// (nil: UTC).
	SeverityLabel string
	Location      *time.Location
}

// Kind is what a notice says.
type Kind string

// The notices.
const (
	// KindSilent: the heartbeat stopped (the first notice of a silence).
	KindSilent Kind = "silent"
	// KindReminder: the silence goes on (every repeat interval).
	KindReminder Kind = "reminder"
	// KindRecovered: the heartbeat came back.
	KindRecovered Kind = "recovered"
)

// State is the watchdog's memory; all of it survives restarts.
type State struct {
	// Started is when the watchdog first ran: the silence clock's start
	// while no heartbeat was ever seen.
	Started time.Time
	// LastSeen is when the last heartbeat was accepted; zero: never.
	LastSeen time.Time
	// Silent is set once a silence was reported, and cleared when its
	// recovery is.
	Silent bool
	// While Silent: Since is the start of the silence (the last heartbeat
	// before it, or Started), DeclaredAt when it was first reported,
	// NoticeAt when it was last reported, Notices how many notices it
	// took so far.
	Since, DeclaredAt, NoticeAt time.Time
	Notices                     int
}

// Notice is one message the watchdog asks to send.
type Notice struct {
	Kind Kind
	// Since is the start of the silence; DeclaredAt when it was first
	// reported (the notice alert's startsAt); At when this notice was
	// decided.
	Since, DeclaredAt, At time.Time
	// LastSeen is the last heartbeat (zero: never); for KindRecovered the
	// one that ended the silence.
	LastSeen time.Time
	// Count numbers the notices of one silence from 1 (the recovery
	// notice carries the count of the notices before it).
	Count int
}

// Reference is the start of the silence clock: the last heartbeat, or
// Started when none was ever seen.
func (s State) Reference() time.Time {
	if !s.LastSeen.IsZero() {
		return s.LastSeen
	}
	return s.Started
}

// Overdue reports whether the heartbeat is missing at now: nothing for
// timeout or longer since the clock's start.
func (s State) Overdue(now time.Time, timeout time.Duration) bool {
	ref := s.Reference()
	return !ref.IsZero() && now.Sub(ref) >= timeout
}

// Heartbeat is s after a heartbeat accepted at at. An older time than the
// last one seen changes nothing.
func (s State) Heartbeat(at time.Time) State {
	if at.After(s.LastSeen) {
		s.LastSeen = at
	}
	return s
}

// Next is the notice due at now, if any, without changing s:
//   - while silent, a recovery once a heartbeat came after the silence
//     began, else a reminder once repeat has passed since the last notice;
//   - otherwise a silence once the heartbeat is overdue by timeout.
//
// A clock that went back (now before the last notice) sends no reminder.
func (s State) Next(now time.Time, timeout, repeat time.Duration) (Notice, bool) {
	if s.Silent {
		n := Notice{Since: s.Since, DeclaredAt: s.DeclaredAt, At: now, LastSeen: s.LastSeen}
		switch {
		case s.LastSeen.After(s.Since):
			n.Kind, n.Count = KindRecovered, s.Notices
			return n, true
		case now.Sub(s.NoticeAt) >= repeat:
			n.Kind, n.Count = KindReminder, s.Notices+1
			return n, true
		}
		return Notice{}, false
	}
	if !s.Overdue(now, timeout) {
		return Notice{}, false
	}
	return Notice{Kind: KindSilent, Since: s.Reference(), DeclaredAt: now, At: now, LastSeen: s.LastSeen, Count: 1}, true
}

// Sent is s after n was handed over for delivery.
func (s State) Sent(n Notice) State {
	switch n.Kind {
	case KindSilent:
		s.Silent, s.Since, s.DeclaredAt, s.NoticeAt, s.Notices = true, n.Since, n.DeclaredAt, n.At, 1
	case KindReminder:
		s.NoticeAt, s.Notices = n.At, n.Count
	case KindRecovered:
		s.Silent, s.Since, s.DeclaredAt, s.NoticeAt, s.Notices = false, time.Time{}, time.Time{}, time.Time{}, 0
	}
	return s
}
