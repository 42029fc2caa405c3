// Package storetest is the conformance suite of store.Engine: the
// semantics the queue, the API and the alert center rely on, checked
// through the interface only, so every engine runs the same cases. An
// engine's test calls Run:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, openEngine, reopenEngine)
//	}
//
// The suite tests what the doc comments of store.Engine promise; what an
// engine does with its files (corruption, salvage, layout) is tested with
// the engine.
package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// Open returns a new, empty engine for one subtest. The engine is closed
// when the subtest ends (register it with t.Cleanup); the suite may close
// it earlier.
type Open func(t *testing.T) store.Engine

// Reopen closes e and opens the same storage again, as a restart of the
// bridge does, returning the new engine (closed when the subtest ends).
type Reopen func(t *testing.T, e store.Engine) store.Engine

// conformance is one case of the suite.
type conformance struct {
	name string
	run  func(t *testing.T, h *harness)
}

// cases are every case, grouped by concern (see the files of this
// package).
func cases() []conformance {
	var all []conformance
	for _, part := range [][]conformance{acceptCases, outcomeCases, historyCases, alertCases, messageCases, lifeCases} {
		all = append(all, part...)
	}
	return all
}

// Run runs the conformance suite, each case as a subtest on an engine of
// its own from open. reopen may be nil for an engine that keeps nothing
// across a restart; the durability cases are then skipped (an engine the
// bridge runs on must pass them).
func Run(t *testing.T, open Open, reopen Reopen) {
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{t: t, reopenFn: reopen}
			h.e = open(t)
			c.run(t, h)
		})
	}
}

// T0 is the suite's clock start.
var T0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// harness is the engine under test with helpers that fail the test on an
// unexpected error.
type harness struct {
	t        *testing.T
	e        store.Engine
	reopenFn Reopen
}

// reopen restarts the engine; the case is skipped without a Reopen.
func (h *harness) reopen() {
	h.t.Helper()
	if h.reopenFn == nil {
		h.t.Skip("the engine keeps nothing across a restart (no Reopen)")
	}
	h.e = h.reopenFn(h.t, h.e)
}

// group is a one-alert group of group key gk; the alert's record id is
// 42.
func group(gk string, now time.Time) *alert.Group {
	return &alert.Group{GroupKey: gk, ReceivedAt: now,
		Data:    template.Data{Receiver: "r", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A"}, Fingerprint: "f"}}},
		Records: []alert.Record{{ID: 42}}}
}

// bodyOf is the webhook payload of a group's alerts.
func bodyOf(g *alert.Group) []byte {
	m := &alert.Message{Data: g.Data, Version: alert.Version, GroupKey: g.GroupKey}
	b, err := m.Body()
	if err != nil {
		panic(err)
	}
	return b
}

// acceptReq is one notification of group gk for the given targets, with
// a one-minute dedup window.
func acceptReq(key, gk string, now time.Time, targets ...string) store.AcceptRequest {
	g := group(gk, now)
	req := store.AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Body: bodyOf(g)}
	for _, tg := range targets {
		req.Jobs = append(req.Jobs, store.NewJob{Job: &store.Job{Target: tg, GroupKey: gk}, Group: g})
	}
	return req
}

// accept stores one notification of group gk for the given targets.
func (h *harness) accept(key, gk string, now time.Time, targets ...string) *store.Acceptance {
	h.t.Helper()
	acc, err := h.e.Accept(acceptReq(key, gk, now, targets...))
	if err != nil {
		h.t.Fatal(err)
	}
	return acc
}

// job accepts one job of group gk for target and returns it.
func (h *harness) job(key, gk, target string, now time.Time) *store.Job {
	h.t.Helper()
	acc := h.accept(key, gk, now, target)
	if len(acc.Jobs) != 1 {
		h.t.Fatalf("accept %q: %d jobs, want 1", key, len(acc.Jobs))
	}
	return acc.Jobs[0]
}

// get returns a stored job.
func (h *harness) get(id uint64) *store.Job {
	h.t.Helper()
	j, err := h.e.Get(id)
	if err != nil {
		h.t.Fatalf("Get(%d): %v", id, err)
	}
	return j
}

// finish records outcomes.
func (h *harness) finish(ops ...store.FinishOp) {
	h.t.Helper()
	if err := h.e.FinishAll(ops); err != nil {
		h.t.Fatal(err)
	}
}

// pending lists the pending job ids in ForEachPending order.
func (h *harness) pending() []uint64 {
	h.t.Helper()
	out := []uint64{}
	if err := h.e.ForEachPending(func(j *store.Job) error { out = append(out, j.ID); return nil }); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// list returns the ids of List(state, target, 0, 1000).
func (h *harness) list(state, target string) []uint64 {
	h.t.Helper()
	jobs, err := h.e.List(state, target, 0, 1000)
	if err != nil {
		h.t.Fatal(err)
	}
	return jobIDs(jobs)
}

func jobIDs(jobs []*store.Job) []uint64 {
	out := []uint64{}
	for _, j := range jobs {
		out = append(out, j.ID)
	}
	return out
}

// hasNotification reports whether stored notification nid is there.
func (h *harness) hasNotification(nid uint64) bool {
	h.t.Helper()
	_, err := h.e.Notification(nid)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		h.t.Fatalf("Notification(%d): %v", nid, err)
	}
	return true
}

// wantErr fails the test unless err is want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}
