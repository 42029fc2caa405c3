package store_test

import (
	"testing"

	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/store/storetest"
)

// TestPebbleConformance runs the engine conformance suite on DB.
func TestPebbleConformance(t *testing.T) {
	storetest.Run(t, openPebble, reopenPebble)
}

func openPebble(t *testing.T) store.Engine {
	return openPebbleAt(t, t.TempDir())
}

func openPebbleAt(t *testing.T, dir string) store.Engine {
	t.Helper()
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// reopenPebble closes the store and opens its folder again.
func reopenPebble(t *testing.T, e store.Engine) store.Engine {
	t.Helper()
	db := e.(*store.DB)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return openPebbleAt(t, db.Dir())
}
