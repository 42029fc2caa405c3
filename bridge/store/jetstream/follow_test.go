package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream/jstest"
)

func testRequest(n int, now time.Time, key string) store.AcceptRequest {
	g := &alert.Group{Data: template.Data{Receiver: "r", Status: "firing",
		Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A", "n": fmt.Sprint(n)}}}},
		GroupKey: fmt.Sprintf("{}:{n=%d}", n), ReceivedAt: now, Records: []alert.Record{{ID: int64(1000 + n)}}}
	return store.AcceptRequest{Now: now, Group: g, Body: []byte(`{}`), DedupKey: key, DedupWindow: time.Hour,
		Jobs: []store.NewJob{{Job: &store.Job{Target: "t", GroupKey: g.GroupKey}, Group: g}}}
}

func openTest(t *testing.T, c *jstest.Cluster, o Options) *Engine {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	o.Conn = c.Connect(t)
	o.Errorf = t.Logf
	e, err := Open(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// TestWriteGivenUpIsFollowedAsAnothers: an acceptance that JetStream
// stored but this bridge did not apply within the publish timeout is
// answered with an error (503); Alertmanager's retry is then a duplicate.
// The job it stored reaches this bridge's queue all the same: its change
// is reported as not local, as another bridge's write would be.
func TestWriteGivenUpIsFollowedAsAnothers(t *testing.T) {
	c := jstest.Start(t, 1)
	e := openTest(t, c, Options{Prefix: "GIVENUP", PublishTimeout: 300 * time.Millisecond})
	var mu sync.Mutex
	var changes []store.Change
	var slow atomic.Bool
	slow.Store(true)
	stalled := make(chan struct{})
	e.Follow(func(ch store.Change) {
		if slow.Swap(false) {
			close(stalled)
			time.Sleep(time.Second) // a slow apply (lag, GC, a large write)
		}
		mu.Lock()
		changes = append(changes, ch)
		mu.Unlock()
	})
	now := time.Now()
	go e.Accept(testRequest(2, now, "k2")) //nolint:errcheck // slows the apply down
	<-stalled
	if _, err := e.Accept(testRequest(1, now, "k1")); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("first acceptance: %v, want ErrUnavailable", err)
	}
	time.Sleep(1500 * time.Millisecond)
	acc, err := e.Accept(testRequest(1, now.Add(time.Second), "k1")) // the retry
	if err != nil || !acc.Duplicate {
		t.Fatalf("retry: %+v, %v; want a duplicate", acc, err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, ch := range changes {
		for _, j := range ch.Pending {
			if j.GroupKey == "{}:{n=1}" {
				if ch.Local {
					t.Errorf("the job of the given-up write was reported as local: its queue never schedules it")
				}
				return
			}
		}
	}
	t.Error("the job of the given-up write was never reported")
}

// TestPurgeWaitsForALaggingBridge: a bridge that applies slowly keeps
// its place: the log is purged behind the snapshots only up to what every
// live bridge has applied, so it catches up instead of breaking.
func TestPurgeWaitsForALaggingBridge(t *testing.T) {
	c := jstest.Start(t, 1)
	o := Options{Prefix: "LAG", SnapshotEvery: 100, SnapshotMargin: 5, ClaimTTL: 3 * time.Second}
	a, b := openTest(t, c, o), openTest(t, c, o)
	// b announces itself (with the position it applied) as bridges do.
	cl := b.Claims(ClaimHooks{Targets: func() []string { return nil }, Gain: func(string) {},
		Lose: func(context.Context, string) error { return nil }})
	defer cl.Stop(context.Background())
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		members, err := listMembers(t.Context(), a.claims, a.origin, a.Applied())
		if _, ok := members[b.origin]; ok && err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never announced itself")
		}
	}
	release := make(chan struct{})
	var once sync.Once
	b.Follow(func(store.Change) { once.Do(func() { <-release }) }) // b stalls
	now := time.Now()
	for i := range 600 {
		if _, err := a.Accept(testRequest(i, now, "")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // a's snapshots and purges
	close(release)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	if err := b.Sync(ctx); err != nil {
		t.Fatalf("the lagging bridge did not catch up: %v", err)
	}
	if b.brokenErr() != nil {
		t.Fatalf("the lagging bridge broke: %v", b.brokenErr())
	}
	if a.Stats().Snapshots == 0 {
		t.Error("no snapshot was written")
	}
}

// TestBrokenBridgeGivesItsClaimsUp: a bridge whose view broke stops
// delivering and no longer announces itself, so the others take its
// targets.
func TestBrokenBridgeGivesItsClaimsUp(t *testing.T) {
	c := jstest.Start(t, 1)
	e := openTest(t, c, Options{Prefix: "BROKEN", ClaimTTL: 1500 * time.Millisecond})
	cl := e.Claims(ClaimHooks{Targets: func() []string { return []string{"t"} }, Gain: func(string) {},
		Lose: func(context.Context, string) error { return nil }})
	defer cl.Stop(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for !cl.Owns("t") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if !cl.Owns("t") {
		t.Fatal("never claimed t")
	}
	err := errors.New("test: broken")
	e.broken.Store(&err)
	for deadline := time.Now().Add(5 * time.Second); cl.Owns("t") && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if cl.Owns("t") {
		t.Error("a broken bridge still delivers for t")
	}
	members, err2 := listMembers(t.Context(), e.claims, "someone-else", 0)
	if err2 != nil {
		t.Fatal(err2)
	}
	if _, ok := members[e.origin]; ok {
		t.Error("a broken bridge still announces itself")
	}
}

// TestViewRebuiltAfterAGap: a bridge that falls behind a purge it could
// not hold back (it had not announced itself) rebuilds its view from the
// newest snapshot in the other view folder, tells its follower to read
// the pending jobs again, and follows the log on: it ends with the same
// jobs as the others, and writes again.
func TestViewRebuiltAfterAGap(t *testing.T) {
	c := jstest.Start(t, 1)
	o := Options{Prefix: "GAP", SnapshotEvery: 100, SnapshotMargin: 5}
	a := openTest(t, c, o)
	o.ViewDir = t.TempDir()
	b := openTest(t, c, o)
	release := make(chan struct{})
	var once sync.Once
	var resets atomic.Int32
	b.Follow(func(ch store.Change) {
		once.Do(func() { <-release }) // b stalls
		if ch.Reset {
			resets.Add(1)
		}
	})
	now := time.Now()
	for i := range 600 {
		if _, err := a.Accept(testRequest(i, now, "")); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(500 * time.Millisecond) // a's snapshots and purges
	close(release)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && (resets.Load() == 0 || b.Applied() < a.Applied()) {
		time.Sleep(50 * time.Millisecond)
	}
	if resets.Load() == 0 {
		t.Fatalf("no rebuild (broken: %v)", b.brokenErr())
	}
	if err := b.Writable(); err != nil {
		t.Fatalf("not writable after the rebuild: %v", err)
	}
	if _, err := b.Accept(testRequest(1000, now, "")); err != nil {
		t.Fatalf("writing after the rebuild: %v", err)
	}
	if err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	var pa, pb []uint64
	_ = a.ForEachPending(func(j *store.Job) error { pa = append(pa, j.ID); return nil })
	_ = b.ForEachPending(func(j *store.Job) error { pb = append(pb, j.ID); return nil })
	if len(pa) != 601 || fmt.Sprint(pa) != fmt.Sprint(pb) {
		t.Errorf("pending after the rebuild: %d and %d jobs, want the same 601", len(pa), len(pb))
	}
}

// TestSettingsMustMatchTheFleet: a bridge whose claim_ttl differs from
// the one the claims bucket was made with refuses to start (it would
// otherwise rewrite the bucket for every bridge).
func TestSettingsMustMatchTheFleet(t *testing.T) {
	c := jstest.Start(t, 1)
	openTest(t, c, Options{Prefix: "FLEET", ClaimTTL: 15 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	e, err := Open(ctx, Options{Conn: c.Connect(t), Prefix: "FLEET", ClaimTTL: 30 * time.Second})
	if err == nil {
		e.Close()
		t.Fatal("a bridge with another claim_ttl started")
	}
	if !errors.Is(err, errMismatch) {
		t.Errorf("err = %v, want the settings mismatch", err)
	}
}
