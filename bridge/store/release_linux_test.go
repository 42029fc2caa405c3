package store

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// mappedKB is the resident size of the database file's mapping in this
// process, from /proc/self/smaps.
func mappedKB(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		t.Skipf("no smaps: %v", err)
	}
	defer f.Close()
	in, kb := false, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		// A mapping's header starts with its address range; mappings
		// without a file have no sixth field.
		if fields := strings.Fields(line); len(fields) >= 5 && strings.Contains(fields[0], "-") && !strings.HasSuffix(fields[0], ":") {
			in = len(fields) >= 6 && fields[len(fields)-1] == path
			continue
		}
		if v, ok := strings.CutPrefix(line, "Rss:"); ok && in {
			n, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			kb += n
		}
	}
	return kb
}

// Pages bbolt read through its map count in the process's RSS until
// released; after releaseMapped none do, and reads still see the data.
func TestReleaseMappedDropsResidentPages(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	val := make([]byte, 3000)
	err = db.update(func(tx *bolt.Tx) error {
		for i := range 2000 {
			copy(val, fmt.Sprint(i))
			if err := tx.Bucket(bucketDedup).Put([]byte(fmt.Sprintf("k%05d", i)), append([]byte(nil), val...)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	readAll := func() {
		t.Helper()
		err := db.view(func(tx *bolt.Tx) error {
			n := 0
			err := tx.Bucket(bucketDedup).ForEach(func(k, v []byte) error {
				if i, _ := strconv.Atoi(string(k[1:])); !strings.HasPrefix(string(v), fmt.Sprint(i)) {
					return fmt.Errorf("%s = %.8q", k, v)
				}
				n++
				return nil
			})
			if err == nil && n != 2000 {
				err = fmt.Errorf("read %d values", n)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, FileName)
	readAll()
	if kb := mappedKB(t, path); kb < 2000 {
		t.Fatalf("after reading 6 MB through the map only %d kB resident: the test cannot tell", kb)
	}
	releaseMapped(db.db)
	if kb := mappedKB(t, path); kb > 64 {
		t.Errorf("%d kB of the map resident after release", kb)
	}
	readAll()
}
