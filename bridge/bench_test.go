package bridge

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// benchPayload is a realistic group of n alerts; id makes it distinct.
func benchPayload(id, n int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, `{"version":"4","groupKey":"{}:{alertname=\"Bench\",g=\"%d\"}","status":"firing","receiver":"bridge",
"groupLabels":{"alertname":"Bench"},"commonLabels":{"alertname":"Bench","job":"node"},"commonAnnotations":{},
"externalURL":"http://am:9093","truncatedAlerts":0,"alerts":[`, id)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"status":"firing","labels":{"alertname":"Bench","job":"node","instance":"host-%d:9100","severity":"critical","g":"%d"},
"annotations":{"summary":"CPU high on host-%d","description":"load is \"high\"\nsee runbook"},
"startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"http://prom:9090/graph?g0.expr=up","fingerprint":"%08x%08x"}`, i, id, i, id, i)
	}
	b.WriteString("]}")
	return b.Bytes()
}

func newBenchApp(b *testing.B) *App {
	dir := b.TempDir()
	cfg := filepath.Join(dir, "c.yml")
	// The target never answers: the benchmark measures acceptance only.
	writeFile(b, cfg, `
targets:
  - name: critical
    type: webhook
    url: http://127.0.0.1:1/hook
    match: ['severity="critical"']
    retry: {attempts: 1, interval: 1h, max_interval: 1h}
  - name: other
    type: webhook
    url: http://127.0.0.1:1/hook
    match: ['team="none"']
`)
	app, err := New(Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), Logger: zap.NewNop()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = app.Close(b.Context()) })
	return app
}

// BenchmarkDecode: payload bytes to a validated message (5 alerts).
func BenchmarkDecode(b *testing.B) {
	p := benchPayload(1, 5)
	b.ReportAllocs()
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		if _, err := alert.Decode(bytes.NewReader(p)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRouteAndView: normalize, select targets, and derive views.
func BenchmarkRouteAndView(b *testing.B) {
	app := newBenchApp(b)
	rt := app.rt.Load()
	m, _ := alert.Decode(bytes.NewReader(benchPayload(1, 5)))
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		g := rt.builder.BuildSeen(m, now, nil)
		for _, t := range rt.router.Select(g) {
			_ = t.View(g)
		}
	}
}

// BenchmarkAcceptParallel: the whole durable acceptance (dedup check,
// counters, jobs committed to disk) from 32 concurrent callers, as the
// webhook handler does it. Group commit is what makes this scale.
func BenchmarkAcceptParallel(b *testing.B) {
	app := newBenchApp(b)
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(16) // 16 x GOMAXPROCS(2) = 32 callers
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m, err := alert.Decode(bytes.NewReader(benchPayload(int(next.Add(1)), 5)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := app.Accept(m, ""); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRenderDefaultBody: the webhook preset body for 5 alerts.
func BenchmarkRenderDefaultBody(b *testing.B) {
	app := newBenchApp(b)
	rt := app.rt.Load()
	m, _ := alert.Decode(bytes.NewReader(benchPayload(1, 5)))
	g := rt.builder.BuildSeen(m, time.Now(), nil)
	n := rt.targets["critical"].notifier
	b.ReportAllocs()
	for b.Loop() {
		if _, err := n.Build(b.Context(), g); err != nil {
			b.Fatal(err)
		}
	}
}
