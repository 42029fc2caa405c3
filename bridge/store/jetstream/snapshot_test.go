package jetstream_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
	abjs "github.com/alertbridge/alertbridge/bridge/store/jetstream"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream/jstest"
)

func accept(t *testing.T, e store.Engine, n int, now time.Time) *store.Acceptance {
	t.Helper()
	return acceptKey(t, e, n, now, "")
}

func acceptKey(t *testing.T, e store.Engine, n int, now time.Time, key string) *store.Acceptance {
	t.Helper()
	g := &alert.Group{Data: template.Data{Receiver: "r", Status: "firing",
		Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A", "n": fmt.Sprint(n)}}}},
		GroupKey: fmt.Sprintf("{}:{n=%d}", n), ReceivedAt: now, Records: []alert.Record{{ID: int64(1000 + n)}}}
	acc, err := e.Accept(store.AcceptRequest{Now: now, Group: g, Body: []byte(`{}`), DedupKey: key, DedupWindow: time.Minute,
		Jobs: []store.NewJob{{Job: &store.Job{Target: "t", GroupKey: g.GroupKey}, Group: g}}})
	if err != nil {
		t.Fatal(err)
	}
	return acc
}

func pending(t *testing.T, e store.Engine) []uint64 {
	t.Helper()
	var ids []uint64
	if err := e.ForEachPending(func(j *store.Job) error { ids = append(ids, j.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	return ids
}

// TestSnapshotsPurgeTheLogAndRestore: snapshots are written as the log
// grows, the log before them is purged, and a bridge starting afterwards
// rebuilds the same view from the newest snapshot and the log after it,
// and goes on writing where the others are.
func TestSnapshotsPurgeTheLogAndRestore(t *testing.T) {
	c := jstest.Start(t, 1)
	nc := c.Connect(t)
	open := func() *abjs.Engine {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		e, err := abjs.Open(ctx, abjs.Options{Conn: nc, Prefix: "SNAP", SnapshotEvery: 20, SnapshotMargin: 5, Errorf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	a := open()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	var delivered []store.FinishOp
	for n := range 100 {
		acc := accept(t, a, n, now)
		if n%2 == 0 { // half delivered, half waiting
			delivered = append(delivered, store.FinishOp{ID: acc.Jobs[0].ID, State: store.StateDelivered, Now: now})
		}
	}
	if err := a.FinishAll(delivered); err != nil {
		t.Fatal(err)
	}
	// The snapshot at position 100 is written in the background.
	js, _ := jetstream.New(nc)
	var first uint64
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		s, err := js.Stream(t.Context(), "SNAP_LOG")
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		// A snapshot still uploading makes the engine skip the next
		// position: any purge behind a snapshot will do.
		if first = info.State.FirstSeq; first >= 15 {
			break
		}
	}
	if first < 15 {
		t.Fatalf("log starts at %d after 101 writes with a snapshot every 20 and a margin of 5", first)
	}
	if s := a.Stats(); s.Snapshots == 0 {
		t.Errorf("no snapshot counted: %+v", s)
	}
	b := open()
	if b.Applied() != a.Applied() {
		t.Errorf("restored at log position %d, the writer is at %d", b.Applied(), a.Applied())
	}
	wa, wb := pending(t, a), pending(t, b)
	if fmt.Sprint(wa) != fmt.Sprint(wb) || len(wa) != 50 {
		t.Errorf("pending: writer %v, restored %v", wa, wb)
	}
	la, _ := a.List(store.StateDelivered, "", 0, 1000)
	lb, _ := b.List(store.StateDelivered, "", 0, 1000)
	if len(la) != 50 || len(lb) != 50 {
		t.Errorf("delivered: writer %d, restored %d, want 50", len(la), len(lb))
	}
	// Both go on: the restored one writes, the other applies it; the
	// ids continue from the same counter.
	acc := accept(t, b, 500, now)
	if err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	got, err := a.Get(acc.Jobs[0].ID)
	if err != nil || got.GroupKey != "{}:{n=500}" {
		t.Errorf("the writer reads the restored one's job %d: %+v, %v", acc.Jobs[0].ID, got, err)
	}
	if acc.Jobs[0].ID <= wa[len(wa)-1] {
		t.Errorf("new job id %d not above %d", acc.Jobs[0].ID, wa[len(wa)-1])
	}
}

// TestBridgesShareOneStore: two engines on one stream see each other's
// writes (Follow reports them, marked not local), and copies of one
// notification written through both at once (Alertmanager HA peers) are
// stored once.
func TestBridgesShareOneStore(t *testing.T) {
	c := jstest.Start(t, 3)
	open := func() *abjs.Engine {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		e, err := abjs.Open(ctx, abjs.Options{Conn: c.Connect(t), Prefix: "SHARE", Replicas: 3, DedupWindow: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	a, b := open(), open()
	var mu sync.Mutex
	var seen []store.Change
	b.Follow(func(ch store.Change) { mu.Lock(); seen = append(seen, ch); mu.Unlock() })
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for n := range 20 {
		var wg sync.WaitGroup
		var accs [2]*store.Acceptance
		for i, e := range []*abjs.Engine{a, b} {
			wg.Add(1)
			go func() { defer wg.Done(); accs[i] = acceptKey(t, e, n, now, fmt.Sprintf("copy-%d", n)) }()
		}
		wg.Wait()
		if accs[0].Duplicate == accs[1].Duplicate {
			t.Errorf("notification %d: duplicate %v and %v, want one stored and one duplicate", n, accs[0].Duplicate, accs[1].Duplicate)
		}
	}
	// Five more through a alone: b follows them as another bridge's.
	for n := 100; n < 105; n++ {
		acceptKey(t, a, n, now, fmt.Sprintf("only-a-%d", n))
	}
	if err := a.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := b.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if pa, pb := pending(t, a), pending(t, b); len(pa) != 25 || fmt.Sprint(pa) != fmt.Sprint(pb) {
		t.Errorf("pending: %v and %v, want the same 25", pa, pb)
	}
	mu.Lock()
	defer mu.Unlock()
	local, remote := 0, 0
	for _, ch := range seen {
		if ch.Accepted == nil || len(ch.Pending) != 1 {
			t.Errorf("change %+v, want an acceptance with its job", ch)
		}
		if ch.Local {
			local++
		} else {
			remote++
		}
	}
	// Which bridge stores each HA copy is a race; the five a wrote alone
	// are a's.
	if local+remote != 25 || remote < 5 {
		t.Errorf("b followed %d of its own writes and %d of a's, want 25 in all, at least 5 of a's", local, remote)
	}
}

// TestBridgesStartTogether: bridges starting at the same moment on a new
// prefix all create (or find) the stream and buckets and start.
func TestBridgesStartTogether(t *testing.T) {
	c := jstest.Start(t, 3)
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			e, err := abjs.Open(ctx, abjs.Options{Conn: c.Connect(t), Prefix: "TOGETHER", Replicas: 3})
			if err == nil {
				t.Cleanup(func() { e.Close() })
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("bridge %d: %v", i, err)
		}
	}
}

// TestSnapshotsOfAnEarlierStreamAreIgnored: when the stream is deleted
// and made again under the same prefix, the snapshots left of the old one
// are not restored: their positions are not the new stream's, and
// restoring one would skip the new stream's first writes.
func TestSnapshotsOfAnEarlierStreamAreIgnored(t *testing.T) {
	c := jstest.Start(t, 1)
	nc := c.Connect(t)
	open := func() *abjs.Engine {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		e, err := abjs.Open(ctx, abjs.Options{Conn: nc, Prefix: "AGAIN", SnapshotEvery: 10, SnapshotMargin: 2, Errorf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	a := open()
	for n := range 30 {
		accept(t, a, n, now)
	}
	js, _ := jetstream.New(nc)
	obs, err := js.ObjectStore(t.Context(), "AGAIN_SNAPSHOTS")
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if infos, _ := obs.List(t.Context()); len(infos) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no snapshot was written")
		}
	}
	a.Close()
	if err := js.DeleteStream(t.Context(), "AGAIN_LOG"); err != nil {
		t.Fatal(err)
	}
	b := open()
	if got := pending(t, b); len(got) != 0 || b.Applied() != 0 {
		t.Fatalf("a new stream restored an old snapshot: at %d with %d pending", b.Applied(), len(got))
	}
	acc := accept(t, b, 100, now)
	if got := pending(t, b); len(got) != 1 || got[0] != acc.Jobs[0].ID {
		t.Errorf("pending %v after one acceptance on the new stream", got)
	}
}
