package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Job states. A job lives in exactly one state bucket.
const (
	StatePending   = "pending"
	StateDelivered = "delivered"
	StateDead      = "dead"
)

var (
	bucketPayloads = []byte("payloads") // id -> group (payload.go)
	bucketDedup    = []byte("dedup")    // notification key -> accepted at (unix ms)
	bucketLatest   = []byte("latest")   // target \x00 groupKey -> id of the newest job
	stateBuckets   = map[string][]byte{
		StatePending:   []byte("pending"),
		StateDelivered: []byte("delivered"),
		StateDead:      []byte("dead"),
	}
)

// ErrNotFound is returned for an unknown job id.
var ErrNotFound = errors.New("no such delivery")

// ErrBusy is returned when deleting a job that is being attempted.
var ErrBusy = errors.New("delivery is being attempted right now; try again")

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
	// same group before it was attempted.
	Superseded bool `json:"superseded,omitempty"`
	// Sent counts the messages of a notification split over several that
	// were delivered; the next attempt, after a restart too, resumes after
	// them.
	Sent int `json:"sent,omitempty"`
}

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
}

// AcceptRequest is one notification to persist.
type AcceptRequest struct {
	// DedupKey identifies the notification (see alert.Message.DedupKey).
	DedupKey    string
	DedupWindow time.Duration
	// AlertIDs are the record ids of the notification's alerts, in order.
	AlertIDs []int64
	Now      time.Time
	// Build makes the jobs once the alert counters are known, and returns
	// the whole normalized group (Records[i] describes AlertIDs[i]) for the
	// alert center, which records every alert of the notification, also
	// those no job carries. A nil group records counters only. Build may
	// be called more than once and must not have side effects.
	Build func(seen []alert.Seen) (*alert.Group, []NewJob, error)
	// Busy reports whether a pending job is being attempted right now;
	// such a job is never superseded.
	Busy func(id uint64) bool
}

// Accept durably records one notification in a single transaction shared
// with concurrent callers: the duplicate check, the alert counters and
// alert center entries (one Put per alert), the jobs, and the superseding
// of older waiting jobs of the same group and target. When it returns
// without error, the jobs are on disk. A duplicate writes nothing.
func (d *DB) Accept(req AcceptRequest) (*Acceptance, error) {
	// Building the group and encoding its payloads is most of the work of
	// an acceptance. It is done here, before joining the shared
	// transaction (where every microsecond is serialized across webhook
	// requests), from the counters as they stand now. The transaction
	// builds again only if a concurrent acceptance of the same alerts
	// changed them meanwhile.
	var pre *prepared
	var seen []alert.Seen
	dup := false
	_ = d.read(func(tx kvTx) error {
		if dup = duplicate(tx, req); !dup {
			seen, _, _ = touchAlerts(tx, req.AlertIDs, req.Now)
		}
		return nil
	})
	if !dup && seen != nil {
		pre = prepare(req, seen)
	}
	var out *Acceptance
	err := d.batch(func(tx kvTx) (err error) {
		out, err = acceptTx(tx, req, &pre)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// prepared is a notification built for given alert counters.
type prepared struct {
	seen     []alert.Seen
	group    *alert.Group
	jobs     []NewJob
	payloads [][]byte // JSON of jobs[i].Group
	err      error
}

// prepare calls req.Build with seen and encodes the job payloads.
func prepare(req AcceptRequest, seen []alert.Seen) *prepared {
	p := &prepared{seen: seen}
	p.group, p.jobs, p.err = req.Build(seen)
	if p.err != nil {
		return p
	}
	p.payloads = make([][]byte, len(p.jobs))
	for i, nj := range p.jobs {
		p.payloads[i] = encodeGroup(make([]byte, 0, 2048), nj.Group)
	}
	return p
}

// sameSeen reports whether two counter snapshots are equal.
func sameSeen(a, b []alert.Seen) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Times != b[i].Times || !a[i].FirstSeen.Equal(b[i].FirstSeen) {
			return false
		}
	}
	return true
}

// duplicate reports whether req was accepted within its dedup window.
func duplicate(tx kvTx, req AcceptRequest) bool {
	if req.DedupKey == "" {
		return false
	}
	v := tx.Bucket(bucketDedup).Get([]byte(req.DedupKey))
	if len(v) != 8 {
		return false
	}
	at := time.UnixMilli(int64(binary.BigEndian.Uint64(v)))
	return req.Now.Sub(at) < req.DedupWindow
}

// acceptTx is the body of Accept's transaction. *pre is the notification
// as built before the transaction (nil if it was not); when the counters
// differ from the ones it was built with, it is built again, so the jobs
// committed always come from the last call of req.Build.
func acceptTx(tx kvTx, req AcceptRequest, pre **prepared) (*Acceptance, error) {
	out := &Acceptance{}
	if req.DedupKey != "" {
		if duplicate(tx, req) {
			out.Duplicate = true
			return out, nil
		}
		if err := tx.Bucket(bucketDedup).Put([]byte(req.DedupKey), u64(uint64(req.Now.UnixMilli()))); err != nil {
			return nil, err
		}
	}
	seen, alerts, index := touchAlerts(tx, req.AlertIDs, req.Now)
	if *pre == nil || !sameSeen((*pre).seen, seen) {
		*pre = prepare(req, seen)
	}
	p := *pre
	if p.err != nil {
		return nil, p.err
	}
	group, jobs := p.group, p.jobs
	views := make([]*alert.Group, 0, len(jobs))
	pending := tx.Bucket(stateBuckets[StatePending])
	payloads := tx.Bucket(bucketPayloads)
	latest := tx.Bucket(bucketLatest)
	for i, nj := range jobs {
		id, err := pending.NextSequence()
		if err != nil {
			return nil, err
		}
		j := *nj.Job
		j.ID, j.State, j.CreatedAt, j.UpdatedAt = id, StatePending, req.Now, req.Now
		j.Alerts = len(nj.Group.Alerts)
		if err := payloads.Put(u64(id), p.payloads[i]); err != nil {
			return nil, err
		}
		if err := putJob(pending, &j); err != nil {
			return nil, err
		}
		lk := latestKey(&j)
		if old := latest.Get(lk); len(old) == 8 {
			oldID := binary.BigEndian.Uint64(old)
			if old, err := supersede(tx, oldID, req.Now, req.Busy); err != nil {
				return nil, err
			} else if old != nil {
				out.Superseded = append(out.Superseded, old)
			}
		}
		if err := latest.Put(lk, u64(id)); err != nil {
			return nil, err
		}
		out.Jobs = append(out.Jobs, &j)
		views = append(views, nj.Group)
	}
	if err := recordAlerts(tx, alerts, index, group, out.Jobs, views, req.Now); err != nil {
		return nil, err
	}
	return out, nil
}

// supersede moves a still-waiting job to delivered history, marked
// superseded, unless it is being attempted. It returns the moved job, or
// nil when nothing was superseded.
func supersede(tx kvTx, id uint64, now time.Time, busy func(uint64) bool) (*Job, error) {
	j, err := getJob(tx.Bucket(stateBuckets[StatePending]), id)
	if err != nil || j == nil || (busy != nil && busy(id)) {
		return nil, err
	}
	return j, markSuperseded(tx, j, now)
}

// markSuperseded moves a pending job to the delivered history as replaced,
// dropping its payload.
func markSuperseded(tx kvTx, j *Job, now time.Time) error {
	j.Superseded = true
	j.Reason, j.Error, j.NextAttempt = "superseded", "replaced by a newer notification of the same group", time.Time{}
	if err := tx.Bucket(bucketPayloads).Delete(u64(j.ID)); err != nil {
		return err
	}
	return move(tx, j, StatePending, StateDelivered, now)
}

// Payload loads the group a job delivers.
func (d *DB) Payload(id uint64) (*alert.Group, error) {
	var v []byte
	err := d.read(func(tx kvTx) error {
		if v = tx.Bucket(bucketPayloads).Get(u64(id)); v == nil {
			return ErrNotFound
		}
		v = append([]byte(nil), v...) // decoded after the read ends
		return nil
	})
	if err != nil {
		return nil, err
	}
	return decodeGroup(v)
}

// Get returns a job in any state.
func (d *DB) Get(id uint64) (*Job, error) {
	var out *Job
	err := d.read(func(tx kvTx) error {
		for _, b := range stateBuckets {
			j, err := getJob(tx.Bucket(b), id)
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
// state or gone. It is Get for the queue's workers, which only attempt
// pending jobs: one bucket to look in instead of three.
func (d *DB) Pending(id uint64) (*Job, error) {
	var v []byte
	err := d.read(func(tx kvTx) error {
		if v = tx.Bucket(stateBuckets[StatePending]).Get(u64(id)); v == nil {
			return ErrNotFound
		}
		v = append([]byte(nil), v...) // decoded after the read ends
		return nil
	})
	if err != nil {
		return nil, err
	}
	var j Job
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, fmt.Errorf("decoding delivery %d: %w", id, err)
	}
	return &j, nil
}

// Reschedule records a failed attempt of a pending job and when to try
// next. If a newer job of the same group and target is waiting, the failed
// one is superseded instead (so an older state is never sent after a newer
// one) and superseded is true.
func (d *DB) Reschedule(id uint64, attempts, sent int, next time.Time, reason, msg string, now time.Time) (superseded bool, err error) {
	err = d.batch(func(tx kvTx) error {
		superseded = false
		b := tx.Bucket(stateBuckets[StatePending])
		j, err := getJob(b, id)
		if err != nil {
			return err
		}
		if j == nil {
			return ErrNotFound
		}
		j.Attempts = attempts
		if v := tx.Bucket(bucketLatest).Get(latestKey(j)); len(v) == 8 && binary.BigEndian.Uint64(v) != id {
			superseded = true
			return markSuperseded(tx, j, now)
		}
		j.NextAttempt, j.Reason, j.Error, j.UpdatedAt, j.Sent = next, reason, msg, now, sent
		return putJob(b, j)
	})
	return superseded, err
}

// Job outcomes are recorded with FinishAll: delivered jobs keep their
// metadata as history but drop the payload; dead letters keep it for
// replay.

// FinishOp is one job outcome for FinishAll.
type FinishOp struct {
	ID       uint64
	State    string
	Attempts int
	Reason   string
	Msg      string
	Now      time.Time
}

// FinishAll records many outcomes in one transaction. Outcomes of jobs no
// longer pending (deleted or superseded meanwhile) are skipped.
func (d *DB) FinishAll(ops []FinishOp) error {
	// Outcomes share the acceptances' commits (and their fsync).
	return d.batch(func(tx kvTx) error {
		for _, op := range ops {
			if err := finish(tx, op); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
		}
		return nil
	})
}

func finish(tx kvTx, op FinishOp) error {
	j, err := getJob(tx.Bucket(stateBuckets[StatePending]), op.ID)
	if err != nil {
		return err
	}
	if j == nil {
		return ErrNotFound
	}
	j.Attempts, j.Reason, j.Error, j.NextAttempt = op.Attempts, op.Reason, op.Msg, time.Time{}
	if op.State == StateDelivered {
		if err := tx.Bucket(bucketPayloads).Delete(u64(op.ID)); err != nil {
			return err
		}
	}
	// The newest job of its group and target is no longer waiting:
	// nothing is left for a newer notification to supersede (a lane
	// attempts one job per group at a time, so an older one of the group
	// was superseded when its attempt ended). Dropping the entry keeps the
	// index to groups with waiting jobs, and one accepted and delivered
	// within a memtable never reaches the database file.
	lk := latestKey(j)
	if v := tx.Bucket(bucketLatest).Get(lk); len(v) == 8 && binary.BigEndian.Uint64(v) == j.ID {
		if err := tx.Bucket(bucketLatest).Delete(lk); err != nil {
			return err
		}
	}
	return move(tx, j, StatePending, op.State, op.Now)
}

// latestKey is a job's key in the index of newest jobs per group and
// target.
func latestKey(j *Job) []byte { return []byte(j.Target + "\x00" + j.GroupKey) }

// Requeue moves a dead job back to pending with its attempts reset.
func (d *DB) Requeue(id uint64, now time.Time) (*Job, error) {
	var out *Job
	err := d.batch(func(tx kvTx) error {
		j, err := getJob(tx.Bucket(stateBuckets[StateDead]), id)
		if err != nil {
			return err
		}
		if j == nil {
			return ErrNotFound
		}
		// A replayed dead letter starts a new life: attempts and max_age
		// count from now, and every message is sent again.
		j.Attempts, j.Reason, j.Error, j.NextAttempt, j.CreatedAt, j.Sent = 0, "", "", time.Time{}, now, 0
		out = j
		// Waiting again, it is what a newer notification supersedes,
		// unless the group has a newer job of its own.
		if lk := latestKey(j); tx.Bucket(bucketLatest).Get(lk) == nil {
			if err := tx.Bucket(bucketLatest).Put(lk, u64(j.ID)); err != nil {
				return err
			}
		}
		return move(tx, j, StateDead, StatePending, now)
	})
	return out, err
}

// Delete removes a job in any state with its payload. busy reports
// whether a pending job is being attempted; such a job is not deleted.
func (d *DB) Delete(id uint64, busy func(uint64) bool) error {
	return d.batch(func(tx kvTx) error {
		for state, name := range stateBuckets {
			b := tx.Bucket(name)
			if b.Get(u64(id)) == nil {
				continue
			}
			if state == StatePending && busy != nil && busy(id) {
				return ErrBusy
			}
			if err := b.Delete(u64(id)); err != nil {
				return err
			}
			return tx.Bucket(bucketPayloads).Delete(u64(id))
		}
		return ErrNotFound
	})
}

// ForEachPending calls fn for every pending job in id order (used at
// startup to resume deliveries).
func (d *DB) ForEachPending(fn func(*Job) error) error {
	return d.view(func(tx *bolt.Tx) error {
		return tx.Bucket(stateBuckets[StatePending]).ForEach(func(_, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			return fn(&j)
		})
	})
}

// List returns up to limit jobs in a state, newest first, with ids below
// before (0: from the newest), optionally for one target only.
func (d *DB) List(state, target string, before uint64, limit int) ([]*Job, error) {
	name, ok := stateBuckets[state]
	if !ok {
		return nil, fmt.Errorf("unknown state %q", state)
	}
	var out []*Job
	err := d.view(func(tx *bolt.Tx) error {
		c := tx.Bucket(name).Cursor()
		var k, v []byte
		if before == 0 {
			k, v = c.Last()
		} else {
			c.Seek(u64(before))
			k, v = c.Prev()
		}
		for ; k != nil && len(out) < limit; k, v = c.Prev() {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			if target == "" || j.Target == target {
				out = append(out, &j)
			}
		}
		return nil
	})
	return out, err
}

// Prune drops delivered history older than maxAge or beyond maxCount
// (oldest first), and expired dedup keys.
func (d *DB) Prune(now time.Time, maxAge time.Duration, maxCount int, dedupWindow time.Duration) (int, error) {
	removed := 0
	err := d.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(stateBuckets[StateDelivered])
		excess := b.Stats().KeyN - maxCount
		var drop [][]byte
		err := b.ForEach(func(k, v []byte) error {
			var j Job
			if err := json.Unmarshal(v, &j); err != nil {
				return err
			}
			if excess > 0 || now.Sub(j.UpdatedAt) > maxAge {
				drop = append(drop, append([]byte(nil), k...))
				excess--
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range drop {
			if err := b.Delete(k); err != nil {
				return err
			}
			if err := tx.Bucket(bucketPayloads).Delete(k); err != nil {
				return err
			}
		}
		removed = len(drop)
		dd := tx.Bucket(bucketDedup)
		var old [][]byte
		_ = dd.ForEach(func(k, v []byte) error {
			if len(v) == 8 && now.Sub(time.UnixMilli(int64(binary.BigEndian.Uint64(v)))) > dedupWindow {
				old = append(old, append([]byte(nil), k...))
			}
			return nil
		})
		for _, k := range old {
			if err := dd.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	return removed, err
}

func move(tx kvTx, j *Job, from, to string, now time.Time) error {
	if err := tx.Bucket(stateBuckets[from]).Delete(u64(j.ID)); err != nil {
		return err
	}
	j.State, j.UpdatedAt = to, now
	return putJob(tx.Bucket(stateBuckets[to]), j)
}

func getJob(b kvBucket, id uint64) (*Job, error) {
	v := b.Get(u64(id))
	if v == nil {
		return nil, nil
	}
	var j Job
	if err := json.Unmarshal(v, &j); err != nil {
		return nil, fmt.Errorf("decoding delivery %d: %w", id, err)
	}
	return &j, nil
}

func putJob(b kvBucket, j *Job) error {
	v, err := json.Marshal(j)
	if err != nil {
		return err
	}
	return b.Put(u64(j.ID), v)
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}
