package alert

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// benchPayload is a realistic webhook body with n alerts.
func benchPayload(b *testing.B, n int) []byte {
	b.Helper()
	alerts := make([]any, n)
	for i := range alerts {
		status := "firing"
		if i%4 == 3 {
			status = "resolved"
		}
		alerts[i] = map[string]any{
			"status": status,
			"labels": map[string]any{
				"alertname": "HighCPU", "job": "node", "severity": "critical",
				"instance": fmt.Sprintf("web-%d:9100", i), "region": "eu-west-1",
			},
			"annotations": map[string]any{
				"summary":     fmt.Sprintf("CPU on web-%d above 95%% for 10m", i),
				"description": "Load is \"high\" on C:\\data\nsecond line 告警 🔥",
			},
			"startsAt":     time.Date(2026, 11, 23, 10, 0, i%60, 0, time.UTC),
			"endsAt":       "0001-01-01T00:00:00Z",
			"generatorURL": "http://prometheus.example:9090/graph?g0.expr=cpu+%3E+0.95&g0.tab=1",
		}
		if i%2 == 0 {
			// Half come without a fingerprint, as hand-written payloads do.
			alerts[i].(map[string]any)["fingerprint"] = fmt.Sprintf("%016x", i)
		}
	}
	body, err := json.Marshal(map[string]any{
		"version": "4", "groupKey": `{}:{alertname="HighCPU"}`, "status": "firing",
		"receiver": "alertbridge", "externalURL": "http://alertmanager.example:9093",
		"groupLabels":  map[string]any{"alertname": "HighCPU"},
		"commonLabels": map[string]any{"alertname": "HighCPU", "job": "node", "severity": "critical"},
		"alerts":       alerts,
	})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

func BenchmarkDecodeAndBuild(b *testing.B) {
	for _, n := range []int{5, 500} {
		b.Run(fmt.Sprintf("alerts=%d", n), func(b *testing.B) {
			body := benchPayload(b, n)
			builder := &Builder{Recorder: newFakeRecorder(), Location: time.FixedZone("CST", 8*3600)}
			now := time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				m, err := Decode(bytes.NewReader(body))
				if err != nil {
					b.Fatal(err)
				}
				g, err := builder.Build(m, now)
				if err != nil {
					b.Fatal(err)
				}
				if len(g.Records) != n {
					b.Fatalf("%d records", len(g.Records))
				}
			}
		})
	}
}
