package alert

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// Summary is one alert's headline, and its record's content: its
// summary, description or message annotation (the first that is not
// blank), else its alertname.
func Summary(a template.Alert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if v := strings.TrimSpace(a.Annotations[k]); v != "" {
			return v
		}
	}
	return a.Labels[model.AlertNameLabel]
}

// Name is what the group is about: its group label values, else the
// common alertname, else "alerts".
func (g *Group) Name() string {
	if vs := g.GroupLabels.SortedPairs().Values(); len(vs) > 0 {
		return strings.Join(vs, " ")
	}
	if n := g.CommonLabels[model.AlertNameLabel]; n != "" {
		return n
	}
	return "alerts"
}

// Title is the notification's one-line title, as the chat presets print
// it: "[FIRING:2] HighCPU node" or "[RESOLVED] HighCPU node".
func (g *Group) Title() string {
	if g.Status == string(model.AlertFiring) {
		return fmt.Sprintf("[FIRING:%d] %s", len(g.Alerts.Firing()), g.Name())
	}
	return "[RESOLVED] " + g.Name()
}

// TopPriority is the most urgent HertzBeat priority among the firing
// alerts (all alerts when none fires), PriorityLow for an empty group.
func (g *Group) TopPriority() int {
	top, found := PriorityLow, false
	for _, firingOnly := range []bool{true, false} {
		for i, r := range g.Records {
			if firingOnly && g.Alerts[i].Status != string(model.AlertFiring) {
				continue
			}
			top, found = min(top, r.Priority), true
		}
		if found {
			break
		}
	}
	return top
}

// DetailLine describes one alert on one line of plain text:
// "[FIRING] HighCPU: CPU is hot (instance=web-1, job=node)". Line breaks
// inside values become spaces, so one alert is always one line.
func DetailLine(a template.Alert) string {
	status := "FIRING"
	if a.Status == string(model.AlertResolved) {
		status = "RESOLVED"
	}
	name := a.Labels[model.AlertNameLabel]
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", status, name)
	if s := Summary(a); s != name {
		b.WriteString(": " + s)
	}
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if k != model.AlertNameLabel {
			pairs = append(pairs, k+"="+a.Labels[k])
		}
	}
	if len(pairs) > 0 {
		b.WriteString(" (" + strings.Join(pairs, ", ") + ")")
	}
	return OneLine(b.String())
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

// OneLine replaces the line breaks in s with spaces.
func OneLine(s string) string { return lineBreaks.Replace(s) }
