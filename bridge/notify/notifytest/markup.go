package notifytest

import (
	"bytes"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// MarkupValue holds every character chat markups give meaning to, an
// entity, a mention word and non-ASCII text, on one line.
const MarkupValue = `<b>&amp;</b> *bold* _it_ ~s~ ` + "`code`" + ` \o/ [x](http://y) #h |t| > q @here 磁盘🔥`

// MarkupPayload is one firing alert carrying MarkupValue in a label
// ("team"), the summary ("sum " + MarkupValue) and the description
// ("desc " + MarkupValue).
func MarkupPayload() []byte {
	return NewPayload("alertname", []Alert{{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Odd", "severity": "warning", "team": MarkupValue},
		Annotations: map[string]string{"summary": "sum " + MarkupValue, "description": "desc " + MarkupValue},
		StartsAt:    "2026-11-23T10:00:00Z", EndsAt: ZeroTime,
	}})
}

// PostBodies posts each body to the fake as JSON, fails the test on any
// contract violation, and returns what the fake accepted.
func PostBodies(t testing.TB, f *Fake, bodies [][]byte) []Received {
	t.Helper()
	for _, b := range bodies {
		resp, err := http.Post(f.URL, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if v := f.Violations(); len(v) > 0 {
		t.Fatalf("violations %q", v)
	}
	return f.Received()
}

// AssertMarkupShown checks that one message was accepted and that its
// reader sees MarkupPayload's label, summary and description exactly as
// written.
func AssertMarkupShown(t testing.TB, got []Received) {
	t.Helper()
	if len(got) != 1 {
		t.Fatalf("%d messages accepted, want 1", len(got))
	}
	for _, want := range []string{MarkupValue, "sum " + MarkupValue, "desc " + MarkupValue} {
		if !strings.Contains(got[0].Text, want) {
			t.Errorf("the reader does not see %q in:\n%s", want, got[0].Text)
		}
	}
}

// Clock is a settable clock, safe to read from a fake's handler while a
// test advances it.
type Clock struct{ ns atomic.Int64 }

// NewClock returns a clock reading t.
func NewClock(t time.Time) *Clock {
	c := &Clock{}
	c.ns.Store(t.UnixNano())
	return c
}

// Now reads the clock.
func (c *Clock) Now() time.Time { return time.Unix(0, c.ns.Load()) }

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// NewNotifier builds a notifier as the bridge would for a target: opts
// (its type's defaults when nil) validated and set as s.Options, the preset
// templates unless s has its own, and FixedNow unless s sets a clock.
func NewNotifier[N any, O any, P interface {
	*O
	Validate() error
}](t testing.TB, build func(notify.Settings) (N, error), opts P, s notify.Settings) N {
	t.Helper()
	if opts == nil {
		opts = P(new(O))
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	s.Options = opts
	if s.Templates == nil {
		set, err := render.New(render.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s.Templates = set
	}
	if s.Now == nil {
		s.Now = func() time.Time { return FixedNow }
	}
	n, err := build(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
