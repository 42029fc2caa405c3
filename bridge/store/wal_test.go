package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// crashCopy copies an open store's folder as a crash would leave it: the
// database file as last committed and the log segments as synced. The
// flusher must be idle (nothing frozen since the accepts).
func crashCopy(t *testing.T, db *DB, src string) string {
	t.Helper()
	dst := t.TempDir()
	db.mu.RLock()
	frozen := len(db.frozen)
	db.mu.RUnlock()
	if frozen != 0 {
		t.Skip("a memtable was frozen meanwhile; the copy could race the flusher")
	}
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o750)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// Acknowledged writes that only the log holds (not yet in the database
// file) are there after a crash: the next Open applies the log, and a
// record cut short by the crash is ignored.
func TestLogReplayAfterCrash(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ids []uint64
	for i := 0; i < 5; i++ {
		m := benchMessage(i, 3)
		acc, err := db.Accept(benchRequest(m, fmt.Sprint("k", i), t0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.Jobs[0].ID)
	}
	// One delivered, one dead letter: outcomes are logged too.
	if err := db.FinishAll([]FinishOp{{ID: ids[0], State: StateDelivered, Attempts: 1, Now: t0},
		{ID: ids[1], State: StateDead, Attempts: 3, Reason: "x", Now: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := db.db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(stateBuckets[StatePending]).Stats().KeyN != 0 {
			return errors.New("jobs already in the database file: the test would not test the log")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	crashed := crashCopy(t, db, dir)
	// The crash cut the next record short.
	gens, err := segments(filepath.Join(crashed, walDir))
	if err != nil || len(gens) == 0 {
		t.Fatalf("no log segment: %v %v", gens, err)
	}
	f, err := os.OpenFile(segmentPath(filepath.Join(crashed, walDir), gens[len(gens)-1]), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{0, 0, 1, 0, 0xde, 0xad, 0xbe, 0xef, opPut, 2})
	f.Close()

	re, err := Open(crashed)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if left, _ := segments(filepath.Join(crashed, walDir)); len(left) != 1 {
		t.Errorf("segments after open: %v, want only the new one", left)
	}
	var pending []uint64
	if err := re.ForEachPending(func(j *Job) error { pending = append(pending, j.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(pending) != fmt.Sprint(ids[2:]) {
		t.Errorf("pending after replay %v, want %v", pending, ids[2:])
	}
	for _, id := range ids[2:] {
		if g, err := re.Payload(id); err != nil || len(g.Alerts) != 3 {
			t.Errorf("payload %d after replay: %v", id, err)
		}
	}
	if j, err := re.Get(ids[0]); err != nil || j.State != StateDelivered {
		t.Errorf("delivered job after replay: %+v %v", j, err)
	}
	if j, err := re.Get(ids[1]); err != nil || j.State != StateDead {
		t.Errorf("dead letter after replay: %+v %v", j, err)
	}
	// Counters, dedup keys and the alert center came back too.
	if acc, err := re.Accept(benchRequest(benchMessage(4, 3), "k4", t0.Add(time.Second))); err != nil || !acc.Duplicate {
		t.Errorf("replayed dedup key: %+v %v", acc, err)
	}
	var seen []alert.Seen
	req := benchRequest(benchMessage(4, 3), "again", t0.Add(time.Second))
	build := req.Build
	req.Build = func(s []alert.Seen) (*alert.Group, []NewJob, error) { seen = s; return build(s) }
	if _, err := re.Accept(req); err != nil || seen[0].Times != 2 {
		t.Errorf("replayed counters: %v %v", seen, err)
	}
	if entries, _, err := re.Alerts(AlertFilter{}, AlertPage{Limit: 100}); err != nil || len(entries) != 15 {
		t.Errorf("alert center after replay: %d entries, %v", len(entries), err)
	}
	// The next job id follows the replayed ones.
	acc, err := re.Accept(benchRequest(benchMessage(9, 1), "new", t0))
	if err != nil || acc.Jobs[0].ID <= ids[len(ids)-1] {
		t.Errorf("job id after replay: %+v %v", acc, err)
	}
}

// A job accepted and delivered while its memtable is active never
// reaches the database file: neither its pending entry nor its payload.
func TestDeliveredBeforeFlushSkipsTheTree(t *testing.T) {
	db := open(t)
	acc, err := db.Accept(benchRequest(benchMessage(1, 2), "k", t0))
	if err != nil {
		t.Fatal(err)
	}
	id := acc.Jobs[0].ID
	if err := db.FinishAll([]FinishOp{{ID: id, State: StateDelivered, Attempts: 1, Now: t0}}); err != nil {
		t.Fatal(err)
	}
	// What the active memtable holds once the synced groups are merged.
	db.mu.RLock()
	merged := newMemtable(0)
	merged.absorb(db.active)
	for _, m := range db.synced {
		merged.absorb(m)
	}
	frozen := len(db.frozen)
	db.mu.RUnlock()
	_, inPending := merged.entry(bucketIndex(stateBuckets[StatePending]), u64(id))
	_, inPayloads := merged.entry(bucketIndex(bucketPayloads), u64(id))
	if frozen == 0 && (inPending || inPayloads) {
		t.Errorf("delivered job still in the active memtable: pending %v, payload %v", inPending, inPayloads)
	}
	if j, err := db.Get(id); err != nil || j.State != StateDelivered {
		t.Fatalf("delivered job: %+v %v", j, err)
	}
	if _, err := db.Payload(id); !errors.Is(err, ErrNotFound) {
		t.Errorf("payload of a delivered job: %v", err)
	}
}
