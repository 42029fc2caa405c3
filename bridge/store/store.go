// Package store is the bridge's embedded, crash-safe database under
// --storage.path: a write-ahead log (wal.go) in front of bbolt (pure Go).
// Writes from concurrent callers share one log record and one fdatasync
// (group commit, see commit), so durability does not cost a disk flush per
// request; their changes reach bbolt later, in the background, a whole
// in-memory table at a time (kv.go).
package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// FileName is the database file inside the storage folder.
const FileName = "alertbridge.db"

var (
	bucketAlerts       = []byte("alertlog")   // updated ms, record id -> alert (alerts.go)
	bucketAlertIndex   = []byte("alertindex") // record id -> updated ms
	bucketLegacyAlerts = []byte("alerts")     // record id -> alert, before the log layout
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("store is closed")

// maxCommitBatch bounds the writes that share one log record.
const maxCommitBatch = 1024

// Memtable bounds: the active memtable is frozen (handed to the flusher,
// and a new log segment started) when it holds memtableMaxBytes or its
// oldest change is memtableMaxAge old. At most maxFrozen frozen memtables
// wait for the flusher; past that, writes wait for it, and fail after
// backlogTimeout so the caller can answer 503 rather than the bridge
// growing without bound.
const (
	releaseInterval  = 250 * time.Millisecond
	memtableMaxBytes = 2 << 20
	memtableMaxAge   = time.Second
	maxFrozen        = 4
	backlogTimeout   = 10 * time.Second
)

// ErrBacklog is returned when the store cannot get its changes into the
// database file fast enough (a full or failing disk): retry later.
var ErrBacklog = errors.New("store is behind writing to disk")

// DB is the open store.
type DB struct {
	db     *bolt.DB
	walDir string

	// Group commit: writes queue on reqs; the committer runs whatever is
	// queued as one log record and one fdatasync, so concurrent writers
	// share it. It takes the next batch as soon as the previous one is
	// on disk: no timer, batches grow by themselves while a sync is slow.
	reqs      chan *writeReq
	closing   chan struct{}
	committed chan struct{} // closed when the committer has exited
	closeOnce sync.Once
	closeErr  error

	// logBytes counts the bytes appended to the log.
	logBytes atomic.Int64

	// Owned by the committer.
	log  *wal
	born time.Time // first change of the active memtable

	// mu guards the frozen list, flushErr and applied, and the contents
	// of active: the committer merges into active under the write lock,
	// readers look into it under the read lock.
	mu     sync.RWMutex
	active *memtable
	frozen []*memtable // oldest first
	// synced are groups on disk but not yet merged into active, oldest
	// first: the syncer appends, the committer merges.
	synced   []*memtable
	applied  chan struct{} // closed and replaced each time one is applied
	flushErr error         // the flusher's last failure, nil once it succeeds

	wake        chan struct{} // wakes the flusher
	stopFlusher chan struct{}
	flusherDone chan struct{}
}

// writeReq is one write waiting for the committer: a hot write (fn), a
// cold one on bbolt itself (cold), or a freeze (neither; the reply
// carries the generation to wait for).
type writeReq struct {
	fn   func(tx kvTx) error
	cold func(tx *bolt.Tx) error
	done chan error
	gen  uint64 // freeze: the newest generation the caller waits for
}

// Open opens (creating if needed) the store in dir. It fails fast, rather
// than waiting, if another process holds the file. Changes a previous run
// logged but had not yet written into the database file are applied
// first.
func Open(dir string) (*DB, error) {
	return openDB(dir, false)
}

func openDB(dir string, noSync bool) (*DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("storage path: %w", err)
	}
	path := filepath.Join(dir, FileName)
	// The free-page list is not written at each commit (bbolt rebuilds it
	// when opening): a commit writes only the pages that changed.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second,
		NoFreelistSync: true, FreelistType: bolt.FreelistMapType})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("opening %s: locked by another process", path)
		}
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	db.NoSync = noSync
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range bucketNames {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return migrateAlerts(tx)
	})
	walDir := filepath.Join(dir, walDir)
	var gen uint64
	if err == nil {
		gen, err = recoverLog(db, walDir)
	}
	var log *wal
	if err == nil {
		log, err = openSegment(walDir, gen, noSync)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening %s: %w", dir, err)
	}
	d := &DB{db: db, walDir: walDir, log: log, active: newMemtable(gen),
		reqs: make(chan *writeReq), closing: make(chan struct{}), committed: make(chan struct{}),
		applied: make(chan struct{}), wake: make(chan struct{}, 1),
		stopFlusher: make(chan struct{}), flusherDone: make(chan struct{})}
	go d.commit()
	go d.flush()
	return d, nil
}

// Close closes the database; later writes fail with ErrClosed. Writes
// already taken by the committer finish first, and every logged change is
// written into the database file (if that fails, the log keeps it for
// the next Open).
func (d *DB) Close() error {
	d.closeOnce.Do(func() {
		close(d.closing)
		<-d.committed
		_ = d.freeze() // on failure the log keeps the active memtable
		gen := d.active.gen - 1
		werr := d.waitApplied(gen)
		close(d.stopFlusher)
		<-d.flusherDone
		lerr := d.log.close()
		if !d.active.empty() || werr != nil {
			lerr = errors.Join(werr, lerr)
		} else {
			// Nothing is left in memory: the open segment is empty.
			_ = removeSegment(d.walDir, d.log.gen)
		}
		d.closeErr = errors.Join(lerr, d.db.Close())
	})
	return d.closeErr
}

// batch runs fn as one write of a group commit and returns once its
// changes are durable. fn runs once, against its own view of the store;
// when it fails, none of its changes are kept.
func (d *DB) batch(fn func(tx kvTx) error) error {
	return d.send(&writeReq{fn: fn, done: make(chan error, 1)})
}

// update runs fn on bbolt itself, after every logged change is in the
// file, with no other write running. For the rare writes that scan
// (pruning, the API's requeue and delete).
func (d *DB) update(fn func(tx *bolt.Tx) error) error {
	return d.send(&writeReq{cold: fn, done: make(chan error, 1)})
}

// view runs fn on a bbolt read transaction that sees every change
// committed before the call. For reads that scan or list.
func (d *DB) view(fn func(tx *bolt.Tx) error) error {
	r := &writeReq{done: make(chan error, 1)}
	if err := d.send(r); err != nil {
		return err
	}
	if err := d.waitApplied(r.gen); err != nil {
		return err
	}
	return d.db.View(fn)
}

// read runs fn on a read-only view of the committed state: memtables,
// then bbolt. For point reads on the hot path.
func (d *DB) read(fn func(tx kvTx) error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	v := &view{}
	v.mems, _ = d.layers(nil)
	err := d.db.View(func(tx *bolt.Tx) error {
		v.tx = tx
		return fn(v)
	})
	return closedErr(err)
}

// layers lists the memtables newest first: top (the group in flight, if
// any), the synced groups, the active memtable, the frozen ones. flushed
// is the position of the newest frozen one. d.mu must be held.
func (d *DB) layers(top *memtable) (mems []*memtable, flushed int) {
	mems = make([]*memtable, 0, 2+len(d.synced)+len(d.frozen))
	if top != nil {
		mems = append(mems, top)
	}
	for i := len(d.synced) - 1; i >= 0; i-- {
		if d.synced[i] != top { // a group just synced is in both
			mems = append(mems, d.synced[i])
		}
	}
	mems = append(mems, d.active)
	flushed = len(mems)
	for i := len(d.frozen) - 1; i >= 0; i-- {
		mems = append(mems, d.frozen[i])
	}
	return mems, flushed
}

// closedErr reports bbolt's "not open" as ErrClosed.
func closedErr(err error) error {
	if errors.Is(err, bolt.ErrDatabaseNotOpen) {
		return ErrClosed
	}
	return err
}

func (d *DB) send(r *writeReq) error {
	select {
	case d.reqs <- r:
	case <-d.closing:
		return ErrClosed
	}
	return <-r.done
}

// commit is the committer goroutine. It pipelines group commits: while
// the log record of one group is being written and synced (by the syncer
// goroutine), it runs the next group on top of the first one's changes.
// A group is acknowledged, and its changes become visible to readers,
// only once its record is on disk.
func (d *DB) commit() {
	defer close(d.committed)
	syncs := make(chan *pending)
	synced := make(chan *pending)
	go d.syncLoop(syncs, synced)
	defer close(syncs)
	tick := time.NewTicker(memtableMaxAge / 2)
	defer tick.Stop()
	var inflight *pending
	// settle waits for the group in flight, if any: the syncer has
	// acknowledged it (or failed it) when it hands it back.
	settle := func() {
		if inflight != nil {
			<-synced
			inflight = nil
		}
	}
	defer settle()
	batch := make([]*writeReq, 0, maxCommitBatch)
	for {
		select {
		case r := <-d.reqs:
			batch = append(batch[:0], r)
		case <-synced:
			inflight = nil
			d.maybeFreeze()
			continue
		case <-tick.C:
			if inflight == nil {
				d.maybeFreeze()
			}
			continue
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
		// Hot writes run as one group; a cold write or a freeze runs
		// after the hot writes queued before it, with none in flight.
		for len(batch) > 0 {
			n := 0
			for n < len(batch) && batch[n].fn != nil {
				n++
			}
			if n == 0 {
				settle()
				d.absorbSynced()
				d.special(batch[0])
				batch = batch[1:]
				continue
			}
			if d.due() {
				// Under steady load a group is always in flight when
				// the next arrives: freeze between them, not only when
				// the committer is idle.
				settle()
				d.maybeFreeze()
			}
			d.absorbSynced()
			p := d.stage(batch[:n], inflight)
			batch = batch[n:]
			settle()
			if p == nil {
				continue
			}
			if p.after != nil && p.after.err != nil {
				// Built on a group whose record failed: fails with it.
				answer(p, p.after.err)
				continue
			}
			p.after = nil
			if p.changes.empty() {
				// Nothing to log (duplicates): what it read is on disk.
				answer(p, nil)
				continue
			}
			inflight = p
			syncs <- p
		}
		if inflight == nil {
			d.maybeFreeze()
		}
	}
}

// pending is a group of hot writes on its way to disk.
type pending struct {
	changes *memtable
	reqs    []*writeReq // the writes that succeeded
	after   *pending    // the group in flight it was built on
	err     error       // the log write failed
}

// syncLoop writes and syncs the records of the groups it is handed, in
// order. Once a record is on disk it makes the group's changes visible
// to readers (the synced list, which the committer later merges into the
// active memtable) and acknowledges its writes, then hands it back.
func (d *DB) syncLoop(in <-chan *pending, out chan<- *pending) {
	for p := range in {
		n, err := d.log.append(p.changes)
		d.logBytes.Add(int64(n))
		p.err = err
		if err == nil {
			d.mu.Lock()
			d.synced = append(d.synced, p.changes)
			d.mu.Unlock()
		}
		for _, r := range p.reqs {
			r.done <- err
		}
		out <- p
	}
}

// stage runs a group of hot writes on top of the group in flight (nil if
// none): each write runs against the state left by the ones before it; a
// write that fails gets its error and leaves no change. It returns nil
// when no write is left to log.
func (d *DB) stage(group []*writeReq, inflight *pending) *pending {
	if err := d.waitRoom(); err != nil {
		for _, r := range group {
			r.done <- err
		}
		return nil
	}
	p := &pending{changes: newMemtable(0), after: inflight}
	var top *memtable
	if inflight != nil {
		top = inflight.changes
	}
	below := &view{}
	d.mu.RLock()
	var flushedFrom int
	below.mems, flushedFrom = d.layers(top)
	d.mu.RUnlock()
	err := d.db.View(func(tx *bolt.Tx) error {
		below.tx = tx
		st := &stagedTx{changes: p.changes, below: below, flushedFrom: flushedFrom}
		for _, r := range group {
			st.begin()
			if err := safely(r.fn, kvTx(st)); err != nil {
				st.rollback()
				r.done <- err
				continue
			}
			p.reqs = append(p.reqs, r)
		}
		return nil
	})
	if err != nil {
		answer(p, closedErr(err))
		return nil
	}
	if len(p.reqs) == 0 {
		return nil
	}
	return p
}

// answer answers the writes of a group that is not logged: with err, or
// with success when it changed nothing.
func answer(p *pending, err error) {
	for _, r := range p.reqs {
		r.done <- err
	}
}

// absorbSynced merges the synced groups into the active memtable.
// Committer only, with no group in flight or one that is not yet synced.
func (d *DB) absorbSynced() {
	d.mu.RLock()
	n := len(d.synced)
	d.mu.RUnlock()
	if n == 0 {
		return
	}
	d.mu.Lock()
	for _, m := range d.synced {
		if d.active.empty() {
			d.born = time.Now()
		}
		d.active.absorb(m)
	}
	clear(d.synced)
	d.synced = d.synced[:0]
	d.mu.Unlock()
}

// special runs a cold write or a freeze request.
func (d *DB) special(r *writeReq) {
	if err := d.freeze(); err != nil {
		// What the active memtable holds would be missed.
		r.done <- err
		return
	}
	r.gen = d.active.gen - 1
	if r.cold == nil {
		r.done <- nil
		return
	}
	err := d.waitApplied(r.gen)
	if err == nil {
		err = d.db.Update(func(tx *bolt.Tx) error { return safely(r.cold, tx) })
	}
	r.done <- closedErr(err)
}

// maybeFreeze freezes the active memtable when it is big or old enough,
// or when its log segment can no longer be appended to. No group may be
// in flight.
func (d *DB) maybeFreeze() {
	d.absorbSynced()
	if d.due() {
		_ = d.freeze() // on failure, retried at the next check
	}
}

// due reports whether the active memtable should be frozen.
func (d *DB) due() bool {
	return !d.active.empty() && (d.active.size >= memtableMaxBytes || time.Since(d.born) >= memtableMaxAge || d.log.broken != nil)
}

// freeze hands the active memtable to the flusher and starts a new one
// with its own log segment. Committer only (and Close, after it), with no
// group in flight. On failure the active memtable stays as it is.
func (d *DB) freeze() error {
	d.absorbSynced()
	if d.active.empty() {
		return nil
	}
	next, err := openSegment(d.walDir, d.active.gen+1, d.log.noSync)
	if err != nil {
		return fmt.Errorf("starting a log segment: %w", err)
	}
	_ = d.log.close()
	d.log = next
	d.mu.Lock()
	d.frozen = append(d.frozen, d.active)
	d.active = newMemtable(next.gen)
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
	return nil
}

// waitRoom waits while maxFrozen memtables wait for the flusher.
func (d *DB) waitRoom() error {
	return d.waitFlusher(func() bool { return len(d.frozen) < maxFrozen })
}

// waitApplied waits until every memtable up to generation gen is in
// bbolt.
func (d *DB) waitApplied(gen uint64) error {
	return d.waitFlusher(func() bool { return len(d.frozen) == 0 || d.frozen[0].gen > gen })
}

// waitFlusher waits, at most backlogTimeout, until done (called with d.mu
// read-locked) holds, checking again each time the flusher applies a
// memtable. The error names the flusher's last failure.
func (d *DB) waitFlusher(done func() bool) error {
	deadline := time.Now().Add(backlogTimeout)
	for {
		d.mu.RLock()
		ok, ch, ferr := done(), d.applied, d.flushErr
		d.mu.RUnlock()
		if ok {
			return nil
		}
		wait := time.Until(deadline)
		if wait <= 0 {
			return fmt.Errorf("%w: %v", ErrBacklog, ferr)
		}
		select {
		case <-ch:
		case <-time.After(wait):
		}
	}
}

// flush is the flusher goroutine: it applies frozen memtables to bbolt,
// oldest first, one transaction each, then drops them and their log
// segments. A failed apply is retried; the memtable stays readable and
// its segment stays on disk meanwhile.
func (d *DB) flush() {
	defer close(d.flusherDone)
	// Every releaseInterval the pages of the database file mapped into
	// the process are released (see releaseMapped).
	release := time.NewTicker(releaseInterval)
	defer release.Stop()
	released := time.Now()
	retry := time.Duration(0)
	for {
		var timer <-chan time.Time
		if retry > 0 {
			timer = time.After(retry)
		}
		select {
		case <-d.wake:
		case <-timer:
		case <-release.C:
			releaseMapped(d.db)
			released = time.Now()
			continue
		case <-d.stopFlusher:
			return
		}
		retry = 0
		for {
			d.mu.RLock()
			var m *memtable
			if len(d.frozen) > 0 {
				m = d.frozen[0]
			}
			d.mu.RUnlock()
			if m == nil {
				break
			}
			err := d.db.Update(m.apply)
			if err == nil {
				err = removeSegment(d.walDir, m.gen)
			}
			if err == nil {
				// A deletion lost in a crash would replay the segment
				// over later writes made directly on bbolt.
				err = syncDir(d.walDir)
			}
			if err == nil && time.Since(released) >= releaseInterval {
				// A backlog keeps the flusher busy: release here too.
				releaseMapped(d.db)
				released = time.Now()
			}
			d.mu.Lock()
			d.flushErr = err
			if err == nil {
				d.frozen = d.frozen[1:]
				close(d.applied)
				d.applied = make(chan struct{})
			}
			d.mu.Unlock()
			if err != nil {
				retry = 100 * time.Millisecond
				break
			}
		}
	}
}

// safely runs fn, turning a panic into an error so one bad write cannot
// take the committer down.
func safely[T any](fn func(T) error, tx T) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in store write: %v", p)
		}
	}()
	return fn(tx)
}
