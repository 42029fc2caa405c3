package store

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// benchMessage is a firing group of n alerts like the bridge benchmark's;
// fp makes the alerts distinct.
func benchMessage(fp, n int) *alert.Message {
	m := &alert.Message{GroupKey: fmt.Sprintf(`{}:{alertname="Bench",g="%d"}`, fp), Version: "4",
		Data: template.Data{Receiver: "bridge", Status: "firing", ExternalURL: "http://am:9093",
			GroupLabels: template.KV{"alertname": "Bench"}, CommonLabels: template.KV{"alertname": "Bench", "job": "node"}}}
	for i := 0; i < n; i++ {
		m.Alerts = append(m.Alerts, template.Alert{
			Status:       "firing",
			Labels:       template.KV{"alertname": "Bench", "job": "node", "instance": fmt.Sprintf("host-%d:9100", i), "severity": "critical", "g": fmt.Sprint(fp)},
			Annotations:  template.KV{"summary": fmt.Sprintf("CPU high on host-%d", i), "description": "load is \"high\"\nsee runbook"},
			StartsAt:     t0,
			GeneratorURL: "http://prom:9090/graph?g0.expr=up",
			Fingerprint:  fmt.Sprintf("%08x%08x", i, fp),
		})
	}
	return m
}

func benchRequest(m *alert.Message, key string, now time.Time) AcceptRequest {
	b := &alert.Builder{}
	g := b.BuildSeen(m, now, nil)
	body, _ := m.Body()
	return AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Body: body,
		Jobs: []NewJob{{Job: &Job{Target: "critical", GroupKey: m.GroupKey}, Group: g}}}
}

// BenchmarkAccept: acceptances of a 5-alert group with one job, each
// durable (WAL synced) before it returns. "serial" is one caller, so
// every acceptance pays a whole disk sync; "parallel" runs 32 callers, as
// Alertmanager's concurrent posts do, sharing syncs through the group
// commit. "new" alerts get fresh entries each time; "repeat" re-notifies
// alerts from a set of 1,000. cpu-ns/op is the process's CPU time per
// acceptance, the steadier number on a shared machine; written-B/op the
// bytes the engine wrote (WAL, flushes and compactions).
func BenchmarkAccept(b *testing.B) {
	for _, bc := range []struct {
		name     string
		groups   int // distinct groups of 5 alerts; 0: always new ones
		parallel bool
	}{{"serial/new", 0, false}, {"parallel/new", 0, true}, {"parallel/repeat-1k", 200, true}} {
		b.Run(bc.name, func(b *testing.B) {
			db, err := Open(b.TempDir(), Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			msgs := make([]*alert.Message, bc.groups)
			for i := range msgs {
				msgs[i] = benchMessage(i, 5)
			}
			var n atomic.Int64
			one := func() {
				i := int(n.Add(1))
				var m *alert.Message
				if bc.groups == 0 {
					m = benchMessage(i, 5)
				} else {
					m = msgs[i%bc.groups]
				}
				if _, err := db.Accept(benchRequest(m, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Millisecond))); err != nil {
					b.Error(err)
				}
			}
			b.ReportAllocs()
			cpu, written := cpuTime(), writtenBytes(db)
			b.ResetTimer()
			if bc.parallel {
				b.SetParallelism(16) // 32 callers on 2 cores
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						one()
					}
				})
			} else {
				for i := 0; i < b.N; i++ {
					one()
				}
			}
			b.StopTimer()
			if c := cpuTime() - cpu; c > 0 {
				b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			b.ReportMetric(float64(writtenBytes(db)-written)/float64(b.N), "written-B/op")
		})
	}
}

// BenchmarkAlerts: one page of 100 from an alert center of n alerts,
// filtered so that half of them match, and one alert with its deliveries.
func BenchmarkAlerts(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		db, err := Open(b.TempDir(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		var id int64
		for i := 0; i < n/5; i++ {
			m := benchMessage(i, 5)
			if i%2 == 0 {
				for k := range m.Alerts {
					m.Alerts[k].Status = "resolved"
				}
			}
			if _, err := db.Accept(benchRequest(m, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second))); err != nil {
				b.Fatal(err)
			}
			id = alert.RecordIDs(m)[0]
		}
		firing := alert.StatusFiring
		b.Run(fmt.Sprintf("list/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if e, _, err := db.Alerts(AlertFilter{Status: &firing, DeliveryTarget: "critical"}, AlertPage{Limit: 100}); err != nil || len(e) != 100 {
					b.Fatal(len(e), err)
				}
			}
		})
		b.Run(fmt.Sprintf("get/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, jobs, err := db.Alert(id); err != nil || len(jobs) != 1 {
					b.Fatal(err)
				}
			}
		})
		db.Close()
	}
}

// writtenBytes is what the engine has written so far: its log, flushes
// and compactions.
func writtenBytes(db *DB) int64 {
	m := db.db.Metrics()
	total := int64(m.WAL.BytesWritten)
	for _, l := range m.Levels {
		total += int64(l.TableBytesFlushed + l.TableBytesCompacted)
	}
	return total
}
