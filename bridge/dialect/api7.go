package dialect

import (
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// API7Data is the data of API7 Enterprise's alert templates.
type API7Data struct {
	// Title is the notification's title (alert.Group.Title).
	Title string `json:"title"`
	// Severity is High, Medium or Low: the most urgent priority among the
	// firing alerts (all alerts once resolved).
	Severity string `json:"severity"`
	// Detail is one line per alert (alert.DetailLine).
	Detail string `json:"detail"`
	// AlertEvents maps each alertname to the detail lines of its alerts,
	// so {{ .AlertEvents.HighCPU }} reads one rule's alerts.
	AlertEvents map[string]string `json:"alertEvents"`
	// AlertPolicyName is what the group is about (alert.Group.Name).
	AlertPolicyName string `json:"alertPolicyName"`
	// AlertDetail is Detail, under the newer name.
	AlertDetail string `json:"alertDetail"`
	// Description is the common description or summary annotation, else
	// the title.
	Description string `json:"description"`
	// AlertTime is when the bridge received the notification, in the
	// configured time zone; it prints as "2006-01-02 15:04:05" and has the
	// methods of time.Time.
	AlertTime Time `json:"alertTime"`
	// TriggerGatewayGroup is the common gateway_group label (API7's
	// gateway group), else empty.
	TriggerGatewayGroup string `json:"triggerGatewayGroup"`
}

var api7Severity = map[int]string{alert.PriorityHigh: "High", alert.PriorityMedium: "Medium", alert.PriorityLow: "Low"}

// API7View maps the group to API7's vocabulary; times are printed in loc
// (nil: UTC).
func API7View(g *alert.Group, loc *time.Location) *API7Data {
	loc = orUTC(loc)
	d := &API7Data{
		Title:           g.Title(),
		Severity:        api7Severity[g.TopPriority()],
		Detail:          detail(g.Alerts),
		AlertEvents:     map[string]string{},
		AlertPolicyName: g.Name(),
		AlertTime:       Time{g.ReceivedAt.In(loc)},
	}
	d.TriggerGatewayGroup = g.CommonLabels["gateway_group"]
	d.AlertDetail = d.Detail
	for _, a := range g.Alerts {
		name := a.Labels[model.AlertNameLabel]
		if prev := d.AlertEvents[name]; prev != "" {
			d.AlertEvents[name] = prev + "\n" + alert.DetailLine(a)
		} else {
			d.AlertEvents[name] = alert.DetailLine(a)
		}
	}
	d.Description = strings.TrimSpace(g.CommonAnnotations["description"])
	if d.Description == "" {
		d.Description = strings.TrimSpace(g.CommonAnnotations["summary"])
	}
	if d.Description == "" {
		d.Description = d.Title
	}
	return d
}
