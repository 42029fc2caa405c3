// Package store keeps the bridge's delivery jobs, their payloads, the
// dedup keys, the per-alert counters and the alert center on local disk
// under --storage.path, in a Pebble database (keys.go describes the key
// space). A write returns once it is durable (the write-ahead log is
// synced); concurrent writers share Pebble's group commit. The store never
// calls back into its callers: they hand it what to write and it answers
// with what it wrote.
package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
)

// Folder layout under the storage path.
const (
	// MarkerName is the file that says the folder holds a store, in
	// which format. It is written when the store is created, before any
	// data, and never rewritten.
	MarkerName = "STORE"
	// DataDir is the Pebble database inside the storage path.
	DataDir = "pebble"
	// FormatVersion is the store format this build reads and writes. A
	// later format change bumps it; a store of another version is
	// refused with what to do.
	FormatVersion = 2
)

// markerText is the content of the marker file of this format.
var markerText = fmt.Sprintf("alertbridge store\nformat: %d\nengine: pebble\n", FormatVersion)

// Errors.
var (
	// ErrClosed is returned by every call after Close.
	ErrClosed = errors.New("store is closed")
	// ErrCorrupt marks a store that cannot be trusted: a checksum failure,
	// a missing or truncated file, or data that does not decode. Open
	// refuses such a store; `alertbridge store check` tells what is wrong
	// and `alertbridge store salvage` copies what is readable.
	ErrCorrupt = errors.New("store is damaged")
	// ErrOldFormat marks a folder written by an earlier build.
	ErrOldFormat = errors.New("store is in an older format")
	// ErrLocked marks a store another process has open.
	ErrLocked = errors.New("store is in use")
	// ErrTooLarge marks a write larger than the engine takes in one
	// piece (the replicated engine: the NATS servers' max_payload).
	// Trying again does not help.
	ErrTooLarge = errors.New("write is larger than the storage engine takes")
)

// Options tune the engine. The zero value is the bridge's default.
type Options struct {
	// CacheBytes is the block cache (default 8 MiB).
	CacheBytes int64
	// MemTableBytes is the size of one memtable (default 4 MiB); at most
	// two are kept in memory before writes wait for a flush.
	MemTableBytes uint64
	// ReadOnly opens without writing anything (store check).
	ReadOnly bool
	// VolatileDir, for OpenVolatile and RestoreVolatile, is the folder
	// the volatile store keeps its files in (emptied at open); "" keeps
	// them in memory.
	VolatileDir string
	// Logf receives the engine's routine log lines and Errorf its errors
	// (nil: dropped).
	Logf, Errorf func(format string, args ...any)
}

// DB is the open store. Its methods are safe for concurrent use.
type DB struct {
	dir string
	db  *pebble.DB
	// volatile: held in memory, writes not synced (see OpenVolatile).
	volatile bool

	// wmu serializes the read-modify-write part of every write (see
	// write), so a write reads what the previous one wrote; the disk sync
	// happens outside it and is shared between writers.
	wmu sync.Mutex
	seq uint64 // last job id handed out; guarded by wmu

	// life guards db against Close: calls hold the read lock, Close takes
	// the write lock, so Pebble is never used after it is closed (it
	// panics then).
	life    sync.RWMutex
	closed  bool
	closing atomic.Bool

	// damaged is set when a read hit corruption after Open; Check
	// reports it and the bridge's readiness can.
	damaged atomic.Pointer[error]

	mem *memIndex
}

// Open opens the store in dir, creating it when dir is missing or empty.
// It refuses, with an error naming the folder and the problem, a folder
// in an older format (ErrOldFormat), a folder whose marker says it held a
// store but whose data is gone, and a damaged store (ErrCorrupt): the
// bridge must not run on a partial queue. It fails fast if another
// process holds the store.
func Open(dir string, opts Options) (_ *DB, err error) {
	if opts.ReadOnly {
		if err := inspectFolder(dir, false); err != nil {
			return nil, err
		}
	} else if err := prepareFolder(dir); err != nil {
		return nil, err
	}
	d := &DB{dir: dir, mem: newMemIndex()}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: opening %s: the engine failed: %v", ErrCorrupt, dir, p)
		}
	}()
	d.db, err = pebble.Open(filepath.Join(dir, DataDir), d.pebbleOptions(opts))
	if err != nil {
		return nil, describeOpenError(dir, err)
	}
	if err := d.load(); err != nil {
		_ = closeEngine(d.db)
		return nil, err
	}
	return d, nil
}

func (d *DB) pebbleOptions(o Options) *pebble.Options {
	cache := o.CacheBytes
	if cache <= 0 {
		cache = 8 << 20
	}
	mem := o.MemTableBytes
	if mem == 0 {
		mem = 4 << 20
	}
	po := &pebble.Options{
		CacheSize:                   cache,
		MemTableSize:                mem,
		MemTableStopWritesThreshold: 4,
		MaxOpenFiles:                256,
		ReadOnly:                    o.ReadOnly,
		ErrorIfNotExists:            o.ReadOnly,
		FormatMajorVersion:          pebble.FormatNewest,
		Logger:                      engineLogger{o.Logf, o.Errorf},
		EventListener:               &pebble.EventListener{DataCorruption: d.dataCorruption(o.Errorf)},
	}
	// Bloom filters on every level: most point reads of an acceptance
	// (dedup keys, alerts seen for the first time) look for keys that do
	// not exist, which without a filter reads a data block of every
	// overlapping table.
	for i := range po.Levels {
		po.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Payloads (a few KB each) go to blob files, so the tables that hold
	// the keys every acceptance reads stay small and fit the cache even
	// with a large backlog queued.
	po.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{Enabled: true, MinimumSize: 1024, MaxBlobReferenceDepth: 10,
			RewriteMinimumAge: 5 * time.Minute, TargetGarbageRatio: 0.2}
	}
	// Most of what is written is gone within seconds (a notification is
	// deleted once delivered): compressing it on its way through the
	// upper levels costs CPU for nothing. The lowest levels, which hold
	// what stays (history, the alert center), are compressed.
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings {
		cs := pebble.DBCompressionFastest
		for i := 0; i < len(cs.Levels)-2; i++ {
			cs.Levels[i] = pebble.DBCompressionNone.Levels[i]
		}
		cs.Name = "alertbridge"
		return cs
	})
	po.EnsureDefaults()
	return po
}

// dataCorruption is told by the engine, in the read that found it, of a
// checksum failure: the damage is recorded for Damage and Check and
// logged, and the read returns the corruption error. (Pebble's default is
// Logger.Fatalf, a panic in the middle of the read that leaks the
// engine's references, so Close then panics too.)
func (d *DB) dataCorruption(errorf func(string, ...any)) func(pebble.DataCorruptionInfo) {
	return func(info pebble.DataCorruptionInfo) {
		e := fmt.Errorf("%w: %s: %v", ErrCorrupt, d.dir, info)
		d.damaged.CompareAndSwap(nil, &e)
		if errorf != nil {
			errorf("%v", e)
		}
	}
}

// engineLogger passes Pebble's log lines on; Fatalf becomes a panic that
// Open and the calls turn into errors.
type engineLogger struct{ infof, errorf func(string, ...any) }

func (l engineLogger) Infof(format string, args ...any) {
	if l.infof != nil {
		l.infof(format, args...)
	}
}

func (l engineLogger) Errorf(format string, args ...any) {
	if l.errorf != nil {
		l.errorf(format, args...)
	}
}

func (l engineLogger) Fatalf(format string, args ...any) {
	panic(fmt.Sprintf(format, args...))
}

// prepareFolder creates the store folder and its marker when dir is
// missing or empty, and otherwise checks that it holds a store of this
// format.
func prepareFolder(dir string) error {
	if err := inspectFolder(dir, true); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, MarkerName)); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("storage path %s: %w", dir, err)
	}
	// The marker goes first, durably, so a folder with a marker and no
	// data can only be one whose data was lost.
	f, err := os.OpenFile(filepath.Join(dir, MarkerName), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return fmt.Errorf("storage path %s: writing %s: %w", dir, MarkerName, err)
	}
	_, err = f.WriteString(markerText)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("storage path %s: writing %s: %w", dir, MarkerName, err)
	}
	return nil
}

// inspectFolder checks what dir holds before the engine opens it. With
// create, a missing or empty folder is fine (a new store); without, it is
// an error.
func inspectFolder(dir string, create bool) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		if create {
			return nil
		}
		return fmt.Errorf("%s holds no store", dir)
	}
	if err != nil {
		return fmt.Errorf("storage path %s: %w", dir, err)
	}
	names := map[string]bool{}
	for _, e := range entries {
		names[e.Name()] = true
	}
	if names["alertbridge.db"] || names["wal"] {
		return fmt.Errorf("%w: %s holds a store written by an earlier alertbridge build (alertbridge.db with a write-ahead log), "+
			"which this build does not read. To keep its waiting deliveries, run the earlier build on it until "+
			"GET /api/v1/deliveries?state=pending is empty, then stop it and move the folder away (or point --storage.path elsewhere); "+
			"this build then starts a new store", ErrOldFormat, dir)
	}
	marker, err := os.ReadFile(filepath.Join(dir, MarkerName))
	if errors.Is(err, os.ErrNotExist) {
		if names[DataDir] {
			return fmt.Errorf("%w: %s has a %s folder but no %s file: it was not created by alertbridge, or its marker was deleted",
				ErrCorrupt, dir, DataDir, MarkerName)
		}
		return fmt.Errorf("storage path %s is not empty and holds no alertbridge store (%s); "+
			"point --storage.path at an empty or new folder", dir, listNames(entries))
	}
	if err != nil {
		return fmt.Errorf("storage path %s: reading %s: %w", dir, MarkerName, err)
	}
	if string(marker) != markerText {
		v := "an unknown format"
		for _, line := range strings.Split(string(marker), "\n") {
			if f, ok := strings.CutPrefix(line, "format: "); ok {
				v = "format " + f
			}
		}
		return fmt.Errorf("%w: %s holds a store in %s; this build reads format %d", ErrOldFormat, dir, v, FormatVersion)
	}
	data, err := os.ReadDir(filepath.Join(dir, DataDir))
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(data) == 0) {
		return fmt.Errorf("%w: %s held a store (its %s file is there) but its data folder %s is missing or empty: "+
			"the queue and the alert center are lost. Restore the folder from a backup, or move it away to start a new store",
			ErrCorrupt, dir, MarkerName, DataDir)
	}
	if err != nil {
		return fmt.Errorf("storage path %s: %w", dir, err)
	}
	return nil
}

func listNames(entries []os.DirEntry) string {
	var names []string
	for i, e := range entries {
		if i == 5 {
			names = append(names, "...")
			break
		}
		names = append(names, e.Name())
	}
	return "it holds " + strings.Join(names, ", ")
}

// describeOpenError turns the engine's refusal into a message that names
// the folder and what is wrong.
func describeOpenError(dir string, err error) error {
	switch {
	case pebble.IsCorruptionError(err):
		return fmt.Errorf("%w: %s: a checksum or format check failed: %v", ErrCorrupt, dir, err)
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%w: %s: a file of the database is missing: %v", ErrCorrupt, dir, err)
	case errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EWOULDBLOCK) || strings.Contains(err.Error(), "lock"):
		return fmt.Errorf("%w: opening %s: another process (a running bridge?) holds it (%v)", ErrLocked, dir, err)
	case errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "truncated") ||
		strings.Contains(err.Error(), "invalid") || strings.Contains(err.Error(), "corrupt"):
		return fmt.Errorf("%w: %s: a file of the database is truncated or malformed: %v", ErrCorrupt, dir, err)
	}
	return fmt.Errorf("opening %s: %w", dir, err)
}

// load reads the format record and the job id sequence, and verifies
// everything but the payloads (which are checked when read, and by
// Check): a damaged queue is found now, not at delivery.
func (d *DB) load() error {
	v, err := d.get(keyFormat)
	switch {
	case errors.Is(err, errNotFound):
		if d.isEmpty() {
			return d.writeFormat()
		}
		return fmt.Errorf("%w: %s: the format record is missing", ErrCorrupt, d.dir)
	case err != nil:
		return err
	case string(v) != formatValue():
		return fmt.Errorf("%w: %s: format record %q, this build reads %q", ErrOldFormat, d.dir, v, formatValue())
	}
	rep, err := d.scan(false, d.mem)
	if err != nil {
		return err
	}
	if rep.Damaged() {
		return fmt.Errorf("%w: %s: %s; run `alertbridge store check --storage.path=%s` for details", ErrCorrupt, d.dir, rep.Problems[0], d.dir)
	}
	d.seq = rep.MaxJobID
	return nil
}

func (d *DB) isEmpty() bool {
	it, err := d.db.NewIter(nil)
	if err != nil {
		return false
	}
	defer it.Close()
	return !it.First() && it.Error() == nil
}

func (d *DB) writeFormat() error {
	if d.volatile {
		return d.db.Set(keyFormat, []byte(formatValue()), pebble.NoSync)
	}
	return d.db.Set(keyFormat, []byte(formatValue()), pebble.Sync)
}

func formatValue() string { return fmt.Sprintf("alertbridge/%d", FormatVersion) }

// Close flushes and closes the store; later calls fail with ErrClosed.
// Writes in flight finish first.
func (d *DB) Close() error {
	d.closing.Store(true) // long reads (VerifyPayloads) stop early
	d.life.Lock()
	defer d.life.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return closeEngine(d.db)
}

// closeEngine closes Pebble, turning a panic into an error: after a read
// that panicked inside the engine (a damaged file can make it), Close
// panics on the references that read leaked, and that must neither crash
// the caller nor hide why the store was refused.
func closeEngine(db *pebble.DB) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("closing the store: the engine failed: %v", p)
		}
	}()
	return db.Close()
}

// Dir is the storage folder.
func (d *DB) Dir() string { return d.dir }

// errNotFound is what get returns for a missing key.
var errNotFound = errors.New("not found")

// get reads one committed key, copying the value.
func (d *DB) get(key []byte) (_ []byte, err error) {
	defer d.recoverRead(&err)
	v, closer, err := d.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, d.readErr(err)
	}
	out := bytes.Clone(v)
	// A value kept in a blob file is read by Get, whose error (a
	// checksum failure) only Close returns: v is then empty.
	if err := closer.Close(); err != nil {
		return nil, d.readErr(err)
	}
	return out, nil
}

// readErr marks corruption found by a read, so it is reported and not
// mistaken for a missing key.
func (d *DB) readErr(err error) error {
	if pebble.IsCorruptionError(err) {
		e := fmt.Errorf("%w: %s: %v", ErrCorrupt, d.dir, err)
		d.damaged.Store(&e)
		return e
	}
	return err
}

// recoverRead turns a panic inside the engine during a read into an
// error.
func (d *DB) recoverRead(err *error) {
	if p := recover(); p != nil {
		e := fmt.Errorf("%w: %s: the engine failed: %v", ErrCorrupt, d.dir, p)
		d.damaged.Store(&e)
		*err = e
	}
}

// Damage returns the corruption a read found since Open, or nil.
func (d *DB) Damage() error {
	if e := d.damaged.Load(); e != nil {
		return *e
	}
	return nil
}

// read runs fn with the engine open; ErrClosed after Close.
func (d *DB) read(fn func() error) (err error) {
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return ErrClosed
	}
	defer d.recoverRead(&err)
	return fn()
}

// write runs fn against a batch that sees the store as every earlier
// write left it (plus fn's own changes), then commits the batch durably.
// fn runs with the write lock held: it must only read and build. The lock
// is released before the disk sync, so writers queue their syncs into
// Pebble's group commit instead of waiting for each other's. When fn
// fails, nothing it wrote is kept.
func (d *DB) write(fn func(tx *tx) error) (err error) {
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return ErrClosed
	}
	b := d.db.NewIndexedBatch()
	defer b.Close()
	d.wmu.Lock()
	locked := true
	defer func() {
		if locked {
			d.wmu.Unlock()
		}
		if p := recover(); p != nil {
			err = fmt.Errorf("store write failed: %v", p)
		}
	}()
	t := &tx{b: b, d: d}
	committed := false
	defer func() {
		if !committed {
			t.rollback()
		}
	}()
	if err := fn(t); err != nil {
		return err
	}
	if b.Empty() {
		committed = true
		if !t.syncFirst || d.volatile {
			return nil
		}
		// Nothing to write, but the answer depends on an earlier write
		// (a duplicate's original) that may not be synced yet: wait
		// for the log to be, as that write's own caller does.
		d.wmu.Unlock()
		locked = false
		if err := d.db.LogData([]byte{0}, pebble.Sync); err != nil {
			return fmt.Errorf("store sync: %w", err)
		}
		return nil
	}
	if d.volatile {
		if err := d.db.Apply(b, pebble.NoSync); err != nil {
			return fmt.Errorf("store write: %w", err)
		}
		committed = true
		return nil
	}
	if err := d.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		return fmt.Errorf("store write: %w", err)
	}
	committed = true
	d.wmu.Unlock()
	locked = false
	if err := b.SyncWait(); err != nil {
		return fmt.Errorf("store sync: %w", err)
	}
	return nil
}

// tx is the view of one write: reads see the store and the write's own
// changes. Changes to the in-memory index are made at once and undone if
// the batch is not committed.
type tx struct {
	b    *pebble.Batch
	d    *DB
	undo []func()
	// syncFirst: the write's answer relies on what earlier writes wrote;
	// even with nothing to write, it returns once the log is synced.
	syncFirst bool
}

func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
}

func (t *tx) get(key []byte) ([]byte, error) {
	v, closer, err := t.b.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, errNotFound
	}
	if err != nil {
		return nil, t.d.readErr(err)
	}
	out := bytes.Clone(v)
	if err := closer.Close(); err != nil { // see DB.get
		return nil, t.d.readErr(err)
	}
	return out, nil
}

func (t *tx) set(key, val []byte) error { return t.b.Set(key, val, nil) }
func (t *tx) del(key []byte) error      { return t.b.Delete(key, nil) }

// nextID hands out the next job id (write lock held).
func (t *tx) nextID() uint64 {
	t.d.seq++
	return t.d.seq
}

// iterate calls fn for each key with prefix, in key order (reverse:
// descending), from start (nil: the prefix's end in that direction),
// until fn returns false. Keys and values are valid during fn only.
func (d *DB) iterate(prefix, start []byte, reverse bool, fn func(k, v []byte) (bool, error)) error {
	return d.iterateFrom(prefix, start, reverse, true, fn)
}

// iterateWith walks a whole prefix in key order; without values, fn gets
// nil values and the values are not read.
func (d *DB) iterateWith(prefix []byte, values bool, fn func(k, v []byte) (bool, error)) error {
	return d.iterateFrom(prefix, nil, false, values, fn)
}

func (d *DB) iterateFrom(prefix, start []byte, reverse, values bool, fn func(k, v []byte) (bool, error)) error {
	it, err := d.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	var ok bool
	switch {
	case start == nil && !reverse:
		ok = it.First()
	case start == nil:
		ok = it.Last()
	case !reverse:
		ok = it.SeekGE(start)
	default:
		ok = it.SeekLT(start)
	}
	for ; ok; ok = step(it, reverse) {
		var v []byte
		if values {
			if v, err = it.ValueAndErr(); err != nil {
				break
			}
		}
		more, err := fn(it.Key(), v)
		if err != nil {
			it.Close()
			return err
		}
		if !more {
			break
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return d.readErr(err)
	}
	return d.readErr(it.Close())
}

func step(it *pebble.Iterator, reverse bool) bool {
	if reverse {
		return it.Prev()
	}
	return it.Next()
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
