// Package alerttest builds Alertmanager alerts for tests of the packages
// that read them (alert, dialect).
package alerttest

import (
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

var (
	// T0 is when the test alerts start.
	T0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	// Now0 is the tests' now, five minutes later.
	Now0 = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
)

// Alert is a firing alert with the given labels, started at T0, with its
// fingerprint; opts adjust it.
func Alert(labels template.KV, opts ...func(*template.Alert)) template.Alert {
	a := template.Alert{
		Status:       "firing",
		Labels:       labels,
		Annotations:  template.KV{},
		StartsAt:     T0,
		GeneratorURL: "http://prometheus-0:9090/graph?g0.expr=up+%3D%3D+0&g0.tab=1",
	}
	ls := make(model.LabelSet, len(labels))
	for k, v := range labels {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	a.Fingerprint = ls.Fingerprint().String()
	for _, o := range opts {
		o(&a)
	}
	return a
}
