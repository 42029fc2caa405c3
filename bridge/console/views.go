package console

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// The views are what pages show; they are made from the Backend's types
// here, at the edge, so the templates depend on nothing else. They carry
// what the API answers carry (never URLs, secrets or payloads).

// jobView is one delivery job.
type jobView struct {
	ID                                  uint64
	Target, GroupKey, State             string
	Alerts, Attempts, Sent              int
	CreatedAt, UpdatedAt, NextAttemptAt time.Time
	Reason, Error                       string
	Superseded, Test                    bool
}

func jobOf(j *store.Job) jobView {
	return jobView{
		ID: j.ID, Target: j.Target, GroupKey: j.GroupKey, State: j.State,
		Alerts: j.Alerts, Attempts: j.Attempts, Sent: j.Sent,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, NextAttemptAt: j.NextAttempt,
		Reason: j.Reason, Error: j.Error, Superseded: j.Superseded, Test: j.Test,
	}
}

func jobsOf(js []*store.Job) []jobView {
	out := make([]jobView, 0, len(js))
	for _, j := range js {
		out = append(out, jobOf(j))
	}
	return out
}

// pair is one label or annotation, for sorted tables.
type pair struct{ Name, Value string }

func pairs(m map[string]string) []pair {
	out := make([]pair, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, pair{k, m[k]})
	}
	return out
}

// alertView is one alert center entry.
type alertView struct {
	ID                                  int64
	Target                              string // the record's target, "node/HighCPU"
	AlertDefineID                       int64
	Priority                            int
	Content                             string
	Firing                              bool
	Status                              int
	Times                               int64
	FirstTriggerTime, LastTriggerTime   int64
	GmtCreate, GmtUpdate                string
	UpdatedAt                           time.Time
	Fingerprint, GeneratorURL, Receiver string
	GroupKey                            string
	Labels, Annotations                 []pair
	DeliveryTargets                     []string
	Test                                bool
}

func alertOf(e *store.AlertEntry) alertView {
	return alertView{
		ID: e.ID, Target: e.Target, AlertDefineID: e.AlertDefineID, Priority: e.Priority, Content: e.Content,
		Firing: e.Status == alert.StatusFiring, Status: e.Status, Times: e.Times,
		FirstTriggerTime: e.FirstTriggerTime, LastTriggerTime: e.LastTriggerTime,
		GmtCreate: e.GmtCreate, GmtUpdate: e.GmtUpdate, UpdatedAt: e.UpdatedAt,
		Fingerprint: e.Fingerprint, GeneratorURL: e.GeneratorURL, Receiver: e.Receiver, GroupKey: e.GroupKey,
		Labels: pairs(e.Tags), Annotations: pairs(e.Annotations), DeliveryTargets: e.DeliveryTargets, Test: e.Test,
	}
}

// tags is the entry's labels, for matchers.
func tags(e *store.AlertEntry) map[string]string { return e.Tags }

// statusName names a record status.
func statusName(s int) string {
	if s == alert.StatusFiring {
		return "firing"
	}
	return "resolved"
}

// trimmed is s without surrounding space.
func trimmed(s string) string { return strings.TrimSpace(s) }
