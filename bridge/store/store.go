// Package store is the bridge's embedded, crash-safe database (bbolt, pure
// Go) under --storage.path. Writes from concurrent requests share one
// transaction and one fsync (bbolt's Batch), so durability does not cost a
// disk flush per request.
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the storage folder.
const FileName = "alertbridge.db"

var bucketAlerts = []byte("alerts")

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// DB is the open store.
type DB struct {
	db *bolt.DB
}

// Open opens (creating if needed) the store in dir. It fails fast, rather
// than waiting, if another process holds the file.
func Open(dir string) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: locked by another process", path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// Batches are opportunistic: concurrent writers join one commit.
	db.MaxBatchDelay = 2 * time.Millisecond
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
	return &DB{db: db}, nil
}

// Close closes the database; later writes fail with ErrClosed.
func (d *DB) Close() error { return d.db.Close() }

// batch runs fn in a shared write transaction and maps bbolt's closed
// error to ErrClosed.
func (d *DB) batch(fn func(tx *bolt.Tx) error) error {
	err := d.db.Batch(fn)
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}
