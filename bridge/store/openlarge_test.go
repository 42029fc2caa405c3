package store

import (
	"math/rand"
	"os"
	"strconv"
	"testing"
	"time"
)

// TestOpenLargeStore measures (it asserts nothing about speed) how long
// Open takes on a store of many waiting jobs with 4 KB payloads: Open
// reads every key and every payload, so that a damaged queue is refused at
// start and not found at delivery. Set ALERTBRIDGE_STORE_OPEN_JOBS
// (e.g. 100000) to run it.
func TestOpenLargeStore(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ALERTBRIDGE_STORE_OPEN_JOBS"))
	if n == 0 {
		t.Skip("set ALERTBRIDGE_STORE_OPEN_JOBS to measure")
	}
	dir := t.TempDir()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(1))
	start := time.Now()
	for i := 0; i < n; i += 500 {
		err := db.write(func(t *tx) error {
			for j := i; j < min(i+500, n); j++ {
				req := bigReq(j, rnd)
				req.Group.Alerts[0].Annotations["extra"] = req.Group.Alerts[0].Annotations["description"][:1000]
				req.Body = bodyOf(req.Group)
				if _, err := acceptTx(t, req, []int64{req.Group.Records[0].ID}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %d jobs in %v; folder %d MiB", n, time.Since(start), folderSize(dir)>>20)
	for i := 0; i < 2; i++ {
		start = time.Now()
		db, err = Open(dir, Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("open %d: %v", i, time.Since(start))
		start = time.Now()
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("close: %v", time.Since(start))
	}
	start = time.Now()
	rep, err := Check(dir)
	if err != nil || rep.Damaged() {
		t.Fatal(rep, err)
	}
	t.Logf("check: %v (%d payloads)", time.Since(start), rep.Notifications)
}
