package alert

import (
	"time"

	"github.com/prometheus/alertmanager/template"
)

// Sample returns a notification for trying templates without an
// Alertmanager: one firing and one resolved alert whose values contain
// what breaks naive templates (quotes, backslashes, newlines, "{{", CJK,
// emoji). now anchors its times.
func Sample(now time.Time) *Message {
	start := now.Add(-15 * time.Minute)
	alerts := template.Alerts{
		{
			Status: "firing",
			Labels: template.KV{"alertname": "SampleAlert", "severity": "critical", "job": "node",
				"instance": `web-1:9100`, "note": "say \"hi\" \\ {{ .Evil }}\n磁盘告警 🔥"},
			Annotations: template.KV{"summary": "Sample alert from alertbridge", "description": "A line\nand \"another\""},
			StartsAt:    start, GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
			Fingerprint: "5a3b1c9d7e2f4a60",
		},
		{
			Status:      "resolved",
			Labels:      template.KV{"alertname": "SampleAlert", "severity": "warning", "job": "node", "instance": "web-2:9100"},
			Annotations: template.KV{"summary": "Resolved sample alert"},
			StartsAt:    start, EndsAt: now.Add(-time.Minute),
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
			Fingerprint:  "6b4c2d0e8f3a5b71",
		},
	}
	return &Message{
		Data: template.Data{
			Receiver: "alertbridge", Status: "firing", Alerts: alerts,
			GroupLabels:       template.KV{"alertname": "SampleAlert"},
			CommonLabels:      template.KV{"alertname": "SampleAlert", "job": "node"},
			CommonAnnotations: template.KV{},
			ExternalURL:       "http://alertmanager.example:9093",
		},
		Version: Version, GroupKey: `{}:{alertname="SampleAlert"}`,
	}
}
