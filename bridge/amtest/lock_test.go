//go:build unix

package amtest

import (
	"path/filepath"
	"testing"
	"time"
)

// TestLockFileWaits: a second holder waits until the first releases the
// lock, as a second test process waits for the one building Alertmanager.
func TestLockFileWaits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "build.lock")
	unlock, err := lockFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan func(), 1)
	go func() {
		u, err := lockFile(path)
		if err != nil {
			t.Error(err)
			u = func() {}
		}
		got <- u
	}()
	select {
	case <-got:
		t.Fatal("a second lockFile returned while the first held the lock")
	case <-time.After(200 * time.Millisecond):
	}
	unlock()
	select {
	case u := <-got:
		u()
	case <-time.After(10 * time.Second):
		t.Fatal("the second lockFile did not return after the first released the lock")
	}
}
