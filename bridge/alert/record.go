package alert

import (
	"hash/fnv"
	"maps"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// HertzBeat priorities and statuses.
const (
	PriorityHigh    = 0
	PriorityMedium  = 1
	PriorityLow     = 2
	StatusFiring    = 0
	StatusResolved  = 2
	hertzbeatLayout = "2006-01-02T15:04:05"
)

// DefaultPriorities maps common severity label values to HertzBeat
// priorities. Values not listed get PriorityLow.
func DefaultPriorities() map[string]int {
	return map[string]int{
		"critical": PriorityHigh, "emergency": PriorityHigh, "high": PriorityHigh, "page": PriorityHigh,
		"error": PriorityMedium, "major": PriorityMedium, "medium": PriorityMedium,
		"warning": PriorityLow, "minor": PriorityLow, "low": PriorityLow, "info": PriorityLow,
	}
}

// Record is one alert in HertzBeat's alert record shape.
type Record struct {
	// ID identifies one alert occurrence (fingerprint + startsAt), the same
	// across every notification that carries it. It fits in 53 bits so
	// JavaScript consumers read it exactly.
	ID int64 `json:"id"`
	// Target is the alertname, prefixed by the job label when present
	// ("node/HighCPU").
	Target string `json:"target"`
	// AlertDefineID identifies the alerting rule: alertname plus the rule
	// expression from the generator URL, so it is stable across Prometheus
	// replicas.
	AlertDefineID int64 `json:"alertDefineId"`
	// Priority: 0 high, 1 medium, 2 low, from the severity label.
	Priority int `json:"priority"`
	// Content is the summary, description or message annotation (the first
	// present), else the alertname.
	Content string `json:"content"`
	// Status: 0 firing, 2 resolved, from the alert's own status.
	Status int `json:"status"`
	// Times counts the notifications that carried this alert, kept across
	// restarts.
	Times            int64             `json:"times"`
	FirstTriggerTime int64             `json:"firstTriggerTime"`
	LastTriggerTime  int64             `json:"lastTriggerTime"`
	Tags             map[string]string `json:"tags"`
	// GmtCreate is when the bridge first saw the alert; GmtUpdate is this
	// notification. Both are local date-times in the configured time zone,
	// formatted as HertzBeat does (2006-01-02T15:04:05).
	GmtCreate string `json:"gmtCreate"`
	GmtUpdate string `json:"gmtUpdate"`
}

// Seen is what the bridge remembers of one alert across notifications.
type Seen struct {
	Times     int64
	FirstSeen time.Time
}

// Recorder supplies the per-alert counters behind Record.Times and
// GmtCreate for Build. Touch counts one more notification for every id and
// returns the updated state in the same order. The bridge itself does not
// use a Recorder: it counts inside the store's acceptance transaction and
// calls BuildSeen. Recorder serves tools and tests that build groups
// without a store.
type Recorder interface {
	Touch(ids []int64, now time.Time) ([]Seen, error)
}

// Builder turns validated messages into Groups.
type Builder struct {
	SeverityLabel string
	Priorities    map[string]int
	Location      *time.Location
	// ExternalURL, when set, replaces the Alertmanager's externalURL (for
	// links that must point somewhere users can reach).
	ExternalURL string
	Recorder    Recorder
}

// Build normalizes m received at now, counting the notification with the
// Recorder (counters stay zero without one). It fails only if the
// Recorder fails.
func (b *Builder) Build(m *Message, now time.Time) (*Group, error) {
	ids := RecordIDs(m)
	seen := make([]Seen, len(ids))
	if b.Recorder != nil {
		var err error
		if seen, err = b.Recorder.Touch(ids, now); err != nil {
			return nil, err
		}
	}
	return b.BuildSeen(m, now, seen), nil
}

// RecordIDs returns the record id of every alert of m, in order.
func RecordIDs(m *Message) []int64 {
	ids := make([]int64, len(m.Alerts))
	for i, a := range m.Alerts {
		ids[i] = RecordID(a)
	}
	return ids
}

// BuildSeen normalizes m with counters the caller already recorded;
// seen[i] belongs to m.Alerts[i].
func (b *Builder) BuildSeen(m *Message, now time.Time, seen []Seen) *Group {
	g := &Group{Data: m.Data, GroupKey: m.GroupKey, TruncatedAlerts: m.TruncatedAlerts, ReceivedAt: now, links: &links{}}
	if b.ExternalURL != "" {
		g.ExternalURL = b.ExternalURL
	}
	g.Records = make([]Record, len(m.Alerts))
	for i, a := range m.Alerts {
		var s Seen
		if i < len(seen) {
			s = seen[i]
		}
		g.Records[i] = b.record(a, RecordID(a), s, now)
	}
	return g
}

func (b *Builder) record(a template.Alert, id int64, seen Seen, now time.Time) Record {
	r := Record{
		ID:              id,
		Target:          recordTarget(a.Labels),
		AlertDefineID:   RuleID(a),
		Priority:        b.priority(a.Labels),
		Content:         Summary(a),
		Status:          StatusFiring,
		LastTriggerTime: now.UnixMilli(),
		Tags:            maps.Clone(map[string]string(a.Labels)),
		GmtUpdate:       now.In(b.location()).Format(hertzbeatLayout),
	}
	if a.Status == string(model.AlertResolved) {
		r.Status = StatusResolved
		if !a.EndsAt.IsZero() {
			r.LastTriggerTime = a.EndsAt.UnixMilli()
		}
	}
	r.stamp(seen, a.StartsAt, now, b.location())
	return r
}

// location is the time zone records are written in (UTC when unset).
func (b *Builder) location() *time.Location {
	if b.Location == nil {
		return time.UTC
	}
	return b.Location
}

// Zone returns the time zone the builder writes records in.
func (b *Builder) Zone() *time.Location { return b.location() }

// stamp sets the fields of r that come from the counters: Times,
// GmtCreate (in loc) and, when Alertmanager gave no start, the first
// trigger time. A zero Seen means first seen now.
func (r *Record) stamp(seen Seen, startsAt, now time.Time, loc *time.Location) {
	first := seen.FirstSeen
	if first.IsZero() {
		first = now
	}
	r.Times = seen.Times
	r.GmtCreate = first.In(loc).Format(hertzbeatLayout)
	r.FirstTriggerTime = startsAt.UnixMilli()
	if startsAt.IsZero() {
		r.FirstTriggerTime = first.UnixMilli()
	}
}

// Stamp sets the counters of every record of g whose id is in seen (see
// Seen), so a group built with BuildSeen(m, now, nil) and stamped with the
// counters equals one built with them. loc is the builder's time zone
// (Builder.Zone); now is g.ReceivedAt.
func (g *Group) Stamp(seen map[int64]Seen, loc *time.Location) {
	if loc == nil {
		loc = time.UTC
	}
	for i := range g.Records {
		s, ok := seen[g.Records[i].ID]
		if !ok || i >= len(g.Alerts) {
			continue
		}
		g.Records[i].stamp(s, g.Alerts[i].StartsAt, g.ReceivedAt, loc)
	}
}

func (b *Builder) priority(labels template.KV) int {
	label := b.SeverityLabel
	if label == "" {
		label = "severity"
	}
	prios := b.Priorities
	if prios == nil {
		prios = DefaultPriorities()
	}
	if p, ok := prios[strings.ToLower(strings.TrimSpace(labels[label]))]; ok {
		return p
	}
	return PriorityLow
}

func recordTarget(labels template.KV) string {
	name := labels[model.AlertNameLabel]
	if job := labels["job"]; job != "" {
		return job + "/" + name
	}
	return name
}

// jsSafe keeps ids within JavaScript's exact integer range.
const jsSafe = 1<<53 - 1

// RecordID is the stable id of one alert occurrence: its fingerprint and
// start time.
func RecordID(a template.Alert) int64 {
	return hash(a.Fingerprint, a.StartsAt.UTC().Format(time.RFC3339Nano))
}

// RuleID is the stable id of the alerting rule behind a: its alertname and,
// when the generator URL carries one, the rule expression (g0.expr).
func RuleID(a template.Alert) int64 {
	expr := ""
	if u, err := url.Parse(a.GeneratorURL); err == nil {
		expr = u.Query().Get("g0.expr")
	}
	return hash(a.Labels[model.AlertNameLabel], expr)
}

func hash(parts ...string) int64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(h.Sum64() & jsSafe)
}
