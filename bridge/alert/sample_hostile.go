package alert

import (
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// HostileSample returns a notification whose values are what real labels
// and annotations can hold and naive templates break on: JSON's quotes
// and backslashes, control characters (NUL, escape sequences, DEL),
// Unicode line and paragraph separators, bidi overrides and zero-width
// characters, HTML and Slack/Markdown/Telegram markup, template syntax,
// CJK and emoji, a value over 10,000 characters, and an alert with no
// annotations and empty label values. Every target is rendered from it
// when a configuration loads, so a template that cannot produce an
// acceptable body for such values is refused then, not per alert. now
// anchors its times.
func HostileSample(now time.Time) *Message {
	start := now.Add(-20 * time.Minute)
	const (
		name    = "Disk \"full\" \\ {{ .Status }} 告警 🔥 *bold* _it_ `code` [x](y) <b>&amp;</b> </script> ~s~ ||sp|| #1 > 2.5 - + = | {} !"
		summary = "He said \"hi\" \\o/ C:\\data\\ {{ template \"x\" . }} <a href=\"javascript:x\">y</a> & *_`[ 😀 中文\r\nnext\x00nul \x1b[31m\x7f \u2028\u2029 \u202eevil\u202c \u200b\ufeff"
		url     = "http://prometheus.example:9090/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+0+and+y%7Ba%3D%22%5C%22%22%7D&g0.tab=1"
	)
	long := strings.Repeat("0123456789 *_`[<&> \"\\ 告警🔥 ", 400) // over 10,000 characters
	alerts := template.Alerts{
		{
			Status: "firing",
			Labels: template.KV{"alertname": name, "severity": "critical\n", "job": `a"b\c`,
				"instance": "{{ template \"x\" }}:9100", "service.name/🔥\"q": "utf-8 label name", "empty": ""},
			Annotations: template.KV{"summary": summary, "description": "\\\"\n literal backslashes \\ \u0041 \t tab",
				"runbook_url": "https://runbooks.example/a_b?c=(d)&e=`f`"},
			StartsAt: start, GeneratorURL: url, Fingerprint: "0f1e2d3c4b5a6978",
		},
		{
			// No annotations, and empty values for the labels templates
			// reach for first.
			Status:   "firing",
			Labels:   template.KV{"alertname": name, "severity": "", "instance": "", "job": ""},
			StartsAt: start, GeneratorURL: url, Fingerprint: "1a2b3c4d5e6f7081",
		},
		{
			Status:      "resolved",
			Labels:      template.KV{"alertname": name, "severity": "warning", "instance": "\u200b\ufeff:9100", "job": long[:300]},
			Annotations: template.KV{"summary": "", "description": long},
			StartsAt:    start, EndsAt: now.Add(-time.Minute), GeneratorURL: url, Fingerprint: "2b3c4d5e6f708192",
		},
	}
	return &Message{
		Data: template.Data{
			Receiver: "alertbridge \"hostile\" <r>", Status: "firing", Alerts: alerts,
			GroupLabels:       template.KV{"alertname": name},
			CommonLabels:      template.KV{"alertname": name},
			CommonAnnotations: template.KV{},
			ExternalURL:       "http://alertmanager.example:9093",
		},
		Version: Version, GroupKey: "{}:{alertname=\"" + strings.ReplaceAll(name, "\"", "\\\"") + "\"}",
	}
}
