package jetstream

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// The writes go through the log; the reads are the view's, which holds
// every write this bridge made and those of others as far as it applied
// them (see Sync).

// Accept implements store.Queue. The acceptance's dedup key is the
// message's Nats-Msg-Id, so the copies that several bridges accept (from
// Alertmanager HA peers) are stored once.
func (e *Engine) Accept(req store.AcceptRequest) (*store.Acceptance, error) {
	c, err := acceptCommand(req)
	if err != nil {
		return nil, err
	}
	if len(req.Jobs) > 0 && len(req.Body) == 0 {
		return nil, fmt.Errorf("store: accept without the notification's body")
	}
	out, dup, err := e.write(c, req.Body, acceptMsgID(req))
	if err != nil {
		return nil, err
	}
	if dup {
		return &store.Acceptance{Duplicate: true}, nil
	}
	if out.err != nil {
		return nil, out.err
	}
	if !out.acc.Duplicate {
		store.StampSeen(req, out.acc.Seen)
	}
	return out.acc, nil
}

// acceptMsgID is the Nats-Msg-Id of an acceptance: its dedup key and the
// dedup window it falls in (req.Now divided by the window). Copies within
// one window are stored once by JetStream; a copy in the next window is
// stored and then found a duplicate by the view, which compares the
// acceptance times themselves; one a whole window later is never
// dropped by JetStream.
func acceptMsgID(req store.AcceptRequest) string {
	if req.DedupKey == "" || req.DedupWindow <= 0 {
		return ""
	}
	h := sha256.Sum256([]byte(req.DedupKey))
	return "accept:" + strconv.FormatInt(req.Now.UnixNano()/int64(req.DedupWindow), 36) + ":" + hex.EncodeToString(h[:20])
}

// Reschedule implements store.Queue.
func (e *Engine) Reschedule(id uint64, attempts, sent int, next time.Time, reason, msg string, now time.Time) (bool, error) {
	out, _, err := e.write(&command{Op: opReschedule, ID: id, Attempts: attempts, Sent: sent, Next: next,
		Reason: reason, Msg: msg, Now: now}, nil, "")
	if err != nil {
		return false, err
	}
	return out.superseded, out.err
}

// FinishAll implements store.Queue.
func (e *Engine) FinishAll(ops []store.FinishOp) error {
	if len(ops) == 0 {
		return nil
	}
	for _, op := range ops {
		if op.State != store.StateDelivered && op.State != store.StateDead {
			return fmt.Errorf("store: cannot finish job %d as %q", op.ID, op.State)
		}
	}
	out, _, err := e.write(&command{Op: opFinish, Finish: ops}, nil, "")
	if err != nil {
		return err
	}
	return out.err
}

// Requeue implements store.Queue.
func (e *Engine) Requeue(id uint64, now time.Time) (*store.Job, error) {
	out, _, err := e.write(&command{Op: opRequeue, ID: id, Now: now}, nil, "")
	if err != nil {
		return nil, err
	}
	return out.job, out.err
}

// Delete implements store.Queue.
func (e *Engine) Delete(id uint64) error {
	out, _, err := e.write(&command{Op: opDelete, ID: id}, nil, "")
	if err != nil {
		return err
	}
	return out.err
}

// Prune implements store.History.
func (e *Engine) Prune(now time.Time, maxAge time.Duration, maxCount int, dedupWindow time.Duration) (int, error) {
	out, _, err := e.write(&command{Op: opPrune, Now: now, MaxAge: maxAge, MaxCount: maxCount, DedupWindow: dedupWindow}, nil, "")
	if err != nil {
		return 0, err
	}
	return out.n, out.err
}

// PruneAlerts implements store.AlertCenter.
func (e *Engine) PruneAlerts(cutoff time.Time) (int, error) {
	out, _, err := e.write(&command{Op: opPruneAlerts, Cutoff: cutoff}, nil, "")
	if err != nil {
		return 0, err
	}
	return out.n, out.err
}

// SaveWatchdogState implements store.Watchdog.
func (e *Engine) SaveWatchdogState(s store.WatchdogState) error {
	out, _, err := e.write(&command{Op: opWatchdog, Watchdog: &s}, nil, "")
	if err != nil {
		return err
	}
	return out.err
}

// SaveMessageRefs implements store.Messages.
func (e *Engine) SaveMessageRefs(target, groupKey string, r store.MessageRefs) error {
	out, _, err := e.write(&command{Op: opRefs, Target: target, GroupKey: groupKey, Refs: &r}, nil, "")
	if err != nil {
		return err
	}
	return out.err
}

// PruneMessageRefs implements store.Messages.
func (e *Engine) PruneMessageRefs(now time.Time) (int, error) {
	out, _, err := e.write(&command{Op: opPruneRefs, Now: now}, nil, "")
	if err != nil {
		return 0, err
	}
	return out.n, out.err
}

// Pending implements store.Queue.
func (e *Engine) Pending(id uint64) (*store.Job, error) {
	if e.closed.Load() {
		return nil, store.ErrClosed
	}
	return e.v().Pending(id)
}

// Notification implements store.Queue.
func (e *Engine) Notification(nid uint64) (*store.Notification, error) {
	if e.closed.Load() {
		return nil, store.ErrClosed
	}
	return e.v().Notification(nid)
}

// Get implements store.Queue.
func (e *Engine) Get(id uint64) (*store.Job, error) {
	if e.closed.Load() {
		return nil, store.ErrClosed
	}
	return e.v().Get(id)
}

// ForEachPending implements store.Queue.
func (e *Engine) ForEachPending(fn func(*store.Job) error) error {
	if e.closed.Load() {
		return store.ErrClosed
	}
	return e.v().ForEachPending(fn)
}

// List implements store.History.
func (e *Engine) List(state, target string, before uint64, limit int) ([]*store.Job, error) {
	if e.closed.Load() {
		return nil, store.ErrClosed
	}
	return e.v().List(state, target, before, limit)
}

// Alerts implements store.AlertCenter.
func (e *Engine) Alerts(f store.AlertFilter, page store.AlertPage) ([]*store.AlertEntry, store.AlertCursor, error) {
	if e.closed.Load() {
		return nil, store.AlertCursor{}, store.ErrClosed
	}
	return e.v().Alerts(f, page)
}

// Alert implements store.AlertCenter.
func (e *Engine) Alert(id int64) (*store.AlertEntry, []*store.Job, error) {
	if e.closed.Load() {
		return nil, nil, store.ErrClosed
	}
	return e.v().Alert(id)
}

// WatchdogState implements store.Watchdog.
func (e *Engine) WatchdogState() (store.WatchdogState, bool, error) {
	if e.closed.Load() {
		return store.WatchdogState{}, false, store.ErrClosed
	}
	return e.v().WatchdogState()
}

// MessageRefs implements store.Messages.
func (e *Engine) MessageRefs(target, groupKey string) (store.MessageRefs, bool, error) {
	if e.closed.Load() {
		return store.MessageRefs{}, false, store.ErrClosed
	}
	return e.v().MessageRefs(target, groupKey)
}
