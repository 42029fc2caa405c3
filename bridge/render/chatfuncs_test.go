package render

import (
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// The chat pieces' former template logic, kept here as the reference the
// functions must match.
const (
	refSummary = `{{ or (trimSpace .Annotations.summary) (trimSpace .Annotations.description) (trimSpace .Annotations.message) .Labels.alertname }}`
	refWhen    = `{{ if eq .Status "firing" }}{{ if not .StartsAt.IsZero }}since {{ .StartsAt | timeFormat "2006-01-02 15:04:05 MST" }}{{ end }}{{ else if .EndsAt.IsZero }}resolved{{ else }}resolved {{ .EndsAt | timeFormat "2006-01-02 15:04:05 MST" }}{{ if not .StartsAt.IsZero }}, after {{ .EndsAt.Sub .StartsAt | humanizeDuration }}{{ end }}{{ end }}`
)

func TestChatFunctionsMatchTheTemplatesTheyReplace(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		shanghai = time.FixedZone("CST", 8*3600)
	}
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	alerts := []template.Alert{
		{Status: "firing", StartsAt: start, Labels: template.KV{"alertname": "A"}, Annotations: template.KV{"summary": "  s  ", "description": "d"}},
		{Status: "firing", Labels: template.KV{"alertname": " A "}, Annotations: template.KV{"summary": " \t\n", "description": " d "}},
		{Status: "firing", Labels: template.KV{}, Annotations: template.KV{"message": "m 告警"}},
		{Status: "firing"},
		{Status: "resolved", StartsAt: start, EndsAt: start.Add(90*time.Minute + 3*time.Second), Labels: template.KV{"alertname": "B"}},
		{Status: "resolved", EndsAt: start.Add(time.Hour)},
		{Status: "resolved", StartsAt: start},
		{Status: "resolved", StartsAt: start, EndsAt: start.Add(-time.Minute)},
		{Status: "weird", StartsAt: start, EndsAt: start.Add(49 * time.Hour)},
	}
	for _, loc := range []*time.Location{time.UTC, shanghai} {
		set, err := New(Options{Location: loc, Inline: []Inline{
			{Name: "refSummary", Text: refSummary}, {Name: "refWhen", Text: refWhen},
			{Name: "summary", Text: `{{ include "chat.summary" . }}`}, {Name: "when", Text: `{{ include "chat.when" . }}`},
		}})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range alerts {
			for _, pair := range [][2]string{{"refSummary", "summary"}, {"refWhen", "when"}} {
				want, err := set.ExecuteString(pair[0], a)
				if err != nil {
					t.Fatal(err)
				}
				got, err := set.ExecuteString(pair[1], a)
				if err != nil {
					t.Fatal(err)
				}
				if got != want {
					t.Errorf("%s, alert %d: %q, want %q", loc, i, got, want)
				}
			}
		}
	}
}
