package store_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/store/storetest"
)

func TestVolatileConformance(t *testing.T) {
	for _, where := range []string{"memory", "folder"} {
		t.Run(where, func(t *testing.T) {
			opts := func(t *testing.T) store.Options {
				if where == "memory" {
					return store.Options{}
				}
				return store.Options{VolatileDir: filepath.Join(t.TempDir(), "view")}
			}
			open := func(t *testing.T) store.Engine {
				db, err := store.OpenVolatile(opts(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			// A restart of a volatile store is a restore from its snapshot.
			reopen := func(t *testing.T, e store.Engine) store.Engine {
				var buf bytes.Buffer
				if err := e.(*store.DB).Export(&buf); err != nil {
					t.Fatal(err)
				}
				e.Close()
				db, err := store.RestoreVolatile(&buf, opts(t))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { db.Close() })
				return db
			}
			storetest.Run(t, open, reopen)
		})
	}
}

// TestOpenVolatileEmptiesItsFolder: what a volatile store left in its
// folder (a crashed view) is gone at the next open.
func TestOpenVolatileEmptiesItsFolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "view")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "left-over"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenVolatile(store.Options{VolatileDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(filepath.Join(dir, "left-over")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("left-over file: %v", err)
	}
}

func TestRestoreVolatileRefusesDamage(t *testing.T) {
	db, err := store.OpenVolatile(store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	if err := db.Export(&buf); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	for name, in := range map[string][]byte{
		"empty":     nil,
		"not one":   []byte("hello"),
		"truncated": good[:len(good)-3],
		"huge":      append(append([]byte{}, good[:29]...), 0xff, 0xff, 0xff, 0xff, 0x7f, 1),
	} {
		t.Run(name, func(t *testing.T) {
			db, err := store.RestoreVolatile(bytes.NewReader(in), store.Options{})
			if err == nil {
				db.Close()
				t.Fatal("restored a damaged snapshot")
			}
			if !errors.Is(err, store.ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
		})
	}
}
