package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Writable reports whether the store takes writes now, for readiness: it
// appends a one-byte record to the write-ahead log (no key changes) and
// waits until it is on disk. ErrClosed after Close; the engine's error
// when the disk refuses (full, read-only, failing). A volatile store has
// no log: it reports its engine's background error, if any.
func (d *DB) Writable() (err error) {
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return ErrClosed
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("store write failed: %v", p)
		}
	}()
	if d.volatile {
		return d.backgroundError()
	}
	if err := d.db.LogData([]byte{0}, pebble.Sync); err != nil {
		return fmt.Errorf("store sync: %w", err)
	}
	return nil
}

// backgroundError is the error of the engine's last failed background
// work (a flush or compaction the disk refused), nil if none.
func (d *DB) backgroundError() error {
	if p := d.damaged.Load(); p != nil {
		return *p
	}
	return nil
}
