package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
	bolt "go.etcd.io/bbolt"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Concurrent acceptances of the same alert: each is built before the
// shared transaction from the counters it saw then, and rebuilt inside it
// when another acceptance changed them. Every committed job must carry
// the counters the transaction actually wrote: 1..n, each once.
func TestConcurrentAcceptsCountEveryNotification(t *testing.T) {
	db := open(t)
	const n = 40
	var (
		mu    sync.Mutex
		times = map[int64]int{}
		wg    sync.WaitGroup
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var last int64
			acc, err := db.Accept(AcceptRequest{
				DedupKey: fmt.Sprint("k", i), DedupWindow: time.Minute, AlertIDs: []int64{7}, Now: t0,
				Build: func(seen []alert.Seen) (*alert.Group, []NewJob, error) {
					last = seen[0].Times
					g := &alert.Group{GroupKey: "g", Data: template.Data{Alerts: template.Alerts{{Status: "firing"}}}}
					return nil, []NewJob{{Job: &Job{Target: "x", GroupKey: fmt.Sprint("g", i)}, Group: g}}, nil
				},
			})
			if err != nil || len(acc.Jobs) != 1 {
				t.Errorf("accept %d: %v %+v", i, err, acc)
				return
			}
			mu.Lock()
			times[last]++ // the last Build call is the committed one
			mu.Unlock()
		}()
	}
	wg.Wait()
	for k := int64(1); k <= n; k++ {
		if times[k] != 1 {
			t.Fatalf("counter %d committed %d times; all: %v", k, times[k], times)
		}
	}
}

// A write that fails in a shared batch gets its error; the others of the
// batch commit.
func TestBatchFailureIsolated(t *testing.T) {
	db := open(t)
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.batch(func(tx kvTx) error {
				if err := tx.Bucket(bucketDedup).Put([]byte(fmt.Sprint("w", i)), u64(1)); err != nil {
					return err
				}
				if i%5 == 0 {
					return boom
				}
				if i%7 == 0 {
					panic("bad write")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	err := db.view(func(tx *bolt.Tx) error {
		for i, e := range errs {
			stored := tx.Bucket(bucketDedup).Get([]byte(fmt.Sprint("w", i))) != nil
			switch {
			case i%5 == 0:
				if !errors.Is(e, boom) || stored {
					t.Errorf("write %d: err %v, stored %v; want boom, not stored", i, e, stored)
				}
			case i%7 == 0:
				if e == nil || stored {
					t.Errorf("write %d: err %v, stored %v; want the panic as an error, not stored", i, e, stored)
				}
			default:
				if e != nil || !stored {
					t.Errorf("write %d: err %v, stored %v; want committed", i, e, stored)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.batch(func(kvTx) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Errorf("write after Close: %v, want ErrClosed", err)
	}
}
