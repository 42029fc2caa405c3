package watchdog

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// What a notice looks like to templates: one alert of its own group.
const (
	// AlertName is the notice alert's alertname.
	AlertName = "AlertPipelineSilent"
	// GroupKey is the notices' group key. Alertmanager's keys start with
	// "{", so it cannot be one of theirs; the silence, its reminders and
	// its recovery share it, so a newer notice replaces one still waiting.
	GroupKey = `alertbridge-watchdog:{}:{alertname="` + AlertName + `"}`
	// Receiver is the notices' receiver name.
	Receiver = "alertbridge-watchdog"
)

// Message is the Alertmanager-shaped notification of n: one alert named
// AlertName, firing (silent, reminder) or resolved (recovered), with the
// severity label set to critical and annotations saying since when no
// heartbeat matching cfg.Matchers came: summary, description, since,
// last_seen ("never" when none), matchers, timeout.
func Message(cfg *Config, n Notice) *alert.Message {
	loc := cfg.Location
	if loc == nil {
		loc = time.UTC
	}
	sev := cfg.SeverityLabel
	if sev == "" {
		sev = "severity"
	}
	at := func(t time.Time) string { return t.In(loc).Format("2006-01-02 15:04:05 MST") }
	lastSeen := "never"
	if !n.LastSeen.IsZero() {
		lastSeen = n.LastSeen.UTC().Format(time.RFC3339)
	}
	matchers := cfg.Matchers.String()
	labels := template.KV{"alertname": AlertName, sev: "critical"}
	ann := template.KV{
		"since":     n.Since.UTC().Format(time.RFC3339),
		"last_seen": lastSeen,
		"matchers":  matchers,
		"timeout":   model.Duration(cfg.Timeout).String(),
		"notice":    strconv.Itoa(n.Count),
	}
	a := template.Alert{Labels: labels, Annotations: ann, StartsAt: n.DeclaredAt}
	silentFor := model.Duration(n.At.Sub(n.Since).Round(time.Second)).String()
	heartbeat := "a heartbeat alert matching " + matchers
	if n.LastSeen.IsZero() {
		heartbeat += " (none seen since the bridge started)"
	}
	switch n.Kind {
	case KindRecovered:
		a.Status = string(model.AlertResolved)
		a.EndsAt = n.LastSeen
		ann["summary"] = fmt.Sprintf("Alert pipeline recovered: the heartbeat is back since %s, after a silence since %s", at(n.LastSeen), at(n.Since))
		ann["description"] = fmt.Sprintf("alertbridge accepted %s again at %s. It was silent since %s.", heartbeat, at(n.LastSeen), at(n.Since))
	default:
		a.Status = string(model.AlertFiring)
		ann["summary"] = fmt.Sprintf("Alert pipeline silent since %s (%s): no heartbeat alert for over %s", at(n.Since), silentFor, model.Duration(cfg.Timeout))
		ann["description"] = fmt.Sprintf("alertbridge has not accepted %s since %s, longer than the %s allowed. "+
			"Prometheus, Alertmanager or the way from them to the bridge may be down: alerts may be reaching no one.",
			heartbeat, at(n.Since), model.Duration(cfg.Timeout))
	}
	a.Fingerprint = model.LabelSet{"alertname": AlertName, model.LabelName(sev): "critical"}.Fingerprint().String()
	return &alert.Message{
		Data: template.Data{
			Receiver: Receiver, Status: a.Status, Alerts: template.Alerts{a},
			GroupLabels:       template.KV{"alertname": AlertName},
			CommonLabels:      maps.Clone(labels),
			CommonAnnotations: maps.Clone(ann),
		},
		Version: alert.Version, GroupKey: GroupKey,
	}
}
