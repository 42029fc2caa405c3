package store

import (
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// seenValue layout: times (8 bytes) | first seen unix ms (8) | last seen unix ms (8).
const seenSize = 24

// touch counts one more notification for each alert id inside an
// acceptance transaction and returns the updated counters.
func touch(tx *bolt.Tx, ids []int64, now time.Time) ([]alert.Seen, error) {
	out := make([]alert.Seen, len(ids))
	b := tx.Bucket(bucketAlerts)
	var key [8]byte
	for i, id := range ids {
		binary.BigEndian.PutUint64(key[:], uint64(id))
		var val [seenSize]byte
		times, first := int64(0), now.UnixMilli()
		if old := b.Get(key[:]); len(old) == seenSize {
			times = int64(binary.BigEndian.Uint64(old[0:8]))
			first = int64(binary.BigEndian.Uint64(old[8:16]))
		}
		times++
		binary.BigEndian.PutUint64(val[0:8], uint64(times))
		binary.BigEndian.PutUint64(val[8:16], uint64(first))
		binary.BigEndian.PutUint64(val[16:24], uint64(now.UnixMilli()))
		if err := b.Put(key[:], val[:]); err != nil {
			return nil, fmt.Errorf("recording alert: %w", err)
		}
		out[i] = alert.Seen{Times: times, FirstSeen: time.UnixMilli(first)}
	}
	return out, nil
}

// PruneAlerts forgets alerts not seen since before cutoff, keeping the
// counters bounded. It returns how many were removed.
func (d *DB) PruneAlerts(cutoff time.Time) (int, error) {
	removed := 0
	err := d.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAlerts)
		var stale [][]byte
		err := b.ForEach(func(k, v []byte) error {
			if len(v) == seenSize && int64(binary.BigEndian.Uint64(v[16:24])) < cutoff.UnixMilli() {
				stale = append(stale, append([]byte(nil), k...))
			}
			return nil
		})
		if err != nil {
			return err
		}
		// Deleting while a cursor walks skips entries in bbolt; delete after.
		for _, k := range stale {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		removed = len(stale)
		return nil
	})
	return removed, err
}
