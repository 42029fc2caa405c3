package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Job states. A job is kept under exactly one state.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateDead      = "dead"
)

// ErrNotFound is returned for an unknown job id, or a job not in the
// state a call needs.
var ErrNotFound = errors.New("no such delivery")

// ErrBusy is returned when deleting a job that is being attempted.
var ErrBusy = errors.New("delivery is being attempted right now; try again")

// ErrSuperseded is returned when retrying a dead letter whose group has a
// newer notification for the same target: sending the dead one would put
// an older state after a newer one.
var ErrSuperseded = errors.New("a newer notification of this group was accepted for the target since; the dead letter is not resent")

// Job is the durable description of one delivery of one group to one
// target. The group itself is stored apart and loaded with Payload.
type Job struct {
	ID          uint64    `json:"id"`
	Target      string    `json:"target"`
	GroupKey    string    `json:"groupKey"`
	State       string    `json:"state"`
	Alerts      int       `json:"alerts"`
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	NextAttempt time.Time `json:"nextAttemptAt,omitzero"`
	// Reason and Error describe the last failure (bounded reason, detail).
	Reason string `json:"reason,omitempty"`
	Error  string `json:"error,omitempty"`
	// Superseded is set on a job replaced by a newer notification of the
	// same group before it was delivered.
	Superseded bool `json:"superseded,omitempty"`
	// Sent counts the messages of a notification split over several that
	// were delivered; the next attempt, after a restart too, resumes after
	// them.
	Sent int `json:"sent,omitempty"`
	// Notification is the stored notification the job delivers (see
	// DB.Notification), kept while the job is pending or dead.
	Notification uint64 `json:"notification,omitempty"`
	// Test marks a job queued by a test send (POST
	// /api/v1/targets/{name}/test), not by Alertmanager.
	Test bool `json:"test,omitempty"`
}

// TestGroupKeyPrefix starts the group key of every test send, so it reads
// as one. It marks nothing: a notification posted to /webhook may use any
// group key; tests are marked by AcceptRequest.Test.
const TestGroupKeyPrefix = "alertbridge-test:"

// NewJob pairs a job with the group it delivers, for Accept.
type NewJob struct {
	Job   *Job
	Group *alert.Group
}

// Acceptance is the outcome of Accept.
type Acceptance struct {
	// Duplicate: the same notification was accepted within the dedup
	// window; nothing was written.
	Duplicate bool
	Jobs      []*Job
	// Superseded lists the pending jobs replaced by the new ones, as they
	// now stand in the delivered history.
	Superseded []*Job
	// Seen are the alert counters after this notification, one per alert
	// of the request's group, in order.
	Seen []alert.Seen
}

// AcceptRequest is one notification to persist.
type AcceptRequest struct {
	// DedupKey identifies the notification (see alert.Message.DedupKey);
	// empty: no dedup.
	DedupKey    string
	DedupWindow time.Duration
	Now         time.Time
	// Group is the whole normalized notification, its Records aligned
	// with its Alerts, built without counters. The alert center records
	// every alert of it, also those no job carries.
	Group *alert.Group
	// Jobs are the deliveries, each with the view of Group its target
	// gets.
	Jobs []NewJob
	// Body is the payload as received (alert.Message.Body), stored once
	// for the jobs: what a delivery rebuilds the group from when it is no
	// longer in memory. Required when there are jobs.
	Body []byte
	// Location is the time zone records are written in (see
	// alert.Group.Stamp).
	Location *time.Location
	// Test marks a notification the bridge made for a test send: its
	// alerts carry AlertEntry.Test. The group key plays no part, so a
	// sender cannot mark real alerts as tests.
	Test bool
}

// Accept durably records one notification: the duplicate check, the
// alert counters and alert center entries, the jobs with their payloads,
// and the superseding of older waiting jobs of the same group and target.
// It stamps the counters into the request's group and job groups (in
// place), so what is stored and what the caller delivers from memory are
// the same. When it returns without error, the jobs are on disk. A
// duplicate writes nothing.
func (d *DB) Accept(req AcceptRequest) (*Acceptance, error) {
	if req.Group == nil {
		return nil, errors.New("store: accept without a group")
	}
	ids := make([]int64, len(req.Group.Records))
	for i, r := range req.Group.Records {
		ids[i] = r.ID
	}
	if len(req.Jobs) > 0 && len(req.Body) == 0 {
		return nil, errors.New("store: accept without the notification's body")
	}
	var out *Acceptance
	err := d.write(func(t *tx) (err error) {
		out, err = acceptTx(t, req, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// stamp stamps req's groups with the counters seen (of ids, in order).
func stamp(req AcceptRequest, ids []int64, seen []alert.Seen) {
	byID := make(map[int64]alert.Seen, len(ids))
	for i, id := range ids {
		byID[id] = seen[i]
	}
	req.Group.Stamp(byID, req.Location)
	for _, nj := range req.Jobs {
		if nj.Group != req.Group {
			nj.Group.Stamp(byID, req.Location)
		}
	}
}

// getter is a read of the store: committed (DB) or within a write (tx).
type getter interface {
	get(key []byte) ([]byte, error)
}

// duplicate reports whether req was accepted within its dedup window. The
// in-memory index answers "no" without a disk read; a "yes" is confirmed
// on disk (the index holds hashes).
func duplicate(d *DB, req AcceptRequest) (bool, error) {
	_, ok, err := dedupWithin(d, d.mem, req)
	return ok, err
}

// dedupWithin returns when req's key was accepted, if within its window.
func dedupWithin(g getter, mem *memIndex, req AcceptRequest) (time.Time, bool, error) {
	if req.DedupKey == "" {
		return time.Time{}, false, nil
	}
	if _, ok := mem.dedupAt(req.DedupKey); !ok {
		return time.Time{}, false, nil
	}
	at, ok, err := dedupTime(g, req.DedupKey)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	return at, req.Now.Sub(at) < req.DedupWindow, nil
}

// dedupTime reads when a notification key was last accepted.
func dedupTime(g getter, key string) (time.Time, bool, error) {
	if key == "" {
		return time.Time{}, false, nil
	}
	v, err := g.get(dedupKey(key))
	if errors.Is(err, errNotFound) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, err
	}
	if len(v) != 8 {
		return time.Time{}, false, fmt.Errorf("%w: dedup key of %d bytes", ErrCorrupt, len(v))
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(v))), true, nil
}

// acceptTx is the body of Accept's write.
func acceptTx(t *tx, req AcceptRequest, ids []int64) (*Acceptance, error) {
	out := &Acceptance{}
	if req.DedupKey != "" {
		at, dup, err := dedupWithin(t, t.d.mem, req)
		if err != nil {
			return nil, err
		}
		if dup {
			out.Duplicate = true
			t.syncFirst = true // the original may still be on its way to disk
			return out, nil
		}
		if !at.IsZero() {
			// Accepted before, outside the window: its expiry entry moves.
			if err := t.del(expiryKey(at.UnixMilli(), req.DedupKey)); err != nil {
				return nil, err
			}
		}
		ms := req.Now.UnixMilli()
		if err := t.set(dedupKey(req.DedupKey), u64(uint64(ms))); err != nil {
			return nil, err
		}
		if err := t.set(expiryKey(ms, req.DedupKey), nil); err != nil {
			return nil, err
		}
		t.setDedup(req.DedupKey, ms)
	}
	seen, alerts, index, err := touchAlerts(t, ids, req.Now)
	if err != nil {
		return nil, err
	}
	stamp(req, ids, seen)
	out.Seen = seen
	var nid uint64
	if len(req.Jobs) > 0 {
		nid = t.nextID()
		v, err := encodeNotification(&Notification{Body: req.Body, ReceivedAt: req.Group.ReceivedAt, Seen: seen})
		if err != nil {
			return nil, err
		}
		if err := t.set(notificationKey(nid), v); err != nil {
			return nil, err
		}
		t.ref(nid, len(req.Jobs))
	}
	views := make([]*alert.Group, 0, len(req.Jobs))
	for _, nj := range req.Jobs {
		j := *nj.Job
		j.ID, j.State, j.CreatedAt, j.UpdatedAt = t.nextID(), StatePending, req.Now, req.Now
		j.Alerts, j.Notification = len(nj.Group.Alerts), nid
		if err := putJob(t, &j); err != nil {
			return nil, err
		}
		lk := latestKey(j.Target, j.GroupKey)
		if old, err := pendingOf(t, lk, j.Target, j.GroupKey); err != nil {
			return nil, err
		} else if old != nil {
			if err := markSuperseded(t, old, req.Now); err != nil {
				return nil, err
			}
			out.Superseded = append(out.Superseded, old)
		}
		if err := t.set(lk, u64(j.ID)); err != nil {
			return nil, err
		}
		t.setPending(lk, j.ID)
		out.Jobs = append(out.Jobs, &j)
		views = append(views, nj.Group)
	}
	if err := recordAlerts(t, alerts, index, req.Group, out.Jobs, views, req.Now, req.Test); err != nil {
		return nil, err
	}
	return out, nil
}

// latestID reads the newest-job index.
func latestID(g getter, lk []byte) (uint64, bool, error) {
	v, err := g.get(lk)
	if errors.Is(err, errNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("%w: newest-job entry of %d bytes", ErrCorrupt, len(v))
	}
	return binary.BigEndian.Uint64(v), true, nil
}

// pendingOf returns the newest pending job of the group and target whose
// newest-job key is lk, or nil. The in-memory index finds it by a hash of
// lk; the job read is checked to belong to the group. A job being
// attempted is pending too: superseding it means its outcome is not
// recorded, and the queue attempts one job per group at a time, so the
// newer job is not sent before that attempt ends.
func pendingOf(t *tx, lk []byte, target, groupKey string) (*Job, error) {
	id, ok := t.d.mem.pendingID(lk)
	if !ok {
		return nil, nil
	}
	j, err := getJob(t, StatePending, id)
	if err != nil || j == nil || j.Target != target || j.GroupKey != groupKey {
		return nil, err
	}
	return j, nil
}

// markSuperseded moves a pending job to the delivered history as replaced;
// its notification goes with its last waiting job.
func markSuperseded(t *tx, j *Job, now time.Time) error {
	j.Superseded = true
	j.Reason, j.Error, j.NextAttempt = "superseded", "replaced by a newer notification of the same group", time.Time{}
	if err := t.unref(j.Notification); err != nil {
		return err
	}
	return move(t, j, StatePending, StateDelivered, now)
}

// Get returns a job in any state.
func (d *DB) Get(id uint64) (*Job, error) {
	var out *Job
	err := d.read(func() error {
		for _, state := range []string{StatePending, StateDead, StateDelivered} {
			j, err := getJob(d, state, id)
			if err != nil {
				return err
			}
			if j != nil {
				out = j
				return nil
			}
		}
		return ErrNotFound
	})
	return out, err
}

// Pending returns a pending job; ErrNotFound if the job is in another
// state or gone.
func (d *DB) Pending(id uint64) (*Job, error) {
	var out *Job
	err := d.read(func() (err error) {
		out, err = getJob(d, StatePending, id)
		if err == nil && out == nil {
			err = ErrNotFound
		}
		return err
	})
	return out, err
}

// Reschedule records a failed attempt of a pending job and when to try
// next. If a newer job of the same group and target was accepted, the
// failed one is superseded instead (so an older state is never sent after
// a newer one) and superseded is true. ErrNotFound if the job is no longer
// pending.
func (d *DB) Reschedule(id uint64, attempts, sent int, next time.Time, reason, msg string, now time.Time) (superseded bool, err error) {
	err = d.write(func(t *tx) error {
		superseded = false
		j, err := getJob(t, StatePending, id)
		if err != nil {
			return err
		}
		if j == nil {
			return ErrNotFound
		}
		j.Attempts = attempts
		lk := latestKey(j.Target, j.GroupKey)
		var newest uint64
		ok := false
		if p, err := pendingOf(t, lk, j.Target, j.GroupKey); err != nil {
			return err
		} else if p != nil {
			newest, ok = p.ID, true
		} else if newest, ok, err = latestID(t, lk); err != nil {
			// The group's newest job is no longer pending (a newer one
			// was accepted and already finished): the disk says which.
			return err
		}
		// No entry: the newer job that replaced it as the newest was
		// removed since (pruned or deleted), which only happens to a job
		// that is no longer the newest.
		if !ok || newest != id {
			superseded = true
			return markSuperseded(t, j, now)
		}
		j.NextAttempt, j.Reason, j.Error, j.UpdatedAt, j.Sent = next, reason, msg, now, sent
		return putJob(t, j)
	})
	return superseded, err
}

// FinishOp is one job outcome for FinishAll.
type FinishOp struct {
	ID       uint64
	State    string // StateDelivered or StateDead
	Attempts int
	Reason   string
	Msg      string
	Now      time.Time
}

// FinishAll records many outcomes in one write: delivered jobs keep their
// metadata as history but drop the payload; dead letters keep it for
// replay. Outcomes of jobs no longer pending (deleted or superseded
// meanwhile) are skipped.
func (d *DB) FinishAll(ops []FinishOp) error {
	return d.write(func(t *tx) error {
		for _, op := range ops {
			if err := finish(t, op); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

func finish(t *tx, op FinishOp) error {
	if op.State != StateDelivered && op.State != StateDead {
		return fmt.Errorf("store: finishing delivery %d as %q", op.ID, op.State)
	}
	j, err := getJob(t, StatePending, op.ID)
	if err != nil {
		return err
	}
	if j == nil {
		return ErrNotFound
	}
	j.Attempts, j.Reason, j.Error, j.NextAttempt = op.Attempts, op.Reason, op.Msg, time.Time{}
	if op.State == StateDelivered {
		if err := t.unref(j.Notification); err != nil {
			return err
		}
	}
	t.dropPending(latestKey(j.Target, j.GroupKey), j.ID)
	return move(t, j, StatePending, op.State, op.Now)
}

// Requeue moves a dead job back to pending with its attempts reset.
// ErrSuperseded if a newer job of its group was accepted for its target.
func (d *DB) Requeue(id uint64, now time.Time) (*Job, error) {
	var out *Job
	err := d.write(func(t *tx) error {
		j, err := getJob(t, StateDead, id)
		if err != nil {
			return err
		}
		if j == nil {
			return ErrNotFound
		}
		lk := latestKey(j.Target, j.GroupKey)
		newest, ok, err := latestID(t, lk)
		if err != nil {
			return err
		}
		// The entry names the group's newest job while that job is
		// stored; a missing one means a newer job replaced this one and
		// was removed since (pruned from the history or deleted).
		if !ok || newest != id {
			return ErrSuperseded
		}
		// A replayed dead letter starts a new life: attempts and max_age
		// count from now, and every message is sent again.
		j.Attempts, j.Reason, j.Error, j.NextAttempt, j.CreatedAt, j.Sent = 0, "", "", time.Time{}, now, 0
		out = j
		if err := t.set(lk, u64(id)); err != nil {
			return err
		}
		t.setPending(lk, id)
		return move(t, j, StateDead, StatePending, now)
	})
	return out, err
}

// Delete removes a job in any state with its payload. The caller makes
// sure a pending job is not being attempted.
func (d *DB) Delete(id uint64) error {
	return d.write(func(t *tx) error {
		for _, state := range []string{StatePending, StateDead, StateDelivered} {
			j, err := getJob(t, state, id)
			if err != nil {
				return err
			}
			if j == nil {
				continue
			}
			return drop(t, j)
		}
		return ErrNotFound
	})
}

// drop removes a stored job, its payload and the newest-job entry that
// names it.
func drop(t *tx, j *Job) error {
	if err := t.del(jobKey(j.State, j.ID)); err != nil {
		return err
	}
	if j.State != StateDelivered {
		if err := t.unref(j.Notification); err != nil {
			return err
		}
	}
	lk := latestKey(j.Target, j.GroupKey)
	t.dropPending(lk, j.ID)
	if newest, ok, err := latestID(t, lk); err != nil {
		return err
	} else if ok && newest == j.ID {
		return t.del(lk)
	}
	return nil
}

// ForEachPending calls fn for every pending job in id order (used at
// startup to resume deliveries).
func (d *DB) ForEachPending(fn func(*Job) error) error {
	return d.read(func() error {
		return d.iterate([]byte{kindPending}, nil, false, func(k, v []byte) (bool, error) {
			j, err := decodeJob(k, v)
			if err != nil {
				return false, err
			}
			return true, fn(j)
		})
	})
}

// List returns up to limit jobs in a state, newest first, with ids below
// before (0: from the newest), optionally for one target only.
func (d *DB) List(state, target string, before uint64, limit int) ([]*Job, error) {
	kind, ok := stateKinds[state]
	if !ok {
		return nil, fmt.Errorf("unknown state %q", state)
	}
	var start []byte
	if before != 0 {
		start = idKey(kind, before)
	}
	out := []*Job{}
	err := d.read(func() error {
		return d.iterate([]byte{kind}, start, true, func(k, v []byte) (bool, error) {
			j, err := decodeJob(k, v)
			if err != nil {
				return false, err
			}
			if target == "" || j.Target == target {
				out = append(out, j)
			}
			return len(out) < limit, nil
		})
	})
	return out, err
}

// pruneBatch bounds the deletes of one pruning write, so pruning never
// holds the write lock long.
const pruneBatch = 512

// Prune drops delivered history older than maxAge or beyond maxCount
// (oldest first), and dedup keys older than dedupWindow.
func (d *DB) Prune(now time.Time, maxAge time.Duration, maxCount int, dedupWindow time.Duration) (int, error) {
	var drop []*Job
	err := d.read(func() error {
		total := 0
		err := d.iterate([]byte{kindDelivered}, nil, false, func(k, v []byte) (bool, error) {
			total++
			return true, nil
		})
		if err != nil {
			return err
		}
		excess := total - maxCount
		return d.iterate([]byte{kindDelivered}, nil, false, func(k, v []byte) (bool, error) {
			j, err := decodeJob(k, v)
			if err != nil {
				return false, err
			}
			if excess <= 0 && now.Sub(j.UpdatedAt) <= maxAge {
				// History is in acceptance order: what follows is newer.
				return false, nil
			}
			drop = append(drop, j)
			excess--
			return true, nil
		})
	})
	if err != nil {
		return 0, err
	}
	removed := 0
	for len(drop) > 0 {
		n := min(len(drop), pruneBatch)
		part := drop[:n]
		drop = drop[n:]
		err := d.write(func(t *tx) error {
			for _, j := range part {
				if err := dropHistory(t, j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return removed, err
		}
		removed += n
	}
	return removed, d.pruneDedup(now.Add(-dedupWindow))
}

// dropHistory removes a delivered job if it is still in the history.
func dropHistory(t *tx, j *Job) error {
	if cur, err := getJob(t, StateDelivered, j.ID); err != nil || cur == nil {
		return err
	}
	return drop(t, j)
}

// pruneDedup forgets notification keys accepted before cutoff.
func (d *DB) pruneDedup(cutoff time.Time) error {
	for {
		var keys [][]byte
		err := d.read(func() error {
			return d.iterate([]byte{kindExpiry}, nil, false, func(k, _ []byte) (bool, error) {
				ms, ok := keyID(k)
				if !ok || int64(ms) >= cutoff.UnixMilli() {
					return false, nil
				}
				keys = append(keys, append([]byte(nil), k...))
				return len(keys) < pruneBatch, nil
			})
		})
		if err != nil || len(keys) == 0 {
			return err
		}
		err = d.write(func(t *tx) error {
			for _, k := range keys {
				key := string(k[9:])
				at, ok, err := dedupTime(t, key)
				if err != nil {
					return err
				}
				// A later acceptance of the same key moved it on.
				if ms := int64(binary.BigEndian.Uint64(k[1:9])); ok && at.UnixMilli() == ms {
					if err := t.del(dedupKey(key)); err != nil {
						return err
					}
					t.dropDedup(key, ms)
				}
				if err := t.del(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || len(keys) < pruneBatch {
			return err
		}
	}
}

func move(t *tx, j *Job, from, to string, now time.Time) error {
	if err := t.del(jobKey(from, j.ID)); err != nil {
		return err
	}
	j.State, j.UpdatedAt = to, now
	return putJob(t, j)
}

// getJob reads a job of a state; nil if it is not there.
func getJob(g getter, state string, id uint64) (*Job, error) {
	k := jobKey(state, id)
	v, err := g.get(k)
	if errors.Is(err, errNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeJob(k, v)
}

func decodeJob(k, v []byte) (*Job, error) {
	var j Job
	if err := json.Unmarshal(v, &j); err != nil {
		id, _ := keyID(k)
		return nil, fmt.Errorf("%w: delivery %d does not decode: %v", ErrCorrupt, id, err)
	}
	return &j, nil
}

func putJob(t *tx, j *Job) error {
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return t.set(jobKey(j.State, j.ID), v)
}

// StampSeen stamps req's groups with the counters an Acceptance returned
// (acc.Seen, one per record of req.Group), as Accept itself does; for an
// engine that runs the write elsewhere.
func StampSeen(req AcceptRequest, seen []alert.Seen) {
	if req.Group == nil || len(seen) != len(req.Group.Records) {
		return
	}
	ids := make([]int64, len(req.Group.Records))
	for i, r := range req.Group.Records {
		ids[i] = r.ID
	}
	stamp(req, ids, seen)
}
