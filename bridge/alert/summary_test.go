package alert

import (
	"testing"

	"github.com/prometheus/alertmanager/template"
)

func annotate(kv template.KV) func(*template.Alert) {
	return func(a *template.Alert) { a.Annotations = kv }
}

func resolved(a *template.Alert) {
	a.Status = "resolved"
	a.EndsAt = now0
}

func TestSummaryAndDetailLine(t *testing.T) {
	for _, tc := range []struct {
		a             template.Alert
		summary, line string
	}{
		{mkAlert(template.KV{"alertname": "A"}), "A", "[FIRING] A"},
		{mkAlert(template.KV{"alertname": "A", "x": "1"}, annotate(template.KV{"summary": "  ", "message": "m\r\nn"})), "m\r\nn", "[FIRING] A: m n (x=1)"},
		{mkAlert(template.KV{"alertname": "A"}, resolved, annotate(template.KV{"description": "d"})), "d", "[RESOLVED] A: d"},
	} {
		if got := Summary(tc.a); got != tc.summary {
			t.Errorf("Summary = %q, want %q", got, tc.summary)
		}
		if got := DetailLine(tc.a); got != tc.line {
			t.Errorf("DetailLine = %q, want %q", got, tc.line)
		}
	}
}
