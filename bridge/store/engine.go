package store

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Engine is the storage the bridge runs on: the delivery queue's jobs and
// notifications, the delivered history, the alert center and the
// watchdog's state. DB (Pebble on local disk) implements it; another
// engine (NATS JetStream, say) implements the same contract and proves it
// by passing the conformance suite in bridge/store/storetest. The doc
// comments of these interfaces are that contract: what DB's methods
// document about keys, files or the in-memory index is Pebble's own.
//
// Every method is safe for concurrent use. Every write is durable when it
// returns without error (it survives a crash of the process), and atomic:
// a write that fails leaves no part of itself behind. Jobs and
// notifications come back as copies: a caller may change what it got
// without changing what is stored. After Close every method returns
// ErrClosed.
//
// Operations that depend on the engine's files (Open, Check, Salvage,
// VerifyValues, Damage, Dir) are not part of it: they stay on DB.
type Engine interface {
	Queue
	History
	AlertCenter
	Watchdog
	Messages
	// Writable reports whether the engine takes durable writes now (for
	// readiness), without changing what is stored: nil when it does,
	// ErrClosed after Close, the engine's error otherwise.
	Writable() error
	// Close releases the engine; later calls return ErrClosed. A second
	// Close returns nil.
	Close() error
}

// Queue is the job storage the delivery queue schedules from (see
// bridge/queue). A job is in exactly one state at a time: StatePending,
// StateDead or StateDelivered (the history). Job ids are unique and
// increase: a job accepted later has a greater id than every job accepted
// before it, also across restarts, and an id is never reused.
//
// The newest job of a (target, group key) pair is the one accepted last.
// The queue relies on two rules that keep an older state of a group from
// being sent after a newer one: at most one job of a pair is pending (a
// newer acceptance supersedes the waiting older one), and a job that is
// no longer the newest of its pair is never made pending again.
//
// A stored notification is shared by the jobs of one acceptance and
// stays while any of them is pending or dead; it is removed with the last
// of them to be delivered, superseded or deleted.
type Queue interface {
	// Accept records one notification in one atomic write. If
	// req.DedupKey is not empty and the same key was accepted less than
	// req.DedupWindow before req.Now, it writes nothing and returns
	// Acceptance{Duplicate: true} (no jobs, no counters); otherwise the
	// key is recorded at req.Now. It then counts every alert of
	// req.Group (alert.Seen: how often and since when the record ids were
	// seen), stamps the counters in place into req.Group and each job's
	// group, and returns them in Acceptance.Seen, one per record in
	// order. It stores req.Body once as a Notification (with
	// req.Group.ReceivedAt and the counters) when there are jobs (a job
	// without a body is an error), and stores each job as pending with a
	// new id, CreatedAt and UpdatedAt req.Now, Alerts the count of its
	// group's alerts and Notification the notification's id. A pending
	// job of the same target and group key is superseded: moved to the
	// history with Superseded set and Reason "superseded", and returned
	// in Acceptance.Superseded (a job being attempted too: its outcome is
	// then no longer recorded). Every alert of req.Group gets an alert
	// center entry naming the jobs that carry it. req.Group nil is an
	// error.
	Accept(req AcceptRequest) (*Acceptance, error)
	// Pending returns a pending job; ErrNotFound if it is in another
	// state or unknown.
	Pending(id uint64) (*Job, error)
	// Notification returns stored notification nid (a job's
	// Notification) as accepted: the body, its receive time and counters.
	// ErrNotFound once it is removed, or for an unknown id.
	Notification(nid uint64) (*Notification, error)
	// Get returns a job in any state; ErrNotFound for an unknown id.
	Get(id uint64) (*Job, error)
	// Reschedule records a failed attempt of a pending job: Attempts,
	// Sent, NextAttempt next, Reason, Error msg, UpdatedAt now. If the
	// job is no longer the newest of its target and group (a newer one
	// was accepted, whether it is still pending or not), it is superseded
	// instead (as in Accept) and superseded is true. ErrNotFound if the
	// job is not pending (finished, superseded, deleted or unknown).
	Reschedule(id uint64, attempts, sent int, next time.Time, reason, msg string, now time.Time) (superseded bool, err error)
	// FinishAll records the outcomes of pending jobs in one atomic write:
	// each moves to op.State (StateDelivered or StateDead; another state
	// is an error and nothing is written) with Attempts, Reason, Error
	// op.Msg, UpdatedAt op.Now and no NextAttempt. A delivered job leaves
	// its notification (see Queue); a dead one keeps it for Requeue. An
	// op for a job that is not pending (unknown, deleted, superseded or
	// already finished) is skipped: a finished job is never finished
	// twice.
	FinishAll(ops []FinishOp) error
	// Requeue moves a dead job back to pending as new: Attempts and Sent
	// 0, no Reason, Error or NextAttempt, CreatedAt and UpdatedAt now. It
	// returns the job as now stored. ErrNotFound if the job is not dead;
	// ErrSuperseded (and the job stays dead) if it is no longer the
	// newest of its target and group, also when that newer job has since
	// been removed.
	Requeue(id uint64, now time.Time) (*Job, error)
	// Delete removes a job in any state; ErrNotFound for an unknown id.
	// It does not know about attempts: the caller makes sure a pending
	// job is not being attempted (the queue answers ErrBusy). The outcome
	// of an attempt that ends after its job was deleted finds nothing
	// (Reschedule: ErrNotFound; FinishAll: skipped).
	Delete(id uint64) error
	// ForEachPending calls fn for every pending job in ascending id order
	// (the queue resumes from it at start); an error from fn stops the
	// walk and is returned.
	ForEachPending(fn func(*Job) error) error
}

// History lists and prunes jobs by state.
type History interface {
	// List returns up to limit jobs in state, newest (greatest id)
	// first, only those with ids below before (0: from the newest), and
	// only those of target when it is not empty. Never nil. An unknown
	// state is an error.
	List(state, target string, before uint64, limit int) ([]*Job, error)
	// Prune removes delivered jobs whose UpdatedAt is more than maxAge
	// before now, and then the oldest ones beyond maxCount, returning how
	// many it removed; and forgets dedup keys accepted more than
	// dedupWindow before now. Pending and dead jobs stay.
	Prune(now time.Time, maxAge time.Duration, maxCount int, dedupWindow time.Duration) (int, error)
}

// AlertCenter reads the alert entries Accept records.
type AlertCenter interface {
	// Alerts returns one page of entries matching f, most recently
	// updated first, ties by id descending; page.Limit 0 or less means
	// 100. next is the cursor of the page's last entry when another
	// matching entry follows, zero otherwise. entries is never nil.
	Alerts(f AlertFilter, page AlertPage) (entries []*AlertEntry, next AlertCursor, err error)
	// Alert returns one entry and the jobs recorded for it, newest
	// first, each in its current state, leaving out those removed.
	// ErrNoAlert for an unknown id.
	Alert(id int64) (*AlertEntry, []*Job, error)
	// PruneAlerts forgets the alerts last updated before cutoff: their
	// entries and their counters (a later notification counts them from
	// 1 again). It returns how many it removed.
	PruneAlerts(cutoff time.Time) (int, error)
}

// Watchdog keeps the watchdog's state.
type Watchdog interface {
	// WatchdogState returns the state last saved; false (and no error)
	// when none was.
	WatchdogState() (WatchdogState, bool, error)
	// SaveWatchdogState replaces the stored state.
	SaveWatchdogState(s WatchdogState) error
}

// Messages keeps, per target and group key, the ids of the messages the
// group's notifications posted there, for update in place. A record is
// independent of the jobs: Accept, FinishAll, Delete, Prune and the other
// methods leave it alone, and it stays until PruneMessageRefs finds it
// expired (a record whose Expires is not after now is as good as gone;
// the caller checks, the engine only prunes).
type Messages interface {
	// MessageRefs returns the record of (target, groupKey) as last saved,
	// expired or not; false (and no error) when none is stored.
	MessageRefs(target, groupKey string) (MessageRefs, bool, error)
	// SaveMessageRefs replaces the record of (target, groupKey); records
	// of other pairs (another target, another group) are not touched.
	SaveMessageRefs(target, groupKey string, r MessageRefs) error
	// PruneMessageRefs removes every record whose Expires is not after
	// now and returns how many it removed.
	PruneMessageRefs(now time.Time) (int, error)
}

var _ Engine = (*DB)(nil)

// Change is what one write did to the pending jobs, as an engine shared
// by several bridges reports it to each of them (see Follower).
type Change struct {
	// Local marks a write this bridge made itself: its queue already
	// knows.
	Local bool
	// Pending lists jobs that became pending (accepted or requeued).
	Pending []*Job
	// Gone lists pending jobs that no longer are (superseded, finished or
	// deleted); only ID and Target are certain to be set.
	Gone []*Job
	// Reset says the engine's view was rebuilt: writes may have been
	// missed, so the pending jobs are to be read again.
	Reset bool
	// Accepted is the notification an acceptance recorded (its alerts as
	// accepted) and At when; nil for other writes.
	Accepted *alert.Group
	At       time.Time
}

// Follower is an Engine that several bridges share: every bridge sees the
// writes of the others through Follow.
type Follower interface {
	// Follow calls fn, in order and from one goroutine, with every write
	// applied from now on. fn must return quickly. One fn at a time: a
	// later call replaces it.
	Follow(fn func(Change))
}
