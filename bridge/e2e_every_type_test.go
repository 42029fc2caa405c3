package bridge

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/amtest"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// TestEndToEndEveryType has a real Alertmanager deliver one group, firing
// then resolved, through the bridge to every target type at once, each
// behind its strict fake (signatures, schemas, limits). Every fake must see
// the firing and then the resolved message, with the hostile summary
// intact for a reader, and no contract violation.
func TestEndToEndEveryType(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real Alertmanager")
	}
	type sink struct {
		typ  string
		fake *notifytest.Fake
		chat bool
	}
	var sinks []sink
	var cfg strings.Builder
	cfg.WriteString("global:\n  external_url: http://alertmanager.example:9093\n  retry: {attempts: 5, interval: 50ms, max_interval: 200ms}\ntargets:\n")
	for _, typ := range registry.Types() {
		c, ok := conformanceCases[typ]
		if !ok {
			t.Fatalf("type %s has no conformance case to take its fake from", typ)
		}
		fake, keys := c.start(t)
		sinks = append(sinks, sink{typ: typ, fake: fake, chat: c.chat})
		cfg.WriteString("  - name: e2e-" + typ + "\n    type: " + typ + "\n" + keys + "\n")
	}
	b := startBridge(t, cfg.String(), "")
	am := amtest.Start(t, amtest.Options{WebhookURL: b.url + "/webhook"})

	summary := `disk "full" on C:\ {{ x }} 磁盘 🔥 <b>&amp;</b>`
	a := amtest.Alert{
		Labels:       hostileLabels,
		Annotations:  map[string]string{"summary": summary},
		GeneratorURL: "http://prometheus.example/graph?g0.expr=up+%3D%3D+0",
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := am.PostAlerts(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, s := range sinks {
		if got := s.fake.WaitFor(1, 30*time.Second); len(got) < 1 {
			t.Fatalf("%s: nothing received for the firing notification; violations %q", s.typ, s.fake.Violations())
		}
	}
	if err := am.Resolve(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, s := range sinks {
		got := s.fake.WaitFor(2, 30*time.Second)
		if v := s.fake.Violations(); len(v) > 0 {
			t.Errorf("%s: contract violations %q", s.typ, v)
		}
		if len(got) != 2 {
			t.Errorf("%s: received %d messages, want firing then resolved", s.typ, len(got))
			continue
		}
		if !s.chat {
			continue
		}
		for i, want := range []string{"FIRING", "RESOLVED"} {
			if !strings.Contains(got[i].Text, want) || !strings.Contains(got[i].Text, summary) {
				t.Errorf("%s: message %d does not show %s and the summary %q intact:\n%s", s.typ, i+1, want, summary, got[i].Text)
			}
		}
	}
}
