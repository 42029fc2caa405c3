// Package store is the bridge's embedded, crash-safe database (bbolt, pure
// Go) under --storage.path. Writes from concurrent callers share one
// transaction and one fsync (group commit, see commit), so durability does
// not cost a disk flush per request.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the storage folder.
const FileName = "alertbridge.db"

var bucketAlerts = []byte("alerts")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// maxCommitBatch bounds the writes that share one transaction.
const maxCommitBatch = 1024

// DB is the open store.
type DB struct {
	db *bolt.DB

	// Group commit: writes queue on reqs; one goroutine runs whatever is
	// queued in one transaction, so concurrent writers share its fsync.
	// It takes the next batch as soon as the previous one is on disk: no
	// timer, batches grow by themselves while a commit is slow.
	reqs      chan *writeReq
	closing   chan struct{}
	committed chan struct{} // closed when the committer has exited
	closeOnce sync.Once
}

// writeReq is one write waiting for the committer.
type writeReq struct {
	fn   func(tx *bolt.Tx) error
	done chan error
}

// Open opens (creating if needed) the store in dir. It fails fast, rather
// than waiting, if another process holds the file.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// The free-page list is not written at each commit (bbolt rebuilds it
	// when opening): a commit writes only the pages that changed, which
	// matters because every acceptance commits.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: locked by another process", path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketAlerts, bucketPayloads, bucketDedup, bucketLatest,
			stateBuckets[StatePending], stateBuckets[StateDelivered], stateBuckets[StateDead]} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, err
	}
	d := &DB{db: db, reqs: make(chan *writeReq), closing: make(chan struct{}), committed: make(chan struct{})}
	go d.commit()
	return d, nil
}

// Close closes the database; later writes fail with ErrClosed. Writes
// already taken by the committer finish first.
func (d *DB) Close() error {
	d.closeOnce.Do(func() { close(d.closing) })
	<-d.committed
	return d.db.Close()
}

// batch runs fn in a write transaction shared with concurrent callers and
// returns once that transaction is on disk. fn may run more than once (when
// another write of its batch fails, the others run again without it), so
// it must have no effects outside the transaction but its result.
func (d *DB) batch(fn func(tx *bolt.Tx) error) error {
	r := &writeReq{fn: fn, done: make(chan error, 1)}
	select {
	case d.reqs <- r:
	case <-d.closing:
		return ErrClosed
	}
	return <-r.done
}

// commit is the committer goroutine.
func (d *DB) commit() {
	defer close(d.committed)
	batch := make([]*writeReq, 0, maxCommitBatch)
	for {
		select {
		case r := <-d.reqs:
			batch = append(batch[:0], r)
		case <-d.closing:
			return
		}
	drain:
		for len(batch) < maxCommitBatch {
			select {
			case r := <-d.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		d.run(batch)
	}
}

// failedWrite marks which write of a batch failed.
type failedWrite struct {
	i   int
	err error
}

func (e *failedWrite) Error() string { return e.err.Error() }

// run commits a batch in one transaction. A write whose function fails
// gets its error and is left out; the others run again in a new
// transaction. A failed commit fails every write of the batch.
func (d *DB) run(batch []*writeReq) {
	for len(batch) > 0 {
		err := d.db.Update(func(tx *bolt.Tx) error {
			for i, r := range batch {
				if err := safely(r.fn, tx); err != nil {
					return &failedWrite{i: i, err: err}
				}
			}
			return nil
		})
		var fw *failedWrite
		if errors.As(err, &fw) {
			batch[fw.i].done <- fw.err
			batch = append(batch[:fw.i], batch[fw.i+1:]...)
			continue
		}
		if errors.Is(err, bolt.ErrDatabaseNotOpen) {
			err = ErrClosed
		}
		for _, r := range batch {
			r.done <- err
		}
		return
	}
}

// safely runs fn, turning a panic into an error so one bad write cannot
// take the committer down.
func safely(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in store write: %v", p)
		}
	}()
	return fn(tx)
}
