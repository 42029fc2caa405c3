package chat

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// testMessage is what the test renderer emits: the instances of the
// message's alerts, its numbering and its More count.
type testMessage struct {
	Instances []string
	Part      int
	Parts     int
	More      int
	Pad       string
}

// newTestPacker renders a JSON message listing the part's alerts, padded by
// pad runes per alert, and accepts bodies up to limit bytes.
func newTestPacker(limit, pad, max int) *packer {
	return &packer{
		max: max,
		render: func(d *Data) ([]byte, error) {
			m := testMessage{Part: d.Part, Parts: d.Parts, More: d.More}
			for _, a := range d.Alerts {
				m.Instances = append(m.Instances, a.Labels["instance"])
				m.Pad += alert.Shorten(strings.Repeat("x", pad)+a.Annotations["description"], pad)
			}
			return json.Marshal(m)
		},
		check: func(b []byte) error {
			if len(b) > limit {
				return &LimitError{What: "body", Size: len(b), Limit: limit, Unit: "bytes"}
			}
			return nil
		},
	}
}

func decode(t *testing.T, bodies [][]byte) []testMessage {
	t.Helper()
	out := make([]testMessage, len(bodies))
	for i, b := range bodies {
		if err := json.Unmarshal(b, &out[i]); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

func TestPackWholeGroupInOneMessageWhenItFits(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.StormPayload(10))
	bodies, err := newTestPacker(100000, 10, 5).pack(g)
	if err != nil {
		t.Fatal(err)
	}
	msgs := decode(t, bodies)
	if len(msgs) != 1 || len(msgs[0].Instances) != 10 || msgs[0].Part != 1 || msgs[0].Parts != 1 || msgs[0].More != 0 {
		t.Fatalf("got %+v", msgs)
	}
}

func TestPackSplitsIntoFullMessagesAndCountsTheRest(t *testing.T) {
	tests := []struct {
		name          string
		alerts, limit int
		max           int
		wantParts     int
	}{
		{"fits in two", 30, 1200, 5, 2},
		{"cut at max", 300, 1200, 3, 3},
		{"one message only", 50, 1200, 1, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := notifytest.BuildGroup(t, notifytest.StormPayload(tc.alerts))
			bodies, err := newTestPacker(tc.limit, 60, tc.max).pack(g)
			if err != nil {
				t.Fatal(err)
			}
			msgs := decode(t, bodies)
			if len(msgs) != tc.wantParts {
				t.Fatalf("%d messages, want %d", len(msgs), tc.wantParts)
			}
			seen := map[string]bool{}
			for i, m := range msgs {
				if len(bodies[i]) > tc.limit {
					t.Errorf("message %d is %d bytes, over %d", i+1, len(bodies[i]), tc.limit)
				}
				if m.Part != i+1 || m.Parts != len(msgs) {
					t.Errorf("message %d numbered %d/%d", i+1, m.Part, m.Parts)
				}
				if i < len(msgs)-1 && m.More != 0 {
					t.Errorf("message %d (not the last) has More %d", i+1, m.More)
				}
				for _, in := range m.Instances {
					if seen[in] {
						t.Errorf("%s in two messages", in)
					}
					seen[in] = true
				}
			}
			last := msgs[len(msgs)-1]
			if len(seen)+last.More != tc.alerts {
				t.Errorf("%d shown + %d more != %d alerts", len(seen), last.More, tc.alerts)
			}
			// Greedy: every message but the last is full, i.e. adding the
			// next alert would not fit. Check via sizes: at least half the
			// limit used.
			for i, b := range bodies[:len(bodies)-1] {
				if len(b) < tc.limit/2 {
					t.Errorf("message %d uses only %d of %d bytes", i+1, len(b), tc.limit)
				}
			}
		})
	}
}

func TestPackShortensAnAlertTooLargeAlone(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.HugePayload())
	p := newTestPacker(3000, 0, 5)
	p.render = func(d *Data) ([]byte, error) {
		return json.Marshal(d.Alerts[0].Annotations["description"])
	}
	bodies, err := p.pack(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 1 || len(bodies[0]) > 3000 || !strings.Contains(string(bodies[0]), "…") {
		t.Fatalf("got %d bodies, first %d bytes", len(bodies), len(bodies[0]))
	}
}

func TestPackReportsWhatCannotFit(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.StormPayload(3))
	p := newTestPacker(10, 0, 5)
	_, err := p.pack(g)
	if err == nil || !IsLimit(err) || !strings.Contains(err.Error(), "even with every value shortened") {
		t.Fatalf("err = %v, want a limit error saying nothing fits", err)
	}
	// Template errors are not size problems: no splitting, no retry with
	// shorter values.
	renders := 0
	p.render = func(*Data) ([]byte, error) { renders++; return nil, errors.New("boom") }
	if _, err := p.pack(g); err == nil || IsLimit(err) || renders != 1 {
		t.Fatalf("err = %v after %d renders, want the template error after one", err, renders)
	}
}

func TestPackPutsFiringFirst(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.ManyPayload())
	var order []string
	p := newTestPacker(1<<20, 0, 5)
	p.render = func(d *Data) ([]byte, error) {
		order = order[:0]
		for _, a := range d.Alerts {
			order = append(order, a.Status)
		}
		return []byte(`{}`), nil
	}
	if _, err := p.pack(g); err != nil {
		t.Fatal(err)
	}
	seenResolved := false
	for i, s := range order {
		if s == "resolved" {
			seenResolved = true
		} else if seenResolved {
			t.Fatalf("firing alert at %d after a resolved one: %v", i, order)
		}
	}
}

func TestRenderCountsByStatusAcrossParts(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.ManyPayload())
	p := newTestPacker(1<<20, 0, 5)
	var got []string
	p.render = func(d *Data) ([]byte, error) {
		got = append(got, fmt.Sprintf("%d/%d", d.Firing, d.Resolved))
		return []byte(`{}`), nil
	}
	if _, err := p.pack(g); err != nil {
		t.Fatal(err)
	}
	if got[0] != "85/15" {
		t.Errorf("firing/resolved = %s, want 85/15", got[0])
	}
}

// TestPackRendersEachMessageAFewTimes pins the cost of packing: renders per
// message stay a small constant however many alerts a message holds, and
// the split is the greedy one (checked against a one-by-one fill).
func TestPackRendersEachMessageAFewTimes(t *testing.T) {
	for _, tc := range []struct {
		alerts, pad, max int
		maxRenders       int
	}{
		{alerts: 5, pad: 900, max: 5, maxRenders: 1},
		{alerts: 40, pad: 900, max: 5, maxRenders: 8},
		{alerts: 300, pad: 900, max: 5, maxRenders: 15},
		{alerts: 300, pad: 90, max: 50, maxRenders: 12},
		{alerts: 1000, pad: 10, max: 3, maxRenders: 14},
	} {
		g := notifytest.BuildGroup(t, notifytest.StormPayload(tc.alerts))
		p := newTestPacker(20000, tc.pad, tc.max)
		render, renders := p.render, 0
		p.render = func(d *Data) ([]byte, error) { renders++; return render(d) }
		bodies, err := p.pack(g)
		if err != nil {
			t.Fatal(err)
		}
		if renders > tc.maxRenders {
			t.Errorf("%d alerts (pad %d, max %d): %d renders for %d messages, want at most %d", tc.alerts, tc.pad, tc.max, renders, len(bodies), tc.maxRenders)
		}
		// Greedy: every message but the last would break the limit with
		// the next alert added.
		msgs := decode(t, bodies)
		next := 0
		for k, m := range msgs {
			if len(m.Instances) == 0 || m.Instances[0] != notifytest.StormInstance(next) {
				t.Fatalf("%d alerts: message %d starts at %v, want alert %d", tc.alerts, k+1, m.Instances, next)
			}
			next += len(m.Instances)
			if k == len(msgs)-1 || next >= tc.alerts {
				continue
			}
			one := newTestPacker(20000, tc.pad, tc.max)
			d := Data{Firing: tc.alerts, Part: k + 1, Parts: tc.max}
			d.setGroup(g.FiringFirst().Slice(next-len(m.Instances), next+1))
			body, _ := one.render(&d)
			if one.check(body) == nil {
				t.Errorf("%d alerts: message %d holds %d alerts but %d fit", tc.alerts, k+1, len(m.Instances), len(m.Instances)+1)
			}
		}
	}
}
