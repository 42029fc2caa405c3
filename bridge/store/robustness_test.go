package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Under a steady stream of hot writes the active memtable must still be
// frozen once it holds memtableMaxBytes (or is memtableMaxAge old): that
// bound is what keeps memory, the log segment and replay time in check.
// Under load a group is always in flight when the next one arrives, so
// freezing only when the committer is idle would never happen.
func TestMemtableFrozenUnderSteadyLoad(t *testing.T) {
	db := open(t)
	const writers = 8
	val := make([]byte, 32<<10)
	var stop atomic.Bool
	var n atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := []byte(fmt.Sprintf("w%d-%d", w, i))
				if err := db.batch(func(tx kvTx) error { return tx.Bucket(bucketDedup).Put(k, val) }); err != nil {
					t.Error(err)
					return
				}
				n.Add(1)
			}
		}()
	}
	// A correct committer freezes at 2 MiB (plus at most a group or two);
	// 4x that, or 3 memtable lifetimes, without a freeze is the bug.
	limit := 4 * memtableMaxBytes
	deadline := time.Now().Add(3 * memtableMaxAge)
	var size, frozenGen uint64
	var sz int
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		db.mu.RLock()
		sz = db.active.size
		for _, m := range db.synced {
			sz += m.size
		}
		gen := db.active.gen
		db.mu.RUnlock()
		size, frozenGen = uint64(sz), gen
		if sz > limit {
			break
		}
	}
	stop.Store(true)
	wg.Wait()
	if size > uint64(limit) {
		t.Errorf("active memtable grew to %d bytes (limit %d) under steady load, generation %d: never frozen (%d writes)",
			size, memtableMaxBytes, frozenGen, n.Load())
	} else if frozenGen == 1 && n.Load()*int64(len(val)) > int64(limit) {
		t.Errorf("%d writes of %d bytes in %v and the first memtable was never frozen", n.Load(), len(val), 3*memtableMaxAge)
	}
}

// Concurrent writers while the syncer appends to the synced list and the
// flusher shrinks the frozen list: the committer must read both under the
// lock (go test -race).
func TestConcurrentWritersAndFlusherRace(t *testing.T) {
	for round := 0; round < 4; round++ {
		db, err := openDB(t.TempDir(), true)
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 200; i++ {
					k := []byte(fmt.Sprintf("w%d-%d", w, i))
					if err := db.batch(func(tx kvTx) error { return tx.Bucket(bucketDedup).Put(k, k) }); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		db.Close()
	}
}

// A timestamp at offset -00:01 is valid RFC 3339 (a webhook may carry it)
// and survives a JSON round trip; it must survive the payload encoding
// too (time.AppendBinary cannot encode it: -1 minute is its mark for UTC).
func TestPayloadTimeOffsetMinusOneMinute(t *testing.T) {
	var ts time.Time
	if err := json.Unmarshal([]byte(`"2026-11-23T10:00:00-00:01"`), &ts); err != nil {
		t.Fatal(err)
	}
	g := &alert.Group{Data: template.Data{Alerts: template.Alerts{{Status: "firing", StartsAt: ts}}}, ReceivedAt: ts}
	js, _ := json.Marshal(g)
	var want alert.Group
	if err := json.Unmarshal(js, &want); err != nil {
		t.Fatal(err)
	}
	got, err := decodeGroup(encodeGroup(nil, g))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("startsAt %v, receivedAt %v after the binary round trip; JSON gives %v, %v",
			got.Alerts[0].StartsAt, got.ReceivedAt, want.Alerts[0].StartsAt, want.ReceivedAt)
	}
}

// bbolt rejects keys over bolt.MaxKeySize (32 KiB), and the hot path
// only meets bbolt when its memtable is applied. A write with such a key
// (a job's "latest" key embeds the group key) must fail alone, up front:
// acknowledged, it would fail the flusher forever and the next Open.
func TestOversizedKeyFailsAlone(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	gk := strings.Repeat("g", 40<<10)
	_, err = db.Accept(AcceptRequest{DedupKey: "k", DedupWindow: time.Minute, Now: t0,
		Build: func([]alert.Seen) (*alert.Group, []NewJob, error) {
			return nil, []NewJob{{Job: &Job{Target: "x", GroupKey: gk}, Group: &alert.Group{GroupKey: gk}}}, nil
		}})
	if err == nil {
		t.Error("a 40 KiB key was accepted")
	}
	accept(t, db, "ok", "g", t0, "x") // the store goes on
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	re, err := Open(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	re.Close()
}

// Close while writers are in flight: every write gets nil or ErrClosed,
// and every acknowledged one is there after reopening.
func TestCloseWithWritesInFlight(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked [][]byte
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				k := []byte(fmt.Sprintf("w%d-%d", w, i))
				err := db.batch(func(tx kvTx) error { return tx.Bucket(bucketDedup).Put(k, k) })
				if errors.Is(err, ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, k)
				mu.Unlock()
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	re, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer re.Close()
	if len(acked) == 0 {
		t.Fatal("no write acknowledged")
	}
	err = re.read(func(tx kvTx) error {
		for _, k := range acked {
			if tx.Bucket(bucketDedup).Get(k) == nil {
				return fmt.Errorf("acknowledged key %s lost", k)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
