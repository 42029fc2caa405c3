package store

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func open(t *testing.T) *DB {
	t.Helper()
	return openAt(t, t.TempDir())
}

func openAt(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// group is a one-alert group of group key gk; the alert's record id is 42.
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

// payloadOf loads the stored notification of a pending or dead job;
// ErrNotFound for a delivered or unknown one.
func payloadOf(db *DB, id uint64) (*Notification, error) {
	j, err := db.Get(id)
	if err != nil {
		return nil, err
	}
	if j.State == StateDelivered {
		return nil, ErrNotFound
	}
	return db.Notification(j.Notification)
}

// acceptReq is one notification of group gk for the given targets.
func acceptReq(key, gk string, now time.Time, targets ...string) AcceptRequest {
	g := group(gk, now)
	req := AcceptRequest{DedupKey: key, DedupWindow: time.Minute, Now: now, Group: g, Body: bodyOf(g)}
	for _, tg := range targets {
		req.Jobs = append(req.Jobs, NewJob{Job: &Job{Target: tg, GroupKey: gk}, Group: g})
	}
	return req
}

// accept stores one notification of group gk for the given targets.
func accept(t *testing.T, db *DB, key, gk string, now time.Time, targets ...string) *Acceptance {
	t.Helper()
	acc, err := db.Accept(acceptReq(key, gk, now, targets...))
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func TestOpenLockedFailsFast(t *testing.T) {
	dir := t.TempDir()
	openAt(t, dir)
	if _, err := Open(dir, Options{}); err == nil {
		t.Error("second open of a locked store succeeded")
	}
}

// The index of newest jobs per group names a job while it is stored: a
// dead letter whose group moved on is not resent, one whose group did not
// is, and a newer notification then supersedes it while it waits.
// Deleting or pruning the job it names removes the entry, so the index
// does not grow with every group ever seen.
func TestLatestIndexAndDeadLetterOrder(t *testing.T) {
	db := open(t)
	latest := func(gk string) (uint64, bool) {
		id, ok, err := latestID(db, latestKey("ops", gk))
		if err != nil {
			t.Fatal(err)
		}
		return id, ok
	}
	a := accept(t, db, "k1", "g", t0, "ops").Jobs[0]
	if id, ok := latest("g"); !ok || id != a.ID {
		t.Fatal("no index entry for a waiting job")
	}
	if err := db.FinishAll([]FinishOp{{ID: a.ID, State: StateDead, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Requeue(a.ID, t0); err != nil {
		t.Fatal(err)
	}
	b := accept(t, db, "k2", "g", t0.Add(time.Second), "ops")
	if len(b.Superseded) != 1 || b.Superseded[0].ID != a.ID {
		t.Fatalf("newer notification superseded %v, want the replayed dead letter %d", b.Superseded, a.ID)
	}
	// b dies, c (resolved, say) is delivered: retrying b would send an
	// older state after a newer one.
	if err := db.FinishAll([]FinishOp{{ID: b.Jobs[0].ID, State: StateDead, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	c := accept(t, db, "k3", "g", t0.Add(2*time.Second), "ops").Jobs[0]
	if err := db.FinishAll([]FinishOp{{ID: c.ID, State: StateDelivered, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Requeue(b.Jobs[0].ID, t0); !errors.Is(err, ErrSuperseded) {
		t.Errorf("Requeue of a dead letter whose group moved on: %v, want ErrSuperseded", err)
	}
	if j, _ := db.Get(b.Jobs[0].ID); j.State != StateDead {
		t.Errorf("refused dead letter is now %s", j.State)
	}
	if _, err := db.Prune(t0.Add(time.Hour), time.Minute, 100, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, ok := latest("g"); ok {
		t.Error("index entry left after its job was pruned")
	}
	d := accept(t, db, "k4", "h", t0, "ops").Jobs[0]
	if err := db.Delete(d.ID); err != nil {
		t.Fatal(err)
	}
	if _, ok := latest("h"); ok {
		t.Error("index entry left after its job was deleted")
	}
}
