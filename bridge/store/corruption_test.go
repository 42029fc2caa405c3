package store

import (
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"
)

// bigReq is notification i: its own group, dedup key and alert, with a
// description of about 3 KB of incompressible text, so the stored payload
// is a few KB and tables and blob files hold many blocks.
func bigReq(i int, rnd *rand.Rand) AcceptRequest {
	req := acceptReq(fmt.Sprintf("key-%d", i), fmt.Sprintf("group-%d", i), t0.Add(time.Duration(i)*time.Millisecond), "ops")
	desc := make([]byte, 1500)
	rnd.Read(desc)
	req.Group.Alerts[0].Labels = template.KV{"alertname": "Big", "instance": fmt.Sprintf("host-%d", i)}
	req.Group.Alerts[0].Annotations = template.KV{"description": fmt.Sprintf("%x", desc)}
	req.Group.Records[0].ID = int64(i + 1)
	req.Body = bodyOf(req.Group)
	return req
}

// fillStore accepts n big notifications into the store in dir and returns
// their job ids. With flush, the memtable is written to tables before
// Close, so the data is in .sst and .blob files and not only in the WAL.
func fillStore(t testing.TB, dir string, n int, flush bool, opts Options) []uint64 {
	t.Helper()
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewSource(1))
	ids := make([]uint64, 0, n)
	for i := 0; i < n; i++ {
		acc, err := db.Accept(bigReq(i, rnd))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.Jobs[0].ID)
	}
	if flush {
		if err := db.db.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return ids
}

// dataFiles lists the files of the Pebble folder whose names end in ext,
// largest first.
func dataFiles(t testing.TB, dir, ext string) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, DataDir))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	size := map[string]int64{}
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ext) || (ext == "MANIFEST" && strings.HasPrefix(e.Name(), "MANIFEST-")) {
			p := filepath.Join(dir, DataDir, e.Name())
			info, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			if info.Size() == 0 {
				continue
			}
			size[p] = info.Size()
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return size[out[i]] > size[out[j]] })
	return out
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return info.Size()
}

// flipByte inverts the byte at off of the file.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// copyDir copies the regular files under src to dst, as a crash would
// leave them: it is used on a store that is open, to get the folder a
// SIGKILL leaves behind (every acknowledged write is synced, so it is in
// the files).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(to, 0o750)
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		out, err := os.Create(to)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
}

// storedJobs opens dir and returns its pending job ids; it fails the test
// when the store does not open.
func storedJobs(t testing.TB, dir string) map[uint64]bool {
	t.Helper()
	db, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[uint64]bool{}
	if err := db.ForEachPending(func(j *Job) error { got[j.ID] = true; return nil }); err != nil {
		t.Fatal(err)
	}
	return got
}

// openRefused opens dir, which must be refused with an error that wraps
// want, names the folder and contains every one of what; it returns the
// error. A panic fails the test.
func openRefused(t *testing.T, dir string, want error, what ...string) error {
	t.Helper()
	return openRefusedOr(t, dir, false, want, what...)
}

// openRefusedOr is openRefused where, with payloads, the damage may be in
// payload values, which Open lists without reading: then Open may
// succeed, and VerifyValues (which the bridge runs right after the
// start) must find it.
func openRefusedOr(t *testing.T, dir string, payloads bool, want error, what ...string) error {
	t.Helper()
	var db *DB
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Open panicked: %v", p)
			}
		}()
		db, err = Open(dir, Options{})
	}()
	if err == nil && payloads {
		err = db.VerifyValues()
		if err == nil {
			db.Close()
			t.Fatalf("Open of a damaged store succeeded and VerifyValues found nothing")
		}
		if db.Damage() == nil {
			t.Errorf("VerifyValues found %v but Damage() is nil", err)
		}
		db.Close()
	} else if err == nil {
		db.Close()
		t.Fatalf("Open of a damaged store succeeded")
	}
	if !errors.Is(err, want) {
		t.Errorf("Open error %q does not wrap %q", err, want)
	}
	if strings.Contains(err.Error(), "outstanding references") {
		t.Errorf("Open error %q hides the damage behind the engine's failure to close", err)
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("Open error %q does not name the folder %s", err, dir)
	}
	for _, w := range what {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("Open error %q does not say %q", err, w)
		}
	}
	return err
}

// checkDamaged runs Check on dir, which must report damage (or, for an
// old format, a problem that names it).
func checkDamaged(t *testing.T, dir string, what ...string) *Report {
	t.Helper()
	var rep *Report
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				t.Fatalf("Check panicked: %v", p)
			}
		}()
		rep, err = Check(dir)
	}()
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if !rep.Damaged() {
		t.Fatalf("Check reports a damaged store as sound: %+v", rep)
	}
	all := strings.Join(rep.Problems, "\n")
	for _, w := range what {
		if !strings.Contains(all, w) {
			t.Errorf("Check problems %q do not say %q", all, w)
		}
	}
	return rep
}

// TestCorruptionIsNeverSilent damages a store of a few hundred jobs in
// each of the ways a disk or an operator can, and requires that Open
// refuses it with an error naming the folder and the problem (never a
// panic, never a partial queue) and that Check reports it damaged.
func TestCorruptionIsNeverSilent(t *testing.T) {
	const n = 300
	// A store whose data is in tables (.sst keys, .blob payloads).
	tables := t.TempDir()
	fillStore(t, tables, n, true, Options{})
	// A store with a history: small memtables, so many flushes and
	// compactions are recorded in its MANIFEST.
	history := t.TempDir()
	fillStore(t, history, 5*n, false, Options{MemTableBytes: 128 << 10})
	if len(dataFiles(t, tables, ".sst")) == 0 || len(dataFiles(t, tables, ".blob")) == 0 {
		t.Fatalf("no .sst or .blob file after a flush: %v", dataFiles(t, tables, ""))
	}
	// The folder a SIGKILL leaves: the data only in the WAL, copied while
	// the store is open.
	crashed := t.TempDir()
	{
		live := t.TempDir()
		db, err := Open(live, Options{})
		if err != nil {
			t.Fatal(err)
		}
		rnd := rand.New(rand.NewSource(2))
		for i := 0; i < n; i++ {
			if _, err := db.Accept(bigReq(i, rnd)); err != nil {
				t.Fatal(err)
			}
		}
		copyDir(t, live, crashed)
		db.Close()
	}
	// The undamaged originals open with everything: the damage below is
	// what the test detects.
	for dir, want := range map[string]int{tables: n, crashed: n, history: 5 * n} {
		if got := storedJobs(t, copyOf(t, dir)); len(got) != want {
			t.Fatalf("undamaged copy of %s holds %d pending jobs, want %d", dir, len(got), want)
		}
		if rep, err := Check(copyOf(t, dir)); err != nil || rep.Damaged() {
			t.Fatalf("undamaged copy: Check = %+v, %v", rep, err)
		}
	}

	for _, tc := range []struct {
		name   string
		from   string // the store to damage a copy of ("": a new folder)
		damage func(t *testing.T, dir string)
		want   error
		what   []string // in Open's error
		// payloads: the damage may be in payload values, found by
		// VerifyValues after the start rather than by Open.
		payloads bool
	}{
		{"flipped byte in the middle of a table", tables, func(t *testing.T, dir string) {
			p := dataFiles(t, dir, ".sst")[0]
			flipByte(t, p, fileSize(t, p)/2)
		}, ErrCorrupt, []string{"checksum"}, false},
		{"flipped byte in the middle of a blob file (payloads)", tables, func(t *testing.T, dir string) {
			p := dataFiles(t, dir, ".blob")[0]
			flipByte(t, p, fileSize(t, p)/2)
		}, ErrCorrupt, []string{"checksum"}, true},
		{"flipped byte in the middle of the WAL after a crash", crashed, func(t *testing.T, dir string) {
			logs := dataFiles(t, dir, ".log")
			if len(logs) == 0 {
				t.Fatal("no WAL in the crashed copy")
			}
			flipByte(t, logs[0], fileSize(t, logs[0])/2)
		}, ErrCorrupt, []string{"checksum"}, false},
		{"truncated table", tables, func(t *testing.T, dir string) {
			p := dataFiles(t, dir, ".sst")[0]
			if err := os.Truncate(p, fileSize(t, p)/2); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, nil, false},
		{"truncated blob file", tables, func(t *testing.T, dir string) {
			p := dataFiles(t, dir, ".blob")[0]
			if err := os.Truncate(p, fileSize(t, p)/2); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, nil, true},
		// Half of the MANIFEST of a store with a history: the edits it
		// keeps name tables that later compactions replaced. (Cutting off
		// only its last edit is not detected: see the package notes in
		// crash_test.go.)
		{"truncated MANIFEST", history, func(t *testing.T, dir string) {
			for _, p := range dataFiles(t, dir, "MANIFEST") {
				if err := os.Truncate(p, fileSize(t, p)/2); err != nil {
					t.Fatal(err)
				}
			}
		}, ErrCorrupt, []string{"missing"}, false},
		{"missing table", tables, func(t *testing.T, dir string) {
			if err := os.Remove(dataFiles(t, dir, ".sst")[0]); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, []string{"missing"}, false},
		{"empty data folder that used to hold a store", tables, func(t *testing.T, dir string) {
			entries, err := os.ReadDir(filepath.Join(dir, DataDir))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if err := os.RemoveAll(filepath.Join(dir, DataDir, e.Name())); err != nil {
					t.Fatal(err)
				}
			}
		}, ErrCorrupt, []string{"missing or empty", "lost"}, false},
		{"data folder deleted", tables, func(t *testing.T, dir string) {
			if err := os.RemoveAll(filepath.Join(dir, DataDir)); err != nil {
				t.Fatal(err)
			}
		}, ErrCorrupt, []string{"missing or empty", "lost"}, false},
		{"old format folder", "", func(t *testing.T, dir string) {
			writeOldFormat(t, dir)
		}, ErrOldFormat, []string{"alertbridge.db", "earlier"}, false},
		{"marker of another format", tables, func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, MarkerName), []byte("alertbridge store\nformat: 3\nengine: pebble\n"), 0o640); err != nil {
				t.Fatal(err)
			}
		}, ErrOldFormat, []string{"format 3", fmt.Sprintf("reads format %d", FormatVersion)}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if tc.from != "" {
				copyDir(t, tc.from, dir)
			}
			tc.damage(t, dir)
			// Check first: it only reads, so Open's attempt cannot change
			// what it sees. Then Open, then Check again: a refused Open
			// must not have repaired or hidden the damage.
			checkDamaged(t, dir)
			err := openRefusedOr(t, dir, tc.payloads, tc.want, tc.what...)
			t.Logf("refused: %v", err)
			checkDamaged(t, dir)
		})
	}
}

// copyOf is a fresh copy of dir.
func copyOf(t testing.TB, dir string) string {
	t.Helper()
	to := t.TempDir()
	copyDir(t, dir, to)
	return to
}

// writeOldFormat makes dir look like a store of the earlier builds: a
// bbolt file and a wal folder with a segment.
func writeOldFormat(t testing.TB, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alertbridge.db"), make([]byte, 32<<10), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wal", "00000001.seg"), []byte("old segment"), 0o640); err != nil {
		t.Fatal(err)
	}
}

// TestOldFormatRefused: a folder of the earlier bbolt/log store is refused
// by Open and reported by Check with what it is and how to drain it, and
// left as it was.
func TestOldFormatRefused(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, dir string)
	}{
		{"bbolt file and wal folder", func(t *testing.T, dir string) { writeOldFormat(t, dir) }},
		{"bbolt file only", func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "alertbridge.db"), nil, 0o640); err != nil {
				t.Fatal(err)
			}
		}},
		{"wal folder only", func(t *testing.T, dir string) {
			if err := os.MkdirAll(filepath.Join(dir, "wal"), 0o750); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(t, dir)
			before := listTree(t, dir)
			openRefused(t, dir, ErrOldFormat, "earlier alertbridge build",
				"run the earlier build on it until GET /api/v1/deliveries?state=pending is empty", "move the folder away")
			rep := checkDamaged(t, dir, "earlier alertbridge build", "state=pending is empty")
			if rep.Jobs == nil {
				t.Error("report without a jobs map")
			}
			if after := listTree(t, dir); after != before {
				t.Errorf("refusing the old store changed the folder:\nbefore %s\nafter  %s", before, after)
			}
		})
	}
}

// listTree names every file under dir with its size.
func listTree(t testing.TB, dir string) string {
	t.Helper()
	var b strings.Builder
	_ = filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, _ := e.Info()
		fmt.Fprintf(&b, "%s:%d ", strings.TrimPrefix(p, dir), info.Size())
		return nil
	})
	return b.String()
}
