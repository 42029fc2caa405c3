package jetstream

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// benchRequest is a realistic notification: 5 alerts with a few labels
// and a 200-byte description, about 6 KB as Alertmanager posts it.
func benchRequest(n int) store.AcceptRequest {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	g := &alert.Group{Data: template.Data{Receiver: "team", Status: "firing",
		GroupLabels:  template.KV{"alertname": "HighLatency"},
		CommonLabels: template.KV{"alertname": "HighLatency", "cluster": "prod-eu-1", "namespace": "checkout"}},
		GroupKey: fmt.Sprintf(`{}:{alertname="HighLatency",n="%d"}`, n), ReceivedAt: now}
	for i := range 5 {
		labels := template.KV{"alertname": "HighLatency", "cluster": "prod-eu-1", "namespace": "checkout",
			"pod": fmt.Sprintf("checkout-%d-7f9c", i), "severity": "critical", "job": "checkout", "instance": fmt.Sprintf("10.0.0.%d:8080", i)}
		g.Alerts = append(g.Alerts, template.Alert{Status: "firing", Labels: labels,
			Annotations: template.KV{"summary": "p99 latency above 2s", "description": strings.Repeat("latency is high ", 13)},
			StartsAt:    now.Add(-time.Minute), GeneratorURL: "http://prometheus:9090/graph?g0.expr=x", Fingerprint: fmt.Sprintf("%016x", i)})
		g.Records = append(g.Records, alert.Record{ID: int64(n*10 + i), Target: "checkout/HighLatency", Content: "p99 latency above 2s",
			Tags: map[string]string(labels), FirstTriggerTime: now.UnixMilli(), LastTriggerTime: now.UnixMilli()})
	}
	return store.AcceptRequest{Now: now, Group: g, Body: make([]byte, 6000), DedupKey: fmt.Sprint("k", n), DedupWindow: time.Minute,
		Jobs: []store.NewJob{{Job: &store.Job{Target: "t", GroupKey: g.GroupKey}, Group: g}}}
}

func BenchmarkCommandEncode(b *testing.B) {
	req := benchRequest(1)
	b.ReportAllocs()
	for b.Loop() {
		c, _ := acceptCommand(req)
		if _, err := encode(c, req.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCommandDecode(b *testing.B) {
	req := benchRequest(1)
	c, _ := acceptCommand(req)
	data, _ := encode(c, req.Body)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		c, body, err := decode(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.acceptRequest(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkApply is what every bridge does per acceptance: decode the
// log message, write it to its view (on disk, unsynced), and later the
// delivery's outcome, which removes the notification (a job is delivered
// about 50 acceptances after it was accepted).
func BenchmarkApply(b *testing.B) {
	view, err := store.OpenVolatile(viewOptions(Options{ViewDir: b.TempDir() + "/view"}, 0))
	if err != nil {
		b.Fatal(err)
	}
	defer view.Close()
	e := &Engine{}
	e.viewP.Store(view)
	msgs := make([][]byte, 0, 4096)
	for n := range cap(msgs) {
		req := benchRequest(n)
		c, _ := acceptCommand(req)
		data, _ := encode(c, req.Body)
		msgs = append(msgs, data)
	}
	var ids []uint64
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, body, err := decode(msgs[i%len(msgs)])
		if err != nil {
			b.Fatal(err)
		}
		c.DedupKey = fmt.Sprint("k", i)
		out, _ := e.run(c, body)
		if out.err != nil {
			b.Fatal(out.err)
		}
		ids = append(ids, out.acc.Jobs[0].ID)
		if len(ids) > 50 {
			fin := &command{Op: opFinish, Finish: []store.FinishOp{{ID: ids[0], State: store.StateDelivered, Now: c.Now}}}
			data, _ := encode(fin, nil)
			fc, _, _ := decode(data)
			if out, _ := e.run(fc, nil); out.err != nil {
				b.Fatal(out.err)
			}
			ids = ids[1:]
		}
		i++
	}
}
