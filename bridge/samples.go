package bridge

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
)

// loadSample is a notification every target is rendered from when a
// configuration loads.
type loadSample struct {
	name string
	msg  func(now time.Time) *alert.Message
}

// loadSamples are the built-in sample (what `render` previews) and the
// hostile one (values with quotes, backslashes, control characters,
// markup, Unicode, over 10,000 characters, and an alert without
// annotations), each also as a resolved group (every alert resolved, the
// group's status "resolved") and as a group of its first alert alone, so
// a template that breaks when a group resolves or holds one alert (index
// .Alerts 1) is refused too. The built-in sample itself mixes a firing
// and a resolved alert.
var loadSamples = []loadSample{
	{"built-in", alert.Sample},
	{"hostile", alert.HostileSample},
	{"built-in resolved", resolvedSample(alert.Sample)},
	{"hostile resolved", resolvedSample(alert.HostileSample)},
	{"built-in single-alert", singleSample(alert.Sample)},
	{"hostile single-alert", singleSample(alert.HostileSample)},
}

// resolvedSample returns sample with every alert resolved a minute ago.
func resolvedSample(sample func(time.Time) *alert.Message) func(time.Time) *alert.Message {
	return func(now time.Time) *alert.Message {
		m := sample(now)
		m.Status = "resolved"
		for i := range m.Alerts {
			a := &m.Alerts[i]
			if a.Status != "resolved" {
				a.Status, a.EndsAt = "resolved", now.Add(-time.Minute)
			}
		}
		return m
	}
}

// singleSample returns sample with its first (firing) alert alone.
func singleSample(sample func(time.Time) *alert.Message) func(time.Time) *alert.Message {
	return func(now time.Time) *alert.Message {
		m := sample(now)
		m.Alerts = m.Alerts[:1]
		m.Status = m.Alerts[0].Status
		return m
	}
}

// checkSamples renders every target of the runtime from each load sample,
// the way a delivery would (its routing view, send_resolved and
// max_alerts applied, then the notifier's Build: template, JSON, the
// platform's schema and size checks, splitting), and returns why any of
// them cannot produce an acceptable body: a template that fails for such
// values would fail deliveries, so the configuration is refused at start,
// at reload and by check-config instead. One error per target (the first
// sample it fails on), named by its key path and the template's line.
func (rt *runtime) checkSamples(now time.Time) error {
	var errs []error
	for i, t := range rt.cfg.Targets {
		tr, ok := rt.targets[t.Name]
		r, routed := rt.router.Lookup(t.Name)
		if !ok || !routed {
			continue
		}
		for _, s := range loadSamples {
			g := r.View(rt.builder.BuildSeen(s.msg(now), now, nil))
			if g == nil {
				continue // send_resolved: false and nothing firing
			}
			if _, err := tr.notifier.Build(context.Background(), g); err != nil {
				errs = append(errs, fmt.Errorf("%s: cannot render the %s sample: %w", templatePath(i, t, err), s.name, err))
				break
			}
		}
	}
	return errors.Join(errs...)
}

// templateLine finds the line and column text/template reports for a
// target's inline template (target/<name>/body:LINE:COL).
var templateLine = regexp.MustCompile(`target/[^/:]+/(?:body|header/[^:]+):(\d+)(?::(\d+))?`)

// templatePath names a target's template for an error about it: its key
// path (template or template_file, with the file's name) and, when err
// carries one, the line (and column) in the file, counted in the
// configuration file for an inline template.
func templatePath(i int, t *config.Target, err error) string {
	path := fmt.Sprintf("targets[%d] (%s)", i, t.Name)
	switch {
	case t.TemplateFile != "":
		path += ".template_file " + t.TemplateFile
	case t.Template != "":
		path += ".template"
	default:
		return path + " (the type's preset)"
	}
	if err == nil {
		return path
	}
	m := templateLine.FindStringSubmatch(err.Error())
	if m == nil {
		return path
	}
	line, _ := strconv.Atoi(m[1])
	where := ""
	switch {
	case t.TemplateFile != "":
		where = fmt.Sprintf(" (line %d", line)
	case t.TemplateLine > 0:
		where = fmt.Sprintf(" (line %d", t.TemplateLine+line-1)
	default:
		where = fmt.Sprintf(" (line %d of the template", line)
	}
	if m[2] != "" {
		where += ", column " + m[2]
	}
	return path + where + ")"
}
