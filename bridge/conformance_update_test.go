package bridge

import (
	"bytes"
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// TestConformanceUpdates: for every type that updates in place, in each
// of its modes, a first delivery names its messages (Result.Refs), and the
// group's next notification, given those names, reaches the type's strict
// fake as an edit or reply (not the plain new message) without a
// violation, and names its messages too. A type with several ways of
// posting (an incoming webhook, an API) runs each update mode through
// every conformance case whose configuration takes it, and at least one
// must.
func TestConformanceUpdates(t *testing.T) {
	fx := notifytest.Fixtures(t)
	for _, typ := range registry.Types() {
		in, _, _ := registry.Lookup(typ)
		names, cases := conformanceModes(typ)
		if len(cases) == 0 || len(in.Updates) == 0 {
			continue
		}
		for _, mode := range in.Updates {
			ran := false
			for i, c := range cases {
				_, keys := c.start(t)
				keys += "\n    update: " + string(mode)
				if _, err := config.Parse([]byte(fmt.Sprintf("targets:\n  - name: conf\n    type: %s\n%s\n", c.typ, keys)), t.TempDir()); err != nil {
					continue // this way of posting cannot update; config tests cover why
				}
				ran = true
				t.Run(names[i]+"/"+string(mode), func(t *testing.T) { conformanceUpdate(t, c, mode, fx) })
			}
			if !ran {
				t.Errorf("%s registers update %s, but no conformance case of it takes it", typ, mode)
			}
		}
	}
}

// conformanceUpdate runs one update mode through one case.
func conformanceUpdate(t *testing.T, c conformanceCase, mode notify.Update, fx map[string][]byte) {
	fake, keys := c.start(t)
	tr := conformanceTarget(t, c, keys+"\n    update: "+string(mode))
	first := conformanceDeliver(t, tr, fx["firing"])
	if first.Verdict != notify.Delivered || len(first.Refs) == 0 || first.Refs[0] == "" {
		t.Fatalf("first delivery %+v: want it delivered, naming its message", first)
	}
	g := notifytest.BuildGroup(t, fx["resolved"])
	plain, err := tr.notifier.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	before := len(fake.Received())
	second := (&notify.Sender{UserAgent: "alertbridge-conformance"}).Deliver(context.Background(), tr.client, tr.notifier, g, notify.Attempt{Refs: first.Refs})
	if second.Verdict != notify.Delivered || len(second.Refs) == 0 || second.Refs[0] == "" {
		t.Fatalf("second delivery %+v", second)
	}
	got := fake.Received()
	if len(got) != before+len(plain) {
		t.Fatalf("the fake received %d requests for the second notification, want %d", len(got)-before, len(plain))
	}
	u, err := url.Parse(plain[0].URL)
	if err != nil {
		t.Fatal(err)
	}
	if rec := got[before]; rec.Path == u.RequestURI() && bytes.Equal(rec.Body, plain[0].Body) {
		t.Errorf("the second notification was sent as a new message: %s %s", rec.Path, rec.Body)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}
