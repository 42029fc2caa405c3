package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// messageCases: the message records of update in place.
var messageCases = []conformance{
	{"Messages/RoundTrip", messagesRoundTrip},
	{"Messages/PairsAreSeparate", messagesPairsAreSeparate},
	{"Messages/PruneExpired", messagesPruneExpired},
	{"Messages/IndependentOfJobs", messagesIndependentOfJobs},
	{"Messages/SurviveReopen", messagesSurviveReopen},
}

func sameRefs(a, b store.MessageRefs) bool {
	return slices.Equal(a.Refs, b.Refs) && a.Resolved == b.Resolved && a.Updated.Equal(b.Updated) && a.Expires.Equal(b.Expires)
}

func (h *harness) refs(target, group string) (store.MessageRefs, bool) {
	h.t.Helper()
	r, ok, err := h.e.MessageRefs(target, group)
	if err != nil {
		h.t.Fatal(err)
	}
	return r, ok
}

func (h *harness) saveRefs(target, group string, r store.MessageRefs) {
	h.t.Helper()
	if err := h.e.SaveMessageRefs(target, group, r); err != nil {
		h.t.Fatal(err)
	}
}

// messagesRoundTrip: none in a new engine; a saved record reads back with
// its parts in order (empty ones included), and a second save replaces it
// whole; the caller's slice is not kept.
func messagesRoundTrip(t *testing.T, h *harness) {
	if r, ok := h.refs("x", "g"); ok {
		t.Fatalf("new engine: record %+v, want none", r)
	}
	first := store.MessageRefs{Refs: []string{"-100/1", "", "-100/3"}, Updated: T0, Expires: T0.Add(time.Hour)}
	h.saveRefs("x", "g", first)
	first.Refs[0] = "changed by the caller"
	if got, ok := h.refs("x", "g"); !ok || !slices.Equal(got.Refs, []string{"-100/1", "", "-100/3"}) || !got.Expires.Equal(T0.Add(time.Hour)) || !got.Updated.Equal(T0) {
		t.Errorf("read back %+v (%v)", got, ok)
	}
	second := store.MessageRefs{Refs: []string{"9"}, Resolved: true, Updated: T0.Add(time.Minute), Expires: T0.Add(2 * time.Hour)}
	h.saveRefs("x", "g", second)
	if got, ok := h.refs("x", "g"); !ok || !sameRefs(got, second) {
		t.Errorf("after the second save %+v (%v), want %+v", got, ok, second)
	}
}

// messagesPairsAreSeparate: a record belongs to its (target, group key)
// pair only, even where the names could run into each other.
func messagesPairsAreSeparate(t *testing.T, h *harness) {
	pairs := [][2]string{{"x", "g"}, {"x", "g2"}, {"y", "g"}, {"xg", ""}, {"x", "{}:{alertname=\"a\"}"}}
	for i, p := range pairs {
		h.saveRefs(p[0], p[1], store.MessageRefs{Refs: []string{p[0] + "|" + p[1]}, Expires: T0.Add(time.Duration(i+1) * time.Hour)})
	}
	for _, p := range pairs {
		if got, ok := h.refs(p[0], p[1]); !ok || !slices.Equal(got.Refs, []string{p[0] + "|" + p[1]}) {
			t.Errorf("record of %q/%q is %+v (%v)", p[0], p[1], got, ok)
		}
	}
	if r, ok := h.refs("z", "g"); ok {
		t.Errorf("unknown target has a record %+v", r)
	}
}

// messagesPruneExpired: PruneMessageRefs removes the records whose
// Expires is not after now, counts them, and keeps the others.
func messagesPruneExpired(t *testing.T, h *harness) {
	h.saveRefs("x", "past", store.MessageRefs{Refs: []string{"1"}, Expires: T0.Add(-time.Second)})
	h.saveRefs("x", "now", store.MessageRefs{Refs: []string{"2"}, Expires: T0})
	h.saveRefs("x", "later", store.MessageRefs{Refs: []string{"3"}, Expires: T0.Add(time.Second)})
	n, err := h.e.PruneMessageRefs(T0)
	if err != nil || n != 2 {
		t.Fatalf("PruneMessageRefs = %d, %v; want 2", n, err)
	}
	for _, g := range []string{"past", "now"} {
		if r, ok := h.refs("x", g); ok {
			t.Errorf("expired record %q kept: %+v", g, r)
		}
	}
	if _, ok := h.refs("x", "later"); !ok {
		t.Error("a record not yet expired was pruned")
	}
	if n, err := h.e.PruneMessageRefs(T0); err != nil || n != 0 {
		t.Errorf("second PruneMessageRefs = %d, %v; want 0", n, err)
	}
}

// messagesIndependentOfJobs: accepting, finishing and pruning the jobs of
// the group leaves its record alone.
func messagesIndependentOfJobs(t *testing.T, h *harness) {
	want := store.MessageRefs{Refs: []string{"1"}, Expires: T0.Add(time.Hour)}
	h.saveRefs("x", "g", want)
	j := h.job("k", "g", "x", T0)
	h.finish(store.FinishOp{ID: j.ID, State: store.StateDelivered, Attempts: 1, Now: T0})
	if _, err := h.e.Prune(T0.Add(48*time.Hour), time.Minute, 0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := h.e.Delete(h.job("k2", "g", "x", T0).ID); err != nil {
		t.Fatal(err)
	}
	if got, ok := h.refs("x", "g"); !ok || !sameRefs(got, want) {
		t.Errorf("record after the group's jobs came and went %+v (%v), want %+v", got, ok, want)
	}
}

// messagesSurviveReopen: the records are durable across a restart.
func messagesSurviveReopen(t *testing.T, h *harness) {
	want := store.MessageRefs{Refs: []string{"-100/7", "-100/8"}, Resolved: true, Updated: T0, Expires: T0.Add(time.Hour)}
	h.saveRefs("x", "g", want)
	h.reopen()
	if got, ok := h.refs("x", "g"); !ok || !sameRefs(got, want) {
		t.Errorf("record after reopen %+v (%v), want %+v", got, ok, want)
	}
}
