package store

import (
	"hash/maphash"
	"sync"
)

// memIndex holds in memory what acceptances and outcomes would otherwise
// look up on disk: the dedup keys within their window (as hashes), the
// newest pending job of each group and target, and how many waiting jobs
// each stored notification has. It is built from the store at Open and
// changed by writes together with the batch they commit, so it always
// describes what the store holds. Its size follows the queue and the
// dedup window, not the alert center: alert counters are read from disk
// (a first-seen alert costs a bloom filter probe).
type memIndex struct {
	mu      sync.RWMutex
	seed    maphash.Seed
	dedup   map[uint64]int64  // hash of the dedup key -> accepted at, unix ms
	pending map[string]uint64 // newest-job key -> id, while that job is pending
	refs    map[uint64]int    // notification id -> its pending and dead jobs
}

func newMemIndex() *memIndex {
	return &memIndex{seed: maphash.MakeSeed(), dedup: map[uint64]int64{},
		pending: map[string]uint64{}, refs: map[uint64]int{}}
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

func (m *memIndex) pendingID(lk []byte) (uint64, bool) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	id, ok := m.pending[string(lk)]
	return id, ok
}

// The setters below are called by a write with the write lock held; each
// records how to undo itself in the write, which runs the undo list if
// its batch is not committed.

func (t *tx) setDedup(key string, ms int64) {
	m := t.d.mem
	h := m.hash(key)
	m.mu.Lock()
	old, had := m.dedup[h]
	m.dedup[h] = ms
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, m.dedup, h, old, had) })
}

func (t *tx) dropDedup(key string, ms int64) {
	m := t.d.mem
	h := m.hash(key)
	m.mu.Lock()
	old, had := m.dedup[h]
	if had && old == ms {
		delete(m.dedup, h)
	}
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, m.dedup, h, old, had) })
}

func (t *tx) setPending(lk []byte, id uint64) {
	m := t.d.mem
	k := string(lk)
	m.mu.Lock()
	old, had := m.pending[k]
	m.pending[k] = id
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, m.pending, k, old, had) })
}

// dropPending forgets the group's pending job if it is id.
func (t *tx) dropPending(lk []byte, id uint64) {
	m := t.d.mem
	k := string(lk)
	m.mu.Lock()
	old, had := m.pending[k]
	if had && old == id {
		delete(m.pending, k)
	}
	m.mu.Unlock()
	t.undo = append(t.undo, func() { restore(m, m.pending, k, old, had) })
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
