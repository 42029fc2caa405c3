package store

import (
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// gateFS holds every sync of a write-ahead log file while its gate is
// closed, as a slow disk would.
type gateFS struct {
	vfs.FS
	mu   sync.Mutex
	gate chan struct{} // nil: open
}

func (g *gateFS) wait() {
	g.mu.Lock()
	c := g.gate
	g.mu.Unlock()
	if c != nil {
		<-c
	}
}

func (g *gateFS) wrap(name string, f vfs.File, err error) (vfs.File, error) {
	if err != nil || !strings.HasSuffix(name, ".log") {
		return f, err
	}
	return &gateFile{File: f, g: g}, nil
}

func (g *gateFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.Create(name, c)
	return g.wrap(name, f, err)
}

func (g *gateFS) ReuseForWrite(old, name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	f, err := g.FS.ReuseForWrite(old, name, c)
	return g.wrap(name, f, err)
}

type gateFile struct {
	vfs.File
	g *gateFS
}

func (f *gateFile) Sync() error     { f.g.wait(); return f.File.Sync() }
func (f *gateFile) SyncData() error { f.g.wait(); return f.File.SyncData() }
func (f *gateFile) SyncTo(n int64) (bool, error) {
	f.g.wait()
	return f.File.SyncTo(n)
}

// TestReviewDuplicateWaitsForTheOriginalsSync: Alertmanager HA replicas
// can send the same notification within milliseconds. The first
// acceptance applies its batch and releases the write lock before its
// fsync (write: ApplyNoSyncWait, then SyncWait outside wmu); the second
// sees the dedup key, finds it a duplicate, writes nothing and returns at
// once: it is answered 200 while the only copy is not yet durable. A
// crash (or a failed sync) then loses a notification both replicas were
// told was accepted.
func TestReviewDuplicateWaitsForTheOriginalsSync(t *testing.T) {
	dir := t.TempDir()
	if err := prepareFolder(dir); err != nil {
		t.Fatal(err)
	}
	d := &DB{dir: dir, mem: newMemIndex()}
	po := d.pebbleOptions(Options{})
	g := &gateFS{FS: vfs.Default}
	po.FS = g
	var err error
	if d.db, err = pebble.Open(filepath.Join(dir, DataDir), po); err != nil {
		t.Fatal(err)
	}
	if err := d.load(); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
		d.Close()
	}()
	g.mu.Lock()
	g.gate = release
	g.mu.Unlock()

	first := make(chan error, 1)
	go func() {
		_, err := d.Accept(acceptReq("same", "g", t0, "a"))
		first <- err
	}()
	// Wait until the first batch is applied (visible), its sync held.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := d.get(dedupKey("same")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first acceptance was never applied")
		}
		time.Sleep(time.Millisecond)
	}
	second := make(chan bool, 1)
	go func() {
		acc, err := d.Accept(acceptReq("same", "g", t0.Add(10*time.Millisecond), "a"))
		second <- err == nil && acc.Duplicate
	}()
	select {
	case dup := <-second:
		t.Fatalf("second copy answered (duplicate=%v) while the first is not durable", dup)
	case err := <-first:
		t.Fatalf("first acceptance returned before its sync: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if !<-second {
		t.Fatal("the second copy is not a duplicate")
	}
}
