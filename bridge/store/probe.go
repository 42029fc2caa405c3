package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Writable reports whether the store takes writes now, for readiness: it
// appends a one-byte record to the write-ahead log (no key changes) and
// waits until it is on disk. ErrClosed after Close; the engine's error
// when the disk refuses (full, read-only, failing).
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
	if err := d.db.LogData([]byte{0}, pebble.Sync); err != nil {
		return fmt.Errorf("store sync: %w", err)
	}
	return nil
}
