package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"
)

// The write-ahead log: one segment file per memtable, in the "wal" folder
// of the storage path, named by the memtable's generation
// (0000000000000007.wal). A segment is a sequence of records, one per
// group commit:
//
//	u32  length of the body (big endian)
//	u32  CRC-32C of the body
//	body ops, each:
//	     'P' bucket key value   put
//	     'D' bucket key         delete
//	     'S' bucket uvarint     set the bucket's sequence
//
// where bucket is one byte (the position in bucketNames) and key and value
// are a uvarint length and the bytes. A segment is deleted once its
// memtable is in bbolt. At open, the segments left by a previous run are
// applied to bbolt in generation order: a segment whose memtable was
// already applied before a crash is applied again, which is harmless
// because its records set keys to values rather than changing them. A
// record cut short or failing its checksum (a crash during the write,
// never acknowledged) ends its segment.

const (
	walDir     = "wal"
	walSuffix  = ".wal"
	walHeader  = 8
	maxWALBody = 1 << 30
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

const (
	opPut = 'P'
	opDel = 'D'
	opSeq = 'S'
)

// encodeRecord appends the record of a batch's changes to buf.
func encodeRecord(buf []byte, m *memtable) []byte {
	start := len(buf)
	buf = append(buf, make([]byte, walHeader)...)
	for b := range m.kv {
		for k, e := range m.kv[b] {
			if e.deleted() {
				buf = append(buf, opDel, byte(b))
				buf = appendStr(buf, k)
				continue
			}
			buf = append(buf, opPut, byte(b))
			buf = appendStr(buf, k)
			buf = binary.AppendUvarint(buf, uint64(len(e.val)))
			buf = append(buf, e.val...)
		}
		if m.seq[b] != 0 {
			buf = append(buf, opSeq, byte(b))
			buf = binary.AppendUvarint(buf, m.seq[b])
		}
	}
	body := buf[start+walHeader:]
	binary.BigEndian.PutUint32(buf[start:], uint32(len(body)))
	binary.BigEndian.PutUint32(buf[start+4:], crc32.Checksum(body, crcTable))
	return buf
}

var errBadRecord = errors.New("malformed log record")

// decodeRecord applies one record body's ops to m.
func decodeRecord(body []byte, m *memtable) error {
	r := reader{b: body}
	for len(r.b) > 0 && !r.bad {
		if len(r.b) < 2 {
			return errBadRecord
		}
		op, b := r.b[0], int(r.b[1])
		r.b = r.b[2:]
		if b >= numBuckets {
			return errBadRecord
		}
		switch op {
		case opPut:
			k := r.str()
			v := append([]byte{}, r.bytes()...)
			m.set(b, k, memEntry{val: v})
		case opDel:
			m.set(b, r.str(), memEntry{del: true})
		case opSeq:
			m.seq[b] = max(m.seq[b], r.uvarint())
		default:
			return errBadRecord
		}
	}
	if r.bad {
		return errBadRecord
	}
	return nil
}

// wal is the open segment being appended to.
type wal struct {
	dir  string
	f    *os.File
	gen  uint64
	size int64
	buf  []byte
	// broken is set when a failed append could not be cut back: no
	// record may follow it in this segment.
	broken error
	// noSync skips fdatasync (benchmarks only).
	noSync bool
}

func segmentPath(dir string, gen uint64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x%s", gen, walSuffix))
}

// segments lists the generations of the segments in dir, oldest first.
func segments(dir string) ([]uint64, error) {
	names, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var gens []uint64
	for _, n := range names {
		s, ok := strings.CutSuffix(n.Name(), walSuffix)
		if !ok {
			continue
		}
		if g, err := strconv.ParseUint(s, 16, 64); err == nil {
			gens = append(gens, g)
		}
	}
	slices.Sort(gens)
	return gens, nil
}

// readSegment loads a segment's valid records into a memtable. It stops
// at the first record cut short or failing its checksum.
func readSegment(path string) (*memtable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m := newMemtable(0)
	for len(data) >= walHeader {
		n := binary.BigEndian.Uint32(data)
		sum := binary.BigEndian.Uint32(data[4:])
		if n > maxWALBody || int(n) > len(data)-walHeader {
			break
		}
		body := data[walHeader : walHeader+int(n)]
		if crc32.Checksum(body, crcTable) != sum {
			break
		}
		if err := decodeRecord(body, m); err != nil {
			break
		}
		data = data[walHeader+int(n):]
	}
	return m, nil
}

// recoverLog applies the segments a previous run left to db and deletes
// them. It returns the next free generation.
func recoverLog(db *bolt.DB, dir string) (uint64, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, fmt.Errorf("log folder: %w", err)
	}
	gens, err := segments(dir)
	if err != nil {
		return 0, fmt.Errorf("reading log folder: %w", err)
	}
	if len(gens) == 0 {
		return 1, nil
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, g := range gens {
			m, err := readSegment(segmentPath(dir, g))
			if err != nil {
				return fmt.Errorf("reading log segment: %w", err)
			}
			if err := m.apply(tx); err != nil {
				return fmt.Errorf("applying log segment: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, g := range gens {
		if err := os.Remove(segmentPath(dir, g)); err != nil {
			return 0, err
		}
	}
	return gens[len(gens)-1] + 1, syncDir(dir)
}

// openSegment creates the segment of generation gen.
func openSegment(dir string, gen uint64, noSync bool) (*wal, error) {
	f, err := os.OpenFile(segmentPath(dir, gen), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if !noSync {
		if err := syncDir(dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	return &wal{dir: dir, f: f, gen: gen, noSync: noSync}, nil
}

// append writes the record of m and makes it durable. On failure the
// segment is cut back to its previous end, so an unacknowledged record is
// never replayed.
func (w *wal) append(m *memtable) (int, error) {
	if w.broken != nil {
		return 0, fmt.Errorf("writing log: segment unusable after %w", w.broken)
	}
	w.buf = encodeRecord(w.buf[:0], m)
	if size := len(w.buf) - walHeader; size > maxWALBody {
		w.buf = nil
		return 0, fmt.Errorf("writing log: record of %d bytes over the limit", size)
	}
	n, err := w.f.Write(w.buf)
	if err == nil && !w.noSync {
		err = fdatasync(w.f)
	}
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.broken = err
			}
		}
		return 0, fmt.Errorf("writing log: %w", err)
	}
	w.size += int64(n)
	if cap(w.buf) > 4<<20 {
		w.buf = nil // do not keep a huge batch's buffer
	}
	return n, nil
}

func (w *wal) close() error { return w.f.Close() }

// removeSegment deletes the segment of an applied memtable.
func removeSegment(dir string, gen uint64) error {
	err := os.Remove(segmentPath(dir, gen))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
