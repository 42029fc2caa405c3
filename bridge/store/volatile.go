package store

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// OpenVolatile opens an empty store whose writes are neither logged nor
// synced: a view that another engine keeps and can rebuild (the
// replicated engine in bridge/store/jetstream applies its log to one).
// It lives in opts.VolatileDir, emptied first, or in memory. Everything
// Engine promises holds except durability: what it holds after Close or
// a crash is to be thrown away.
func OpenVolatile(opts Options) (*DB, error) {
	return openVolatile(opts, nil)
}

// RestoreVolatile opens a volatile store (see OpenVolatile) holding what
// Export wrote to r.
func RestoreVolatile(r io.Reader, opts Options) (*DB, error) {
	return openVolatile(opts, r)
}

func openVolatile(opts Options, snapshot io.Reader) (_ *DB, err error) {
	d := &DB{dir: "(memory)", mem: newMemIndex(), volatile: true}
	po := d.pebbleOptions(opts)
	po.DisableWAL = true // a crash loses the view anyway
	// Nothing is compressed: a view trades disk for the CPU every write
	// and read would spend on it (it is rebuilt, never kept).
	po.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionNone })
	// Most of what a view holds is gone within seconds (a notification
	// is deleted once delivered): larger memtables let more of it go
	// before it is ever flushed, and values stay in the tables (no blob files to
	// rewrite), which is most of a view's compaction work.
	// Two 8 MiB memtables at most: the same memory as the embedded
	// engine's four of 4 MiB.
	po.MemTableSize = max(po.MemTableSize, 8<<20)
	po.MemTableStopWritesThreshold = 2
	po.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{Enabled: false}
	}
	path := ""
	if opts.VolatileDir != "" {
		if err := os.RemoveAll(opts.VolatileDir); err != nil {
			return nil, fmt.Errorf("emptying %s: %w", opts.VolatileDir, err)
		}
		if err := os.MkdirAll(opts.VolatileDir, 0o750); err != nil {
			return nil, err
		}
		d.dir, path = opts.VolatileDir, opts.VolatileDir
	} else {
		po.FS = vfs.NewMem()
	}
	d.db, err = pebble.Open(path, po)
	if err != nil {
		return nil, fmt.Errorf("opening the in-memory store: %w", err)
	}
	if snapshot != nil {
		if err := d.importFrom(snapshot); err != nil {
			_ = closeEngine(d.db)
			return nil, err
		}
	}
	if err := d.load(); err != nil {
		_ = closeEngine(d.db)
		return nil, err
	}
	return d, nil
}

// snapshotMagic starts what Export writes.
const snapshotMagic = "alertbridge-store-snapshot-1\n"

// Export writes every record of the store, as of one moment, to w: the
// snapshot RestoreVolatile reads back. Writes made while it runs are not
// in it.
func (d *DB) Export(w io.Writer) error {
	return d.read(func() error { return d.export(w) })
}

func (d *DB) export(w io.Writer) error {
	snap := d.db.NewSnapshot()
	defer snap.Close()
	return exportFrom(snap, w)
}

func exportFrom(snap *pebble.Snapshot, w io.Writer) error {
	it, err := snap.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(snapshotMagic); err != nil {
		return err
	}
	var hdr [2 * binary.MaxVarintLen64]byte
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		n := binary.PutUvarint(hdr[:], uint64(len(it.Key())))
		n += binary.PutUvarint(hdr[n:], uint64(len(v)))
		if _, err := bw.Write(hdr[:n]); err != nil {
			return err
		}
		if _, err := bw.Write(it.Key()); err != nil {
			return err
		}
		if _, err := bw.Write(v); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// maxSnapshotRecord bounds one record read from a snapshot.
const maxSnapshotRecord = 64 << 20

// importFrom writes the records of a snapshot into the empty engine.
func (d *DB) importFrom(r io.Reader) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic := make([]byte, len(snapshotMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != snapshotMagic {
		return fmt.Errorf("%w: not a store snapshot", ErrCorrupt)
	}
	b := d.db.NewBatch()
	defer func() { _ = b.Close() }()
	for {
		kl, err := binary.ReadUvarint(br)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: snapshot: %v", ErrCorrupt, err)
		}
		vl, err := binary.ReadUvarint(br)
		if err != nil || kl > maxSnapshotRecord || vl > maxSnapshotRecord {
			return fmt.Errorf("%w: snapshot: bad record header", ErrCorrupt)
		}
		kv := make([]byte, kl+vl)
		if _, err := io.ReadFull(br, kv); err != nil {
			return fmt.Errorf("%w: snapshot: truncated record", ErrCorrupt)
		}
		if err := b.Set(kv[:kl], kv[kl:], nil); err != nil {
			return err
		}
		if b.Len() > 4<<20 {
			if err := d.db.Apply(b, pebble.NoSync); err != nil {
				return err
			}
			_ = b.Close()
			b = d.db.NewBatch()
		}
	}
	return d.db.Apply(b, pebble.NoSync)
}

// Exporter takes a consistent view of the store now and returns the
// function that writes it, as Export does, later (from another goroutine
// too). The function must be called exactly once; with a nil writer it
// only lets the view go.
func (d *DB) Exporter() func(w io.Writer) error {
	var snap *pebble.Snapshot
	err := d.read(func() error { snap = d.db.NewSnapshot(); return nil })
	return func(w io.Writer) error {
		if err != nil {
			return err
		}
		defer snap.Close()
		if w == nil {
			return nil
		}
		return d.read(func() error { return exportFrom(snap, w) })
	}
}
