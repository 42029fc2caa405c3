package queue

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// maxFinishBatch bounds the outcomes committed in one write.
const maxFinishBatch = 1024

// finishReq is a job's final outcome on its way to the store. The job
// stays in its lane, in flight, until the outcome is written.
type finishReq struct {
	op       store.FinishOp
	job      *Job
	res      notify.Result
	lane     *lane
	groupKey string
	errors   int // failed writes so far
}

// finish hands a job's final outcome (delivered or dead) to the committer.
func (q *Durable) finish(l *lane, e entry, sj *store.Job, job *Job, res notify.Result) {
	state := store.StateDelivered
	if res.Verdict != notify.Delivered {
		state = store.StateDead
	}
	if job == nil {
		job = &Job{ID: sj.ID, Target: sj.Target, GroupKey: sj.GroupKey, EnqueuedAt: sj.CreatedAt}
	}
	job.Attempts = sj.Attempts
	q.finishes <- finishReq{
		op:  store.FinishOp{ID: sj.ID, State: state, Attempts: sj.Attempts, Reason: string(res.Reason), Msg: res.Message, Now: time.Now()},
		job: job, res: res, lane: l, groupKey: e.groupKey,
	}
}

// commitFinishes writes job outcomes in batches until the channel closes.
// Outcomes that could not be written are kept and written again after a
// backoff; their jobs stay in flight in their lanes (counted, their group
// held) meanwhile. Whatever is still unwritten when the queue closes stays
// pending on disk and is sent again after a restart (at least once).
func (q *Durable) commitFinishes() {
	defer close(q.committerDone)
	var retry []finishReq
	var again <-chan time.Time
	open := true
	for open || len(retry) > 0 {
		var batch []finishReq
		switch {
		case !open:
			batch, retry = retry, nil // closing: one last try
		case len(retry) > 0:
			select {
			case r, ok := <-q.finishes:
				if !ok {
					open = false
					continue
				}
				batch = append(retry, r)
			case <-again:
				batch = retry
			}
			retry = nil
		default:
			r, ok := <-q.finishes
			if !ok {
				open = false
				continue
			}
			batch = append(batch, r)
		}
	drain:
		for open && len(batch) < maxFinishBatch {
			select {
			case r, ok := <-q.finishes:
				if !ok {
					open = false
					break drain
				}
				batch = append(batch, r)
			default:
				break drain
			}
		}
		failed := q.commit(batch, open)
		if len(failed) == 0 {
			continue
		}
		if !open {
			break
		}
		retry = failed
		fewest := failed[0].errors
		for _, r := range failed {
			fewest = min(fewest, r.errors)
		}
		again = time.After(notify.Backoff(fewest, q.storeRetry, storeRetryMax))
	}
}

// commit writes a batch of outcomes and returns those it could not write.
func (q *Durable) commit(batch []finishReq, open bool) []finishReq {
	ops := make([]store.FinishOp, len(batch))
	for i, r := range batch {
		ops[i] = r.op
	}
	err := q.db.FinishAll(ops)
	if err == nil {
		for _, r := range batch {
			q.finished(r)
		}
		return nil
	}
	// One bad outcome must not hold back the others: write them one by
	// one.
	var failed []finishReq
	for _, r := range batch {
		if len(batch) > 1 {
			err = q.db.FinishAll([]store.FinishOp{r.op})
		}
		if err == nil {
			q.finished(r)
			continue
		}
		r.errors++
		wait := notify.Backoff(r.errors, q.storeRetry, storeRetryMax)
		if !open {
			wait = 0 // not retried by this process
		}
		q.d.StoreError(r.job, "finish", err, wait)
		failed = append(failed, r)
	}
	return failed
}

// finished releases a job whose outcome is on disk and reports it.
func (q *Durable) finished(r finishReq) {
	q.busy.Delete(r.op.ID)
	r.lane.settle(r.op.ID, r.groupKey, nil)
	q.d.Finished(r.job, r.res)
}
