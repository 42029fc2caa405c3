package store

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
)

// readableJobs opens the damaged store with the engine directly and
// returns the ids of the pending jobs whose record and payload can both be
// read, each by a point read: what Salvage must copy.
func readableJobs(t *testing.T, dir string, ids []uint64) map[uint64]bool {
	t.Helper()
	db, err := pebble.Open(filepath.Join(dir, DataDir), &pebble.Options{ReadOnly: true, Logger: engineLogger{},
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ok := map[uint64]bool{}
	for _, id := range ids {
		j, err := salvageGet(db, jobKey(StatePending, id))
		if err != nil {
			continue
		}
		job, err := decodeJob(jobKey(StatePending, id), j)
		if err != nil {
			continue
		}
		p, err := salvageGet(db, notificationKey(job.Notification))
		if err != nil {
			continue
		}
		if err := checkNotification(p); err != nil {
			continue
		}
		ok[id] = true
	}
	return ok
}

// TestSalvage damages a store in the middle of its key table or of its
// payload file, and requires that Salvage copies exactly the jobs whose
// record and payload are readable, that the copy opens and checks sound
// with their payloads, and that the counts add up: salvaged + payload
// lost + lost with an unreadable key block = jobs before.
func TestSalvage(t *testing.T) {
	const n = 400
	src := t.TempDir()
	ids := fillStore(t, src, n, true, Options{})
	for _, tc := range []struct {
		name string
		ext  string
		at   int64 // where the search for a flip that hits jobs starts, % of the file
		step int64 // and its step
	}{
		{"flipped byte in the key table", ".sst", 50, 1 << 10},
		// The blob file holds the alert entries' values first (their
		// keys sort first), then the payloads.
		{"flipped byte in the payload file", ".blob", 75, 8 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Flip a byte from the middle on, 1 KB further each time,
			// until the flip hits a block that holds jobs (not only dedup
			// keys, indexes or alert entries, which are in the same files).
			var from string
			var readable map[uint64]bool
			for off := int64(0); ; off += tc.step {
				from = copyOf(t, src)
				p := dataFiles(t, from, tc.ext)[0]
				at := fileSize(t, p)*tc.at/100 + off
				if at >= fileSize(t, p) {
					t.Fatal("no flip after the middle of the file hits a job")
				}
				flipByte(t, p, at)
				if readable = readableJobs(t, from, ids); len(readable) < n {
					t.Logf("byte %d of %d flipped", at, fileSize(t, p))
					break
				}
			}
			// Damage in payload values is found right after the start,
			// by VerifyValues, rather than by Open.
			if db, err := Open(from, Options{}); err == nil {
				verr := db.VerifyValues()
				db.Close()
				if tc.ext != ".blob" || !errors.Is(verr, ErrCorrupt) {
					t.Fatalf("damaged store opened and VerifyValues found %v", verr)
				}
			} else if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("damaged store: Open = %v", err)
			}
			to := filepath.Join(t.TempDir(), "salvaged")
			var rep *SalvageReport
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("Salvage panicked: %v", p)
					}
				}()
				rep, err = Salvage(from, to)
			}()
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("salvaged %v, payloads lost %d, readable by point reads %d of %d; problems: %.300q",
				rep.Jobs, rep.Lost, len(readable), n, rep.Problems)
			if len(rep.Problems) == 0 {
				t.Error("Salvage of a damaged store reports no problem")
			}
			for _, p := range rep.Problems {
				if !strings.Contains(p, "checksum") {
					t.Errorf("problem %q does not name the checksum failure", p)
				}
			}
			got := storedJobs(t, to)
			for id := range readable {
				if !got[id] {
					t.Errorf("readable job %d not salvaged", id)
				}
			}
			for id := range got {
				if !readable[id] {
					t.Errorf("job %d salvaged though its data is not readable", id)
				}
			}
			if rep.Jobs[StatePending] != len(got) {
				t.Errorf("report says %d pending salvaged, the new store holds %d", rep.Jobs[StatePending], len(got))
			}
			// Every job is salvaged, reported lost for its payload, or
			// went with an unreadable block of job records (the walk
			// reports each such block as a problem).
			gone := n - len(got) - rep.Lost
			if gone < 0 {
				t.Errorf("salvaged %d + lost %d > %d jobs before", len(got), rep.Lost, n)
			}
			if gone > 0 && tc.ext == ".blob" {
				t.Errorf("%d jobs neither salvaged nor reported lost after damage to payloads only", gone)
			}
			// The new store is sound and its payloads read back.
			if rep, err := Check(to); err != nil || rep.Damaged() {
				t.Fatalf("Check of the salvaged store: %+v, %v", rep, err)
			}
			db := openAt(t, to)
			for id := range got {
				if _, err := payloadOf(db, id); err != nil {
					t.Errorf("payload of salvaged job %d: %v", id, err)
				}
			}
			// New jobs do not reuse salvaged ids.
			acc := accept(t, db, "after-salvage", "g-new", t0, "ops")
			for id := range got {
				if acc.Jobs[0].ID <= id {
					t.Fatalf("new job id %d reuses the salvaged range (max %d)", acc.Jobs[0].ID, id)
				}
			}
		})
	}
}

// TestPayloadReadOfDamagedBlob: a payload whose blob block fails its
// checksum after the store was opened reads as ErrCorrupt and marks the
// store damaged, not as an empty value that fails to decode.
func TestPayloadReadOfDamagedBlob(t *testing.T) {
	dir := t.TempDir()
	ids := fillStore(t, dir, 200, true, Options{})
	// No block cache to speak of, so reads after Open go to the file.
	db, err := Open(dir, Options{CacheBytes: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := dataFiles(t, dir, ".blob")[0]
	size := fileSize(t, p)
	for off := size * 3 / 4; off < size; off += 4 << 10 {
		flipByte(t, p, off)
	}
	var hit int
	for _, id := range ids {
		_, err := payloadOf(db, id)
		if err == nil {
			continue
		}
		hit++
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("payload %d of a damaged blob: %v, want ErrCorrupt", id, err)
		}
	}
	if hit == 0 {
		t.Fatal("no payload read hit the damage")
	}
	if db.Damage() == nil {
		t.Error("the store does not report the damage its reads found")
	}
}
