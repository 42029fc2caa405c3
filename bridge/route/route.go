// Package route decides which targets a group goes to, and what each of
// them sees of it.
package route

import (
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Target is the routing view of one configured target.
type Target struct {
	Name         string
	Enabled      bool
	Matchers     labels.Matchers
	SendResolved bool
	MaxAlerts    int
}

// Selects reports whether every matcher holds for the alert's labels. A
// target without matchers selects everything.
func (t *Target) Selects(a template.Alert) bool {
	for _, m := range t.Matchers {
		if !m.Matches(a.Labels[m.Name]) {
			return false
		}
	}
	return true
}

// View is the group as this target receives it: resolved alerts dropped
// unless send_resolved, at most max_alerts alerts. It returns nil when
// nothing is left to send.
func (t *Target) View(g *alert.Group) *alert.Group {
	if !t.SendResolved {
		g = g.Filter(func(a template.Alert) bool { return a.Status == string(model.AlertFiring) })
		if g == nil {
			return nil
		}
	}
	return g.Truncate(t.MaxAlerts)
}

// Router holds the targets of one configuration, in config order.
type Router struct {
	targets []*Target
	byName  map[string]*Target
}

// New builds a router; names are unique (config guarantees it).
func New(targets []*Target) *Router {
	r := &Router{targets: targets, byName: make(map[string]*Target, len(targets))}
	for _, t := range targets {
		r.byName[t.Name] = t
	}
	return r
}

// Lookup finds a target by name.
func (r *Router) Lookup(name string) (*Target, bool) {
	t, ok := r.byName[name]
	return t, ok
}

// Select returns, in config order, the enabled targets whose matchers
// select at least one alert of g.
func (r *Router) Select(g *alert.Group) []*Target {
	var out []*Target
	for _, t := range r.targets {
		if !t.Enabled {
			continue
		}
		for _, a := range g.Alerts {
			if t.Selects(a) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}
