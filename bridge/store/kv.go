package store

import (
	"errors"
	"maps"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// The store's hot writes (acceptances, outcomes, reschedules) do not
// write bbolt themselves. They run against layers of in-memory tables
// (memtables) over a bbolt read transaction, their changes are appended
// to the write-ahead log (wal.go) and made durable with one fsync per
// group commit, and a background flusher applies whole memtables to
// bbolt later, in one transaction each. A job accepted and delivered
// within one memtable's life never reaches the B-tree at all: its pending
// entry and payload are written and deleted in memory, and only the
// delivered history entry is applied.
//
// Layers, newest first: the changes of the write being run (staged), the
// changes of the other writes of its group commit (the batch), the active
// memtable (durable in the log), the frozen memtables waiting for the
// flusher (durable in their own log segments), and bbolt.

// kvBucket is what the hot write paths use of a bucket. *bolt.Bucket
// implements it, so the same code runs on bbolt in the cold paths.
type kvBucket interface {
	Get(key []byte) []byte
	// Put stores value, which the caller must not modify afterwards.
	Put(key, value []byte) error
	Delete(key []byte) error
	NextSequence() (uint64, error)
}

// kvTx gives the buckets of one write or read.
type kvTx interface {
	Bucket(name []byte) kvBucket
}

// boltTx runs the hot code on a bbolt transaction.
type boltTx struct{ tx *bolt.Tx }

func (t boltTx) Bucket(name []byte) kvBucket { return t.tx.Bucket(name) }

// bucketNames lists every bucket; memtables index buckets by position.
var bucketNames = [][]byte{bucketAlerts, bucketAlertIndex, bucketPayloads, bucketDedup, bucketLatest,
	stateBuckets[StatePending], stateBuckets[StateDelivered], stateBuckets[StateDead]}

const numBuckets = 8

// appendOnly marks the buckets whose new keys sort last: those keyed by
// job id, and the alert log, keyed by update time.
var appendOnly = func() (a [numBuckets]bool) {
	for _, name := range [][]byte{bucketAlerts, bucketPayloads,
		stateBuckets[StatePending], stateBuckets[StateDelivered], stateBuckets[StateDead]} {
		a[bucketIndex(name)] = true
	}
	return a
}()

func bucketIndex(name []byte) int {
	for i, n := range bucketNames {
		if string(n) == string(name) {
			return i
		}
	}
	panic("store: unknown bucket " + string(name))
}

var errReadOnly = errors.New("store: write in a read-only view")

// memEntry is a key's value in a memtable, or its deletion.
type memEntry struct {
	val []byte
	// del: the key is deleted and bbolt or a frozen memtable may hold it,
	// so the deletion must reach bbolt.
	del bool
	// drop: the key is deleted and only the layers from the active
	// memtable up held it; merging into the active memtable removes the
	// key instead of keeping a tombstone. Never in the active memtable.
	drop bool
}

func (e memEntry) deleted() bool { return e.del || e.drop }

// memtable holds changes not yet in bbolt. Once frozen it is never
// modified again, so readers use it without locks.
type memtable struct {
	kv   [numBuckets]map[string]memEntry
	seq  [numBuckets]uint64 // bucket sequences set here; 0: not set
	size int                // approximate bytes held
	gen  uint64             // the log segment that holds it
}

func newMemtable(gen uint64) *memtable { return &memtable{gen: gen} }

func (m *memtable) empty() bool {
	for b := range m.kv {
		if len(m.kv[b]) > 0 || m.seq[b] != 0 {
			return false
		}
	}
	return true
}

func (m *memtable) entry(b int, key []byte) (memEntry, bool) {
	e, ok := m.kv[b][string(key)]
	return e, ok
}

func (m *memtable) set(b int, key string, e memEntry) {
	if m.kv[b] == nil {
		m.kv[b] = map[string]memEntry{}
	}
	if old, ok := m.kv[b][key]; ok {
		m.size -= len(key) + len(old.val)
	}
	m.kv[b][key] = e
	m.size += len(key) + len(e.val)
}

func (m *memtable) drop(b int, key string) {
	if old, ok := m.kv[b][key]; ok {
		m.size -= len(key) + len(old.val)
		delete(m.kv[b], key)
	}
}

// absorb merges a group's changes (up) into m, the active memtable,
// where a dropped key is removed.
func (m *memtable) absorb(up *memtable) {
	for b := range up.kv {
		for k, u := range up.kv[b] {
			if u.drop {
				m.drop(b, k)
				continue
			}
			m.set(b, k, u)
		}
		if up.seq[b] != 0 {
			m.seq[b] = up.seq[b]
		}
	}
}

// view reads through memtables (newest first) and then bbolt.
type view struct {
	mems []*memtable
	tx   *bolt.Tx
}

func (v *view) get(b int, key []byte) []byte {
	for _, m := range v.mems {
		if e, ok := m.entry(b, key); ok {
			return e.val // nil when deleted
		}
	}
	return v.tx.Bucket(bucketNames[b]).Get(key)
}

// inFlushed reports whether a frozen memtable or bbolt holds a value for
// key: whether deleting it needs a tombstone. base is the number of
// layers from the view's top through the active memtable.
func (v *view) inFlushed(b int, key []byte, base int) bool {
	for _, m := range v.mems[base:] {
		if e, ok := m.entry(b, key); ok {
			return !e.deleted()
		}
	}
	return v.tx.Bucket(bucketNames[b]).Get(key) != nil
}

func (v *view) sequence(b int) uint64 {
	for _, m := range v.mems {
		if m.seq[b] != 0 {
			return m.seq[b]
		}
	}
	return v.tx.Bucket(bucketNames[b]).Sequence()
}

// Bucket makes a view a read-only kvTx.
func (v *view) Bucket(name []byte) kvBucket { return viewBucket{v, bucketIndex(name)} }

type viewBucket struct {
	v *view
	b int
}

func (r viewBucket) Get(key []byte) []byte         { return r.v.get(r.b, key) }
func (r viewBucket) Put(_, _ []byte) error         { return errReadOnly }
func (r viewBucket) Delete(_ []byte) error         { return errReadOnly }
func (r viewBucket) NextSequence() (uint64, error) { return 0, errReadOnly }

// stagedTx runs one write of a group directly on the group's changes,
// keeping what it overwrote so that a write that fails can be undone.
type stagedTx struct {
	changes *memtable
	below   *view // the layers under changes
	// flushedFrom is the position in below.mems of the newest frozen
	// memtable (after the active memtable).
	flushedFrom int
	undo        []undoEntry
	seqs        [numBuckets]uint64 // sequences before the write
}

type undoEntry struct {
	b       int
	key     string
	prev    memEntry
	existed bool
}

// begin starts a new write.
func (t *stagedTx) begin() {
	t.undo = t.undo[:0]
	t.seqs = t.changes.seq
}

// rollback undoes the changes of the current write.
func (t *stagedTx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		if u.existed {
			t.changes.set(u.b, u.key, u.prev)
		} else {
			t.changes.drop(u.b, u.key)
		}
	}
	t.changes.seq = t.seqs
	t.undo = t.undo[:0]
}

func (t *stagedTx) set(b int, key []byte, e memEntry) {
	k := string(key)
	prev, existed := t.changes.kv[b][k]
	t.undo = append(t.undo, undoEntry{b: b, key: k, prev: prev, existed: existed})
	t.changes.set(b, k, e)
}

func (t *stagedTx) Bucket(name []byte) kvBucket { return stagedBucket{t, bucketIndex(name)} }

type stagedBucket struct {
	t *stagedTx
	b int
}

func (s stagedBucket) Get(key []byte) []byte {
	if e, ok := s.t.changes.entry(s.b, key); ok {
		return e.val
	}
	return s.t.below.get(s.b, key)
}

// Put checks what bbolt would, so that a write bbolt cannot take fails
// now, alone, rather than when its memtable is applied.
func (s stagedBucket) Put(key, value []byte) error {
	switch {
	case len(key) == 0:
		return bolt.ErrKeyRequired
	case len(key) > bolt.MaxKeySize:
		return bolt.ErrKeyTooLarge
	case int64(len(value)) > bolt.MaxValueSize:
		return bolt.ErrValueTooLarge
	}
	if value == nil {
		value = []byte{}
	}
	s.t.set(s.b, key, memEntry{val: value})
	return nil
}

// Delete leaves a tombstone only when the key may be in bbolt or a frozen
// memtable. A key written since the active memtable began (a job accepted
// and delivered meanwhile, its payload) is dropped: it never reaches bbolt.
func (s stagedBucket) Delete(key []byte) error {
	if len(key) == 0 || len(key) > bolt.MaxKeySize {
		return nil // bbolt cannot hold such a key: nothing to delete
	}
	if s.t.below.inFlushed(s.b, key, s.t.flushedFrom) {
		s.t.set(s.b, key, memEntry{del: true})
	} else {
		s.t.set(s.b, key, memEntry{drop: true})
	}
	return nil
}

func (s stagedBucket) NextSequence() (uint64, error) {
	n := s.t.changes.seq[s.b]
	if n == 0 {
		n = s.t.below.sequence(s.b)
	}
	n++
	s.t.changes.seq[s.b] = n
	return n, nil
}

// apply writes a memtable's changes into a bbolt write transaction.
func (m *memtable) apply(tx *bolt.Tx) error {
	for b := range m.kv {
		bk := tx.Bucket(bucketNames[b])
		if appendOnly[b] {
			// Pages of a bucket written at its end are split full, not
			// half full (bbolt's default, for random inserts).
			bk.FillPercent = 0.9
		}
		// In key order: bbolt inserts sorted keys into the pages it just
		// loaded instead of seeking anew for each.
		keys := slices.Sorted(maps.Keys(m.kv[b]))
		for _, k := range keys {
			e := m.kv[b][k]
			var err error
			if e.del {
				err = bk.Delete([]byte(k))
			} else {
				err = bk.Put([]byte(k), e.val)
			}
			if err != nil {
				return err
			}
		}
		if n := m.seq[b]; n > bk.Sequence() {
			if err := bk.SetSequence(n); err != nil {
				return err
			}
		}
	}
	return nil
}
