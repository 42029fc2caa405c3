package notifytest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// The fixed clocks of every fixture: when the notification is received and
// when the (fake) recorder first saw each alert.
var (
	FixedNow       = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	FixedFirstSeen = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
)

// Recorder is a deterministic alert.Recorder: every alert has been seen
// once, first at FixedFirstSeen.
type Recorder struct{}

func (Recorder) Touch(ids []int64, _ time.Time) ([]alert.Seen, error) {
	seen := make([]alert.Seen, len(ids))
	for i := range seen {
		seen[i] = alert.Seen{Times: 1, FirstSeen: FixedFirstSeen}
	}
	return seen, nil
}

// BuildGroup decodes and validates payload and builds its group at FixedNow.
func BuildGroup(t testing.TB, payload []byte) *alert.Group {
	t.Helper()
	m, err := alert.Decode(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	b := alert.Builder{Location: time.UTC, Recorder: Recorder{}}
	g, err := b.Build(m, FixedNow)
	if err != nil {
		t.Fatalf("building group: %v", err)
	}
	return g
}

// Alert and Payload are the Alertmanager webhook JSON shape, used to
// generate fixtures that go through alert.Decode like real payloads.
type Alert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []Alert           `json:"alerts"`
}

// ZeroTime is how Alertmanager writes an unset time.
const ZeroTime = "0001-01-01T00:00:00Z"

// NewPayload fills the group-level fields the way Alertmanager does.
func NewPayload(groupBy string, alerts []Alert) []byte {
	p := Payload{
		Version:           "4",
		Receiver:          "alertbridge",
		ExternalURL:       "http://alertmanager.example:9093",
		Status:            "resolved",
		Alerts:            alerts,
		GroupLabels:       map[string]string{groupBy: alerts[0].Labels[groupBy]},
		CommonLabels:      common(alerts, func(a Alert) map[string]string { return a.Labels }),
		CommonAnnotations: common(alerts, func(a Alert) map[string]string { return a.Annotations }),
	}
	for _, a := range alerts {
		if a.Status == "firing" {
			p.Status = "firing"
		}
	}
	gk, _ := json.Marshal(p.GroupLabels)
	p.GroupKey = "{}:" + string(gk)
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func common(alerts []Alert, kv func(Alert) map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range kv(alerts[0]) {
		out[k] = v
	}
	for _, a := range alerts[1:] {
		for k, v := range out {
			if kv(a)[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

// MixedPayload has firing and resolved alerts, every severity class, each
// content source and the edge cases of the record view (no job label, zero
// startsAt, resolved without endsAt, no generator URL).
func MixedPayload() []byte {
	gen := "http://prometheus.example:9090/graph?g0.expr=disk_used_ratio+%3E+0.9&g0.tab=1"
	return NewPayload("alertname", []Alert{
		{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-1:9100", "severity": "warning"},
			Annotations:  map[string]string{"description": "Disk /var on db-1 at 91%"},
			StartsAt:     "2026-11-23T09:40:00Z",
			EndsAt:       ZeroTime,
			GeneratorURL: gen,
		},
		{
			Status:       "resolved",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-2:9100", "severity": "critical"},
			Annotations:  map[string]string{"summary": "   ", "message": "disk freed on db-2"},
			StartsAt:     "2026-11-23T08:00:00Z",
			EndsAt:       "2026-11-23T10:03:00Z",
			GeneratorURL: gen,
		},
		{
			Status:      "firing",
			Labels:      map[string]string{"alertname": "DiskFull", "instance": "db-3:9100", "severity": "Error"},
			Annotations: map[string]string{},
			StartsAt:    ZeroTime,
			EndsAt:      ZeroTime,
			Fingerprint: "00000000000000ff",
		},
		{
			Status:       "resolved",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-4:9100", "severity": "unknown-sev"},
			Annotations:  map[string]string{"summary": "db-4 recovered"},
			StartsAt:     "2026-11-23T09:00:00Z",
			EndsAt:       ZeroTime,
			GeneratorURL: gen,
		},
	})
}

// Hostile values: JSON metacharacters, template syntax, CJK, emoji, control
// characters, HTML-significant characters and JavaScript line separators.
const (
	HostileName    = "Disk \"full\" \\ {{ .Status }} 告警 🔥\nline2\ttab\x01\x1b[31m\x7f </script>&<b> \u2028end"
	HostileSummary = "He said \"hi\" \\o/ {{ template \"x\" . }} {{ .CommonLabels }} 😀 中文\r\nnext\x00nul"
)

// HostilePayload carries HostileName and HostileSummary in two alerts.
func HostilePayload() []byte {
	labels := func(instance string) map[string]string {
		return map[string]string{
			"alertname":         HostileName,
			"job":               `a"b\c`,
			"instance":          instance,
			"severity":          "critical\n",
			"service.name/🔥\"q": "utf-8 label name",
			"empty":             "",
		}
	}
	return NewPayload("alertname", []Alert{
		{
			Status:       "firing",
			Labels:       labels("{{ template \"x\" }}:9100"),
			Annotations:  map[string]string{"summary": HostileSummary, "description": `\"\n literal backslashes \\ \u0041`},
			StartsAt:     "2026-11-23T10:00:00Z",
			EndsAt:       ZeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=%22%5C%7B%7B&g0.tab=1",
		},
		{
			Status:       "resolved",
			Labels:       labels("\u200b\ufeff:9100"),
			Annotations:  map[string]string{"summary": "second \x1f \u0085 \U0001F4A9"},
			StartsAt:     "2026-11-23T09:00:00Z",
			EndsAt:       "2026-11-23T10:04:59Z",
			GeneratorURL: "not a url \x7f",
		},
	})
}

// ManyPayload has 100 alerts generated deterministically.
func ManyPayload() []byte {
	severities := []string{"critical", "warning", "info", "error", "page"}
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	alerts := make([]Alert, 100)
	for i := range alerts {
		a := Alert{
			Status: "firing",
			Labels: map[string]string{
				"alertname": "HighLoad",
				"job":       "node",
				"instance":  fmt.Sprintf("host-%03d:9100", i),
				"severity":  severities[i%len(severities)],
				"rack":      fmt.Sprintf("r%d", i%4),
			},
			Annotations:  map[string]string{"summary": fmt.Sprintf("load on host-%03d is %d.%02d", i, 4+i%7, (i*37)%100)},
			StartsAt:     start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			EndsAt:       ZeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=node_load1+%3E+4&g0.tab=1",
		}
		if i%7 == 0 {
			a.Status = "resolved"
			a.EndsAt = start.Add(time.Duration(i)*time.Minute + 30*time.Minute).Format(time.RFC3339)
		}
		if i%2 == 0 {
			a.Annotations["description"] = fmt.Sprintf("alert %d of 100", i+1)
		}
		alerts[i] = a
	}
	return NewPayload("alertname", alerts)
}

// ReadExample reads a file of the repository's examples folder.
func ReadExample(t testing.TB, name string) []byte {
	t.Helper()
	_, here, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(here), "..", "..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Fixtures returns every named fixture payload: the examples, a mixed
// group, hostile values, 100 alerts.
func Fixtures(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"firing":   ReadExample(t, "payload-firing.json"),
		"resolved": ReadExample(t, "payload-resolved.json"),
		"mixed":    MixedPayload(),
		"hostile":  HostilePayload(),
		"many":     ManyPayload(),
	}
}

// SortedNames returns the keys of m in order.
func SortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// StormPayload is a group too big for any chat message: n firing alerts,
// each with its own instance label (host-000, host-001, ...) and a long,
// hostile description, so a platform's limit forces a split.
func StormPayload(n int) []byte {
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	alerts := make([]Alert, n)
	for i := range alerts {
		alerts[i] = Alert{
			Status: "firing",
			Labels: map[string]string{
				"alertname": "StormAlert", "job": "node", "severity": "critical",
				"instance": StormInstance(i),
			},
			Annotations: map[string]string{
				"summary":     fmt.Sprintf("storm alert %d: \"quoted\" \\ {{ .X }} 告警 🔥", i),
				"description": strings.Repeat("detail <b>&amp; _*` 磁盘 ", 20),
			},
			StartsAt:     start.Add(time.Duration(i) * time.Second).Format(time.RFC3339),
			EndsAt:       ZeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=up+%3D%3D+0",
		}
	}
	return NewPayload("alertname", alerts)
}

// StormInstance is the instance label of alert i of StormPayload.
func StormInstance(i int) string { return fmt.Sprintf("host-%03d", i) }

// HugePayload is one firing alert whose description alone (about 100 KB of
// CJK, emoji and markup) is larger than any chat message, so it can only be
// delivered shortened.
func HugePayload() []byte {
	return NewPayload("alertname", []Alert{{
		Status:       "firing",
		Labels:       map[string]string{"alertname": "HugeAlert", "severity": "warning", "instance": "big-1"},
		Annotations:  map[string]string{"summary": "huge alert", "description": strings.Repeat("磁盘告警🔥 \"q\" <&> \\ ", 6000)},
		StartsAt:     "2026-11-23T10:00:00Z",
		EndsAt:       ZeroTime,
		GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=up",
	}})
}

// ChatFixtures are the fixtures every chat integration's golden tests
// render: Fixtures plus a storm of 300 alerts and one huge alert.
func ChatFixtures(t testing.TB) map[string][]byte {
	fx := Fixtures(t)
	fx["storm"] = StormPayload(300)
	fx["huge"] = HugePayload()
	return fx
}
