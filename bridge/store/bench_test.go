package store

import (
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	bolt "go.etcd.io/bbolt"

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
	return AcceptRequest{
		DedupKey: key, DedupWindow: time.Minute, AlertIDs: alert.RecordIDs(m), Now: now,
		Build: func(seen []alert.Seen) (*alert.Group, []NewJob, error) {
			g := b.BuildSeen(m, now, seen)
			return g, []NewJob{{Job: &Job{Target: "critical", GroupKey: m.GroupKey}, Group: g}}, nil
		},
	}
}

// BenchmarkAccept: one acceptance of a 5-alert group with one job, from
// one caller, without fsync (NoSync) and without batch delay, so the
// transaction's own work and page writes show instead of the disk flush.
// "new" alerts get fresh entries each time; "repeat" re-notifies alerts
// from a set of 1,000 or 20,000, which appends to their delivery lists.
// cpu-ns/op is the steadier number on a shared machine.
func BenchmarkAccept(b *testing.B) {
	for _, bc := range []struct {
		name   string
		groups int // distinct groups of 5 alerts; 0: always new ones
	}{{"new", 0}, {"repeat-1k", 200}, {"repeat-20k", 4000}} {
		b.Run(bc.name, func(b *testing.B) {
			db, err := openDB(b.TempDir(), true)
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			msgs := make([]*alert.Message, bc.groups)
			for i := range msgs {
				msgs[i] = benchMessage(i, 5)
			}
			i := 0
			b.ReportAllocs()
			cpu, pages := cpuTime(), pageBytes(db)
			for b.Loop() {
				var m *alert.Message
				if bc.groups == 0 {
					m = benchMessage(i, 5)
				} else {
					m = msgs[i%bc.groups]
				}
				if _, err := db.Accept(benchRequest(m, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Millisecond))); err != nil {
					b.Fatal(err)
				}
				i++
			}
			// CPU time of the whole process (GC and bbolt's goroutines
			// included) per acceptance: unlike ns/op it ignores time spent
			// waiting for a CPU, so it compares well on a busy machine.
			if c := cpuTime() - cpu; c > 0 {
				b.ReportMetric(float64(c.Nanoseconds())/float64(b.N), "cpu-ns/op")
			}
			// Bytes of pages the commits wrote: with fsync, what the disk
			// flush has to carry.
			b.ReportMetric(float64(pageBytes(db)-pages)/float64(b.N), "written-B/op")
		})
	}
}

// BenchmarkAlerts: one page of 100 from an alert center of n alerts,
// filtered so that half of them match, and one alert with its deliveries.
func BenchmarkAlerts(b *testing.B) {
	for _, n := range []int{10000, 100000} {
		db, err := openDB(b.TempDir(), true)
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
			acc, err := db.Accept(benchRequest(m, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Second)))
			if err != nil {
				b.Fatal(err)
			}
			id = alert.RecordIDs(m)[0]
			_ = acc
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

// pageBytes is what the store has written so far: log records and the
// pages of bbolt's commits, once every logged change is in bbolt.
func pageBytes(db *DB) int64 {
	if err := db.view(func(*bolt.Tx) error { return nil }); err != nil {
		panic(err)
	}
	st := db.db.Stats()
	return st.TxStats.GetPageAlloc() + db.logBytes.Load()
}
