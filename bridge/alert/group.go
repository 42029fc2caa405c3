package alert

import (
	"slices"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// Group is one notification, normalized. It embeds Alertmanager's template
// data so templates written for Alertmanager (.Alerts, .CommonLabels,
// .ExternalURL, ...) work unchanged, and adds the bridge's views. Records[i]
// always describes Alerts[i]. A Group is immutable once built: stages that
// need a different view (a target's send_resolved or max_alerts) derive a
// new Group with Filter or Truncate.
type Group struct {
	template.Data
	GroupKey        string    `json:"groupKey"`
	TruncatedAlerts uint64    `json:"truncatedAlerts"`
	ReceivedAt      time.Time `json:"receivedAt"`
	// Records are the HertzBeat-style records, one per alert.
	Records []Record `json:"records"`

	// links caches the alerts' links; nil computes them on every call.
	links *links
}

// Filter returns the group restricted to the alerts keep accepts, with
// status and common labels recomputed. It returns nil when nothing is left.
func (g *Group) Filter(keep func(a template.Alert) bool) *Group {
	var alerts template.Alerts
	var records []Record
	for i, a := range g.Alerts {
		if keep(a) {
			alerts = append(alerts, a)
			records = append(records, g.Records[i])
		}
	}
	if len(alerts) == 0 {
		return nil
	}
	if len(alerts) == len(g.Alerts) {
		return g
	}
	return g.with(alerts, records, g.TruncatedAlerts)
}

// Truncate returns the group with at most max alerts, firing alerts first,
// counting the rest in TruncatedAlerts. max <= 0 means no limit.
func (g *Group) Truncate(max int) *Group {
	if max <= 0 || len(g.Alerts) <= max {
		return g
	}
	f := g.FiringFirst()
	alerts := slices.Clone(f.Alerts[:max])
	records := slices.Clone(f.Records[:max])
	return g.with(alerts, records, g.TruncatedAlerts+uint64(len(g.Alerts)-max))
}

func firingRank(a template.Alert) int {
	if a.Status == string(model.AlertFiring) {
		return 0
	}
	return 1
}

// with builds a derived group over a subset of alerts.
func (g *Group) with(alerts template.Alerts, records []Record, truncated uint64) *Group {
	n := *g
	n.Alerts = alerts
	n.Records = records
	n.TruncatedAlerts = truncated
	n.Status = string(model.AlertResolved)
	if len(alerts.Firing()) > 0 {
		n.Status = string(model.AlertFiring)
	}
	n.CommonLabels = commonKV(alerts, func(a template.Alert) template.KV { return a.Labels })
	n.CommonAnnotations = commonKV(alerts, func(a template.Alert) template.KV { return a.Annotations })
	return &n
}

func commonKV(alerts template.Alerts, kv func(template.Alert) template.KV) template.KV {
	out := template.KV{}
	if len(alerts) == 0 {
		return out
	}
	for k, v := range kv(alerts[0]) {
		out[k] = v
	}
	for _, a := range alerts[1:] {
		m := kv(a)
		for k, v := range out {
			if m[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}
