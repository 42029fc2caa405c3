package store

// Review tests: reference counting of stored notifications, the in-memory
// index against the disk, Close under load, hostile input, the bounds the
// docs promise, and the bugs a review found (each fails without its
// fix).

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// diskIndex is what the in-memory index should hold, read from disk: the
// waiting jobs per notification and the newest pending job per group.
type diskIndex struct {
	refs          map[uint64]int
	pending       map[uint64]uint64
	notifications map[uint64]bool
}

func readDiskIndex(t *testing.T, d *DB) diskIndex {
	t.Helper()
	x := diskIndex{refs: map[uint64]int{}, pending: map[uint64]uint64{}, notifications: map[uint64]bool{}}
	err := d.read(func() error {
		for _, state := range []string{StatePending, StateDead} {
			err := d.iterate([]byte{stateKinds[state]}, nil, false, func(k, v []byte) (bool, error) {
				j, err := decodeJob(k, v)
				if err != nil {
					return false, err
				}
				x.refs[j.Notification]++
				if state == StatePending {
					h := d.mem.hashBytes(latestKey(j.Target, j.GroupKey))
					x.pending[h] = max(x.pending[h], j.ID)
				}
				return true, nil
			})
			if err != nil {
				return err
			}
		}
		return d.iterateWith([]byte{kindNotification}, false, func(k, _ []byte) (bool, error) {
			id, _ := keyID(k)
			x.notifications[id] = true
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// checkIndex fails unless the in-memory refs and pending maps equal the
// disk, every waiting job's notification is stored and no notification
// is stored without a waiting job (a leak).
func checkIndex(t *testing.T, d *DB, when string) {
	t.Helper()
	x := readDiskIndex(t, d)
	d.mem.mu.RLock()
	refs, pending := maps.Clone(d.mem.refs), maps.Clone(d.mem.pending)
	d.mem.mu.RUnlock()
	if !maps.Equal(refs, x.refs) {
		t.Fatalf("%s: memIndex.refs %v, disk says %v", when, refs, x.refs)
	}
	if !maps.Equal(pending, x.pending) {
		t.Fatalf("%s: memIndex.pending %v, disk says %v", when, pending, x.pending)
	}
	for nid := range x.refs {
		if !x.notifications[nid] {
			t.Fatalf("%s: notification %d is needed by a waiting job but is gone (lost alert)", when, nid)
		}
	}
	for nid := range x.notifications {
		if x.refs[nid] == 0 {
			t.Fatalf("%s: notification %d is stored without a waiting job (leak)", when, nid)
		}
	}
}

// TestReviewNotificationRefsModel drives Accept, Reschedule (with
// supersede), FinishAll, Requeue, Delete, Prune and reopen at random over
// a few groups and targets, and checks after every step that the
// in-memory index equals the disk and that notifications are neither lost
// nor leaked.
func TestReviewNotificationRefsModel(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d.Close() }()
	rnd := rand.New(rand.NewPCG(1, 2))
	now := t0
	targets := []string{"a", "b", "c"}
	ids := func(state string) []uint64 {
		js, err := d.List(state, "", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []uint64
		for _, j := range js {
			out = append(out, j.ID)
		}
		return out
	}
	pick := func(s []uint64) (uint64, bool) {
		if len(s) == 0 {
			return 0, false
		}
		return s[rnd.IntN(len(s))], true
	}
	for step := range 600 {
		now = now.Add(time.Second)
		op := rnd.IntN(9)
		what := ""
		switch op {
		case 0, 1:
			gk := fmt.Sprint("g", rnd.IntN(4))
			var tg []string
			for _, x := range targets {
				if rnd.IntN(2) == 0 {
					tg = append(tg, x)
				}
			}
			if rnd.IntN(5) == 0 && len(tg) > 0 {
				tg = append(tg, tg[0]) // two jobs of one group for one target in one notification
			}
			what = fmt.Sprintf("accept %s %v", gk, tg)
			if _, err := d.Accept(acceptReq(fmt.Sprint("k", step), gk, now, tg...)); err != nil {
				t.Fatal(what, err)
			}
		case 2:
			id, ok := pick(ids(StatePending))
			if !ok {
				continue
			}
			what = fmt.Sprint("reschedule ", id)
			if _, err := d.Reschedule(id, 1, 0, now.Add(time.Minute), "serverError", "HTTP 500", now); err != nil {
				t.Fatal(what, err)
			}
		case 3, 4:
			p := ids(StatePending)
			var ops []FinishOp
			for range rnd.IntN(3) + 1 {
				if id, ok := pick(p); ok {
					st := StateDelivered
					if rnd.IntN(3) == 0 {
						st = StateDead
					}
					ops = append(ops, FinishOp{ID: id, State: st, Attempts: 1, Now: now})
				}
			}
			what = fmt.Sprint("finish ", ops)
			if err := d.FinishAll(ops); err != nil {
				t.Fatal(what, err)
			}
		case 5:
			id, ok := pick(ids(StateDead))
			if !ok {
				continue
			}
			what = fmt.Sprint("requeue ", id)
			if _, err := d.Requeue(id, now); err != nil && !errors.Is(err, ErrSuperseded) {
				t.Fatal(what, err)
			}
		case 6:
			all := append(append(ids(StatePending), ids(StateDead)...), ids(StateDelivered)...)
			id, ok := pick(all)
			if !ok {
				continue
			}
			what = fmt.Sprint("delete ", id)
			if err := d.Delete(id); err != nil {
				t.Fatal(what, err)
			}
		case 7:
			what = "prune"
			if _, err := d.Prune(now, time.Hour, rnd.IntN(5), 30*time.Second); err != nil {
				t.Fatal(what, err)
			}
		case 8:
			what = "reopen"
			if err := d.Close(); err != nil {
				t.Fatal(err)
			}
			if d, err = Open(dir, Options{}); err != nil {
				t.Fatal(err)
			}
		}
		checkIndex(t, d, fmt.Sprintf("step %d (%s)", step, what))
	}
	d.Close()
	rep, err := Check(dir)
	if err != nil || rep.Damaged() {
		t.Fatalf("Check: %v %v", err, rep.Problems)
	}
}

// TestReviewFailedWriteUndoesIndex: a write that fails after changing the
// in-memory index (FinishAll whose second outcome is invalid) leaves the
// index as the disk is, and the notification the first outcome would
// have dropped is still there.
func TestReviewFailedWriteUndoesIndex(t *testing.T) {
	d := open(t)
	acc := accept(t, d, "k1", "g", t0, "a")
	acc2 := accept(t, d, "k2", "g2", t0, "a", "b")
	err := d.FinishAll([]FinishOp{
		{ID: acc.Jobs[0].ID, State: StateDelivered, Now: t0},
		{ID: acc2.Jobs[0].ID, State: StateDead, Now: t0},
		{ID: acc2.Jobs[1].ID, State: "bogus", Now: t0},
	})
	if err == nil {
		t.Fatal("FinishAll with a bogus state succeeded")
	}
	checkIndex(t, d, "after the failed FinishAll")
	if _, err := payloadOf(d, acc.Jobs[0].ID); err != nil {
		t.Fatalf("payload of the job whose outcome was not written: %v", err)
	}
	// A failed Accept (a job without a target group view panics inside
	// the write) undoes its dedup key, refs and pending entries too.
	req := acceptReq("k3", "g", t0.Add(time.Second), "a")
	req.Jobs[0].Group = nil
	if _, err := d.Accept(req); err == nil {
		t.Fatal("Accept with a nil job group succeeded")
	}
	checkIndex(t, d, "after the failed Accept")
	if _, ok := d.mem.dedupAt("k3"); ok {
		t.Fatal("the failed Accept left its dedup key in memory")
	}
	if acc := accept(t, d, "k3", "g", t0.Add(2*time.Second), "a"); acc.Duplicate {
		t.Fatal("the notification of a failed Accept is answered as a duplicate")
	}
}

// TestReviewRequeueAfterNewerDeliveredIsPruned: a dead FIRING whose
// group's RESOLVED was delivered later must not be resent (a superseded
// state is never sent after a newer one), also after the RESOLVED left the
// delivered history (DeliveredMax, 10,000 by default, is minutes of
// traffic on a busy bridge) or was deleted through the API.
func TestReviewRequeueAfterNewerDeliveredIsPruned(t *testing.T) {
	for _, how := range []string{"pruned", "deleted"} {
		t.Run(how, func(t *testing.T) {
			d := open(t)
			dead := accept(t, d, "k1", "g", t0, "a").Jobs[0].ID
			if err := d.FinishAll([]FinishOp{{ID: dead, State: StateDead, Now: t0}}); err != nil {
				t.Fatal(err)
			}
			newer := accept(t, d, "k2", "g", t0.Add(time.Second), "a").Jobs[0].ID
			if err := d.FinishAll([]FinishOp{{ID: newer, State: StateDelivered, Now: t0.Add(time.Second)}}); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Requeue(dead, t0.Add(2*time.Second)); !errors.Is(err, ErrSuperseded) {
				t.Fatalf("Requeue while the newer job is in the history: %v, want ErrSuperseded", err)
			}
			if how == "pruned" {
				if n, err := d.Prune(t0.Add(3*time.Second), time.Hour, 0, time.Minute); err != nil || n != 1 {
					t.Fatalf("Prune: %d %v", n, err)
				}
			} else if err := d.Delete(newer); err != nil {
				t.Fatal(err)
			}
			if _, err := d.Requeue(dead, t0.Add(4*time.Second)); !errors.Is(err, ErrSuperseded) {
				t.Fatalf("Requeue after the newer job was %s: %v, want ErrSuperseded", how, err)
			}
		})
	}
}

// TestReviewAlertEntryBounded: each stored alert's cost in the alert
// center is bounded. Each entry holds the notification's receiver and
// group key and the alert's summary; unbounded, a notification with a
// 256 KiB receiver and 400 small alerts (about 300 KB of body) wrote about
// 100 MiB of alert entries in one batch.
func TestReviewAlertEntryBounded(t *testing.T) {
	d := open(t)
	const n = 400
	receiver := strings.Repeat("r", 256<<10)
	alerts := make(template.Alerts, n)
	for i := range alerts {
		alerts[i] = template.Alert{Status: "firing", Labels: template.KV{"alertname": "A", "i": fmt.Sprint(i)}, Fingerprint: fmt.Sprint("f", i)}
	}
	alerts[0].Annotations = template.KV{"summary": strings.Repeat("s", 1<<20)}
	m := &alert.Message{Data: template.Data{Receiver: receiver, Status: "firing", Alerts: alerts}, Version: alert.Version, GroupKey: "{}:{}"}
	if err := m.Validate(); err != nil {
		t.Fatal(err)
	}
	g := (&alert.Builder{}).BuildSeen(m, t0, nil)
	body, _ := m.Body()
	if _, err := d.Accept(AcceptRequest{Now: t0, Group: g, Body: body, Location: time.UTC}); err != nil {
		t.Fatal(err)
	}
	total, largest := 0, 0
	err := d.read(func() error {
		return d.iterate([]byte{kindAlert}, nil, false, func(_, v []byte) (bool, error) {
			total += len(v)
			largest = max(largest, len(v))
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// Labels and annotations are capped at 8 KiB; the group key may be
	// 16 KiB; allow that and some.
	const bound = maxAlertDetailBytes + alert.MaxGroupKey + 4<<10
	if largest > bound {
		t.Errorf("largest alert entry %d bytes, want at most %d; %d alerts wrote %d bytes from a %d-byte body",
			largest, bound, n, total, len(body))
	}
}

// TestReviewCloseUnderLoad: Close while writes, reads and prunes run;
// Pebble is never used after Close (it would panic) and every call ends
// with nil or ErrClosed.
func TestReviewCloseUnderLoad(t *testing.T) {
	d := open(t)
	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	stop := make(chan struct{})
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var err error
				switch w % 3 {
				case 0:
					var acc *Acceptance
					acc, err = d.Accept(acceptReq(fmt.Sprint(w, "-", i), fmt.Sprint("g", i%7), t0.Add(time.Duration(i)*time.Millisecond), "a"))
					if err == nil && len(acc.Jobs) > 0 {
						err = d.FinishAll([]FinishOp{{ID: acc.Jobs[0].ID, State: StateDelivered, Now: t0}})
					}
				case 1:
					_, err = d.List(StateDelivered, "", 0, 10)
					if err == nil {
						_, _, err = d.Alerts(AlertFilter{}, AlertPage{})
					}
				case 2:
					_, err = d.Prune(t0.Add(time.Hour), time.Minute, 5, time.Second)
					if err == nil {
						_, err = d.PruneAlerts(t0.Add(-time.Hour))
					}
					if err == nil {
						err = d.VerifyValues()
					}
				}
				if err != nil {
					errs <- err
					if errors.Is(err, ErrClosed) {
						return
					}
				}
			}
		}()
	}
	time.Sleep(200 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("call during Close: %v", err)
		}
	}
}

// TestReviewHostileGroupKey: a group key at the limit with NUL bytes,
// invalid UTF-8 and key-kind bytes, and many alerts, round-trips through
// accept, reopen and Check; two groups whose keys differ only after a NUL
// do not supersede each other.
func TestReviewHostileGroupKey(t *testing.T) {
	dir := t.TempDir()
	d := openAt(t, dir)
	// Valid UTF-8: the webhook decoder turns invalid UTF-8 into U+FFFD,
	// and jobs are stored as JSON, which would too (so a caller that
	// bypassed the decoder would get a job whose group key no longer
	// matches its newest-job entry after a restart).
	base := "\x00\u00ff\U0010ffff" + strings.Repeat("{}/\x00p\x01", (alert.MaxGroupKey-16)/6)
	gk1, gk2 := base+"\x00a", base+"\x00b"
	a1 := accept(t, d, "k1", gk1, t0, "t")
	a2 := accept(t, d, "k2", gk2, t0, "t")
	if len(a2.Superseded) != 0 {
		t.Fatalf("group %q superseded the other group", gk2[len(gk2)-4:])
	}
	// Many alerts in one notification.
	const n = 5000
	alerts := make(template.Alerts, n)
	for i := range alerts {
		alerts[i] = template.Alert{Status: "firing", Labels: template.KV{"alertname": "A\u00ff", "i": fmt.Sprint(i)}, Fingerprint: fmt.Sprint("f", i)}
	}
	m := &alert.Message{Data: template.Data{Receiver: "r", Status: "firing", Alerts: alerts}, Version: alert.Version, GroupKey: gk1}
	g := (&alert.Builder{}).BuildSeen(m, t0, nil)
	body, _ := m.Body()
	if _, err := d.Accept(AcceptRequest{DedupKey: "k3", DedupWindow: time.Minute, Now: t0.Add(time.Second), Group: g, Body: body,
		Jobs: []NewJob{{Job: &Job{Target: "t", GroupKey: gk1}, Group: g}}}); err != nil {
		t.Fatal(err)
	}
	d.Close()
	d = openAt(t, dir)
	checkIndex(t, d, "after reopen")
	if j, err := d.Get(a1.Jobs[0].ID); err != nil || j.State != StateDelivered || !j.Superseded {
		t.Fatalf("first job of gk1: %+v %v, want superseded", j, err)
	}
	if j, err := d.Get(a2.Jobs[0].ID); err != nil || j.State != StatePending || j.GroupKey != gk2 {
		t.Fatalf("job of gk2: %v, want pending with its key intact", err)
	}
	d.Close()
	if rep, err := Check(dir); err != nil || rep.Damaged() || rep.Alerts != n+1 {
		t.Fatalf("Check: %v %+v", err, rep)
	}
}

// TestReviewKnownFilterRebuiltWhenFull: the alert filter is rebuilt "when
// full" (commit 8b0c06b), but PruneAlerts returns before rebuildKnown when
// nothing is stale (and when the stale alerts were an exact multiple of
// pruneBatch), so a filter past its capacity only degrades (more
// first-seen alerts cost a disk read).
func TestReviewKnownFilterRebuiltWhenFull(t *testing.T) {
	d := open(t)
	accept(t, d, "k", "g", t0, "a")
	d.mem.mu.Lock()
	d.mem.knownN = d.mem.knownCap + 1
	d.mem.mu.Unlock()
	if _, err := d.PruneAlerts(t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if d.mem.knownFull() {
		t.Fatal("the filter is over capacity after PruneAlerts; it was not rebuilt")
	}
}
