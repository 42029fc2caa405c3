package bridge

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// TestRebuildEqualsAcceptedGroup: a job's group rebuilt from its stored
// notification (what a delivery after a restart sends) equals the group
// the acceptance built and stamped with the counters (what a delivery
// straight away sends), for a target that drops resolved alerts and cuts
// the group, in a configured time zone, for alerts seen before.
func TestRebuildEqualsAcceptedGroup(t *testing.T) {
	yml := `global:
  timezone: Asia/Shanghai
targets:
  - name: ops
    type: webhook
    url: http://127.0.0.1:1/hook
    send_resolved: false
    max_alerts: 2
`
	app := newTestApp(t, yml, Options{Logger: zap.NewNop()})
	defer app.Close(t.Context())
	rt := app.rt.Load()
	target, _ := rt.router.Lookup("ops")
	msg, err := alert.Decode(bytes.NewReader(notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	var view *alert.Group
	var job *store.Job
	for i, at := range []time.Time{time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC)} {
		g := rt.builder.BuildSeen(msg, at, nil)
		view = target.View(g)
		body, _ := msg.Body()
		acc, err := app.db.Accept(store.AcceptRequest{DedupKey: string(rune('a' + i)), Now: at, Group: g, Body: body, Location: rt.builder.Zone(),
			Jobs: []store.NewJob{{Job: &store.Job{Target: "ops", GroupKey: g.GroupKey}, Group: view}}})
		if err != nil {
			t.Fatal(err)
		}
		job = acc.Jobs[0]
	}
	if view.Records[0].Times != 2 {
		t.Fatalf("accepted view not stamped: times %d", view.Records[0].Times)
	}
	n, err := app.db.Notification(job.Notification)
	if err != nil {
		t.Fatal(err)
	}
	rebuilt, err := app.Rebuild("ops", n)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(view)
	got, _ := json.Marshal(rebuilt)
	if !bytes.Equal(got, want) {
		t.Errorf("rebuilt group differs from the accepted one:\n got %s\nwant %s", got, want)
	}
	if _, err := app.Rebuild("nope", n); err == nil {
		t.Error("Rebuild for a removed target succeeded")
	}
}
