package bridge

import (
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/queue"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// Update in place: the app reads the messages a group left on a target
// from the store before an attempt (notify.Attempt.Refs), and records the
// messages the attempt posted or edited (notify.Result.Refs) right after
// it, whatever its outcome, so a retry of a notification split over
// several messages, or the next notification of the group, edits what was
// already posted. Data flows one way: the store knows nothing of
// notifiers, the notifiers nothing of the store.

// DefaultMessageRetention is how long the messages of a resolved group are
// remembered (Options.MessageRetention).
const DefaultMessageRetention = 24 * time.Hour

// updateMode is the target's update mode: notify.UpdateNew unless its
// notifier can revise messages and the target asks it to.
func updateMode(n notify.Notifier) notify.Update {
	if r, ok := n.(notify.Reviser); ok {
		return r.Update()
	}
	return notify.UpdateNew
}

// messageRefs returns the messages a job's group left on its target that
// the attempt may edit or answer; ok is false when there are none to use:
// no record, an expired one, or one of a group that resolved while the job
// is firing (a new incident posts new messages).
func (a *App) messageRefs(job *queue.Job) (store.MessageRefs, bool) {
	r, ok, err := a.db.MessageRefs(job.Target, job.GroupKey)
	if err != nil {
		a.log.Warn("could not read the messages to update; posting new ones", zap.String("target", job.Target),
			zap.String("group_key", job.GroupKey), zap.Error(err))
		return store.MessageRefs{}, false
	}
	if !ok || !r.Expires.After(a.now()) || (r.Resolved && !resolved(job)) {
		return store.MessageRefs{}, false
	}
	return r, true
}

func resolved(job *queue.Job) bool {
	return job.Group != nil && job.Group.Status == string(model.AlertResolved)
}

// saveMessageRefs records the messages an attempt delivered. With edit,
// each part's message replaces the one remembered for the part (parts it
// did not deliver keep theirs); with reply, the first notification's
// messages stay the ones later notifications answer. The record expires
// global.alert_retention after a firing notification and
// Options.MessageRetention after a resolved one.
func (a *App) saveMessageRefs(job *queue.Job, mode notify.Update, prev store.MessageRefs, usable bool, res notify.Result) {
	if res.Refs == nil {
		return
	}
	var refs []string
	if usable {
		refs = append(refs, prev.Refs...)
	}
	if mode == notify.UpdateEdit || !usable {
		for i, ref := range res.Refs {
			if ref == "" {
				continue
			}
			for len(refs) <= i {
				refs = append(refs, "")
			}
			refs[i] = ref
		}
	}
	now := a.now()
	done := res.Verdict == notify.Delivered && resolved(job)
	keep := time.Duration(a.rt.Load().cfg.Global.AlertRetention)
	if done {
		keep = a.opts.MessageRetention
	}
	rec := store.MessageRefs{Refs: refs, Resolved: done, Updated: now, Expires: now.Add(keep)}
	if err := a.db.SaveMessageRefs(job.Target, job.GroupKey, rec); err != nil {
		a.log.Warn("could not record the messages posted; the group's next notification posts new ones",
			zap.String("target", job.Target), zap.String("group_key", job.GroupKey), zap.Error(err))
	}
}
