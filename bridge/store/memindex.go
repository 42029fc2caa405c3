package store

import (
	"encoding/binary"
	"hash/maphash"
	"sync"

	"github.com/bits-and-blooms/bloom/v3"
)

// memIndex holds in memory what acceptances and outcomes would otherwise
// look up on disk: the dedup keys within their window (as hashes), the
// newest pending job of each group and target (by a hash of its key, 16
// bytes a queued group), how many waiting jobs
// each stored notification has, and a bloom filter of the alerts the
// alert center holds, so an alert seen for the first time costs no disk
// read (only alerts seen before are read, for their counters). It is
// built from the store at Open and changed by writes together with the
// batch they commit. Its size follows the queue and the dedup window; the
// alert center costs about 1.2 bytes per alert (the filter).
type memIndex struct {
	mu      sync.RWMutex
	seed    maphash.Seed
	dedup   map[uint64]int64  // hash of the dedup key -> accepted at, unix ms
	pending map[uint64]uint64 // hash of the newest-job key -> id, while that job is pending
	refs    map[uint64]int    // notification id -> its pending and dead jobs
	// known may hold every alert id with an entry (no false negatives);
	// knownCap is what it was sized for, knownN what was added since.
	known            *bloom.BloomFilter
	knownCap, knownN uint
	knownRemoved     uint // ids removed from the alert center since
}

// knownFalsePositives is the filter's target false-positive rate: the
// share of first-seen alerts that still cost a disk read.
const knownFalsePositives = 0.01

func newMemIndex() *memIndex {
	m := &memIndex{seed: maphash.MakeSeed(), dedup: map[uint64]int64{},
		pending: map[uint64]uint64{}, refs: map[uint64]int{}}
	m.setKnown(nil)
	return m
}

// setKnown replaces the alert filter with one that holds ids, sized for
// twice as many (at least 64k).
func (m *memIndex) setKnown(ids []int64) {
	capacity := max(uint(2*len(ids)), 1<<16)
	f := bloom.NewWithEstimates(capacity, knownFalsePositives)
	var b [8]byte
	for _, id := range ids {
		binary.BigEndian.PutUint64(b[:], uint64(id))
		f.Add(b[:])
	}
	m.mu.Lock()
	m.known, m.knownCap, m.knownN, m.knownRemoved = f, capacity, uint(len(ids)), 0
	m.mu.Unlock()
}

// mayKnow reports whether the alert center may hold alert id; false means
// it certainly does not.
func (m *memIndex) mayKnow(id int64) bool {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.known.Test(b[:])
}

// addKnown records that the alert center holds alert id. (A write that
// is then not committed leaves it in: a false positive, which costs a disk
// read, never a wrong answer.)
func (m *memIndex) addKnown(id int64) {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(id))
	m.mu.Lock()
	if !m.known.TestAndAdd(b[:]) {
		m.knownN++
	}
	m.mu.Unlock()
}

// forgotten counts removed alert ids and reports whether more than half of
// what the filter holds is gone.
func (m *memIndex) forgotten(removed int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.knownRemoved += uint(max(removed, 0))
	return m.knownRemoved > 0 && 2*m.knownRemoved > m.knownN
}

// knownFull reports whether the filter holds more alerts than it was
// sized for, and should be rebuilt.
func (m *memIndex) knownFull() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.knownN > m.knownCap
}

func (m *memIndex) hash(key string) uint64 { return maphash.String(m.seed, key) }

// dedupAt returns when a key with the same hash was accepted. A hit may
// be another key with the same hash: the caller confirms it on disk.
func (m *memIndex) dedupAt(key string) (int64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	ms, ok := m.dedup[m.hash(key)]
	return ms, ok
}

// pendingID returns the newest pending job of a group and target (lk is
// its newest-job key). The index holds hashes, so the job may belong to
// another group whose key hashes the same: callers check the job they
// read (pendingOf does).
func (m *memIndex) pendingID(lk []byte) (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.pending[m.hashBytes(lk)]
	return id, ok
}

func (m *memIndex) hashBytes(b []byte) uint64 { return maphash.Bytes(m.seed, b) }

// The setters below are called by a write with the write lock held; each
// records how to undo itself in the write, which runs the undo list if
// its batch is not committed.

func (t *tx) setDedup(key string, ms int64) {
	setUndoable(t, t.d.mem.dedup, t.d.mem.hash(key), ms)
}

// dropDedup forgets the key if it was accepted at ms.
func (t *tx) dropDedup(key string, ms int64) {
	dropUndoable(t, t.d.mem.dedup, t.d.mem.hash(key), ms)
}

func (t *tx) setPending(lk []byte, id uint64) {
	setUndoable(t, t.d.mem.pending, t.d.mem.hashBytes(lk), id)
}

// dropPending forgets the group's pending job if it is id.
func (t *tx) dropPending(lk []byte, id uint64) {
	dropUndoable(t, t.d.mem.pending, t.d.mem.hashBytes(lk), id)
}

// setUndoable sets mp[k] = v and records in t how to undo it.
func setUndoable[K comparable, V any](t *tx, mp map[K]V, k K, v V) {
	m := t.d.mem
	m.mu.Lock()
	old, had := mp[k]
	mp[k] = v
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, mp, k, old, had) })
}

// dropUndoable deletes mp[k] if it is v and records in t how to undo it.
func dropUndoable[K, V comparable](t *tx, mp map[K]V, k K, v V) {
	m := t.d.mem
	m.mu.Lock()
	old, had := mp[k]
	if had && old == v {
		delete(mp, k)
	}
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, mp, k, old, had) })
}

func restore[K comparable, V any](m *memIndex, mp map[K]V, k K, old V, had bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if had {
		mp[k] = old
	} else {
		delete(mp, k)
	}
}
