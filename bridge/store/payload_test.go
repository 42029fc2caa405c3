package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// payloadGroups are groups built the way the bridge builds them, plus the
// shapes only hand-made groups have: nil and empty maps and lists, times
// in other zones and the zero time, tags that differ from the labels,
// hostile text.
func payloadGroups() map[string]*alert.Group {
	hostile := `quote " backslash \ newline
 {{ template }} 磁盘 🔥 <b>&amp;</b>` + "\x00\u2028"
	m := testMessage(`{}:{alertname="Hostile \"x\""}`,
		testAlert("HighCPU", "firing", "critical", 1), testAlert("DiskFull", "resolved", "warning", 2))
	m.Alerts[0].Labels["summary"] = hostile
	m.Alerts[1].Annotations["description"] = hostile
	m.CommonLabels = template.KV{"job": "node"}
	m.GroupLabels = template.KV{}
	m.ExternalURL = "http://am:9093/?q=" + hostile
	m.NotificationReason = "resolved"
	built := (&alert.Builder{}).BuildSeen(m, t0, []alert.Seen{{Times: 3, FirstSeen: t0.Add(-time.Hour)}, {Times: 1, FirstSeen: t0}})
	built.TruncatedAlerts = 7

	zoned := (&alert.Builder{}).BuildSeen(benchMessage(3, 3), t0, nil)
	zoned.Alerts[0].StartsAt = time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("", 5*3600+1800))
	zoned.Alerts[1].EndsAt = time.Date(2026, 1, 2, 3, 4, 5, 0, time.Local)
	zoned.ReceivedAt = time.Time{}
	zoned.Records[0].Tags = map[string]string{"other": "tags"}
	zoned.Records[1].Tags = nil
	zoned.Records[2].Tags = map[string]string{}
	zoned.Alerts[2].Annotations = template.KV{}
	zoned.Alerts[2].Labels = nil

	return map[string]*alert.Group{
		"built":        built,
		"bench":        (&alert.Builder{}).BuildSeen(benchMessage(1, 5), t0, nil),
		"zones":        zoned,
		"empty":        {},
		"empty lists":  {Data: template.Data{Alerts: template.Alerts{}}, Records: []alert.Record{}},
		"more records": {Data: template.Data{Alerts: template.Alerts{{Status: "firing"}}}, Records: []alert.Record{{ID: -1, Tags: map[string]string{"a": "b"}}, {ID: 1 << 60}}},
	}
}

// The binary payload decodes to exactly what a JSON round trip gives, and
// stored JSON payloads still decode.
func TestPayloadEncodingMatchesJSON(t *testing.T) {
	for name, g := range payloadGroups() {
		t.Run(name, func(t *testing.T) {
			js, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			var want alert.Group
			if err := json.Unmarshal(js, &want); err != nil {
				t.Fatal(err)
			}
			bin := encodeGroup(nil, g)
			got, err := decodeGroup(bin)
			if err != nil {
				t.Fatalf("decoding: %v", err)
			}
			if !reflect.DeepEqual(got, &want) {
				t.Errorf("binary round trip differs from JSON's:\n got %+v\nwant %+v", got, &want)
			}
			if g2, _ := json.Marshal(got); string(g2) != string(js) {
				t.Errorf("re-encoded JSON differs:\n got %s\nwant %s", g2, js)
			}
			old, err := decodeGroup(js)
			if err != nil || !reflect.DeepEqual(old, &want) {
				t.Errorf("JSON payload: %v %+v", err, old)
			}
			if len(bin) >= len(js) && len(js) > 200 {
				t.Errorf("binary %d bytes, JSON %d", len(bin), len(js))
			}
			// Every truncation fails cleanly.
			for n := 0; n < len(bin); n++ {
				if _, err := decodeGroup(bin[:n]); err == nil {
					t.Fatalf("payload cut at %d of %d decoded", n, len(bin))
				}
			}
		})
	}
}

// Arbitrary bytes never panic the decoder.
func FuzzDecodeGroup(f *testing.F) {
	for _, g := range payloadGroups() {
		f.Add(encodeGroup(nil, g))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		g, err := decodeGroup(b)
		if err == nil && g == nil {
			t.Fatal("nil group without error")
		}
	})
}

func BenchmarkPayload(b *testing.B) {
	g := (&alert.Builder{}).BuildSeen(benchMessage(1, 5), t0, nil)
	bin := encodeGroup(nil, g)
	js, _ := json.Marshal(g)
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			encodeGroup(make([]byte, 0, 2048), g)
		}
		b.ReportMetric(float64(len(bin)), "bytes")
	})
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = json.Marshal(g)
		}
		b.ReportMetric(float64(len(js)), "bytes")
	})
	b.Run("decode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeGroup(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeGroup(js); err != nil {
				b.Fatal(err)
			}
		}
	})
}
