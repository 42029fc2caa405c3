package jetstream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// Snapshots are objects named snapshot-<log position> in the snapshots
// object store. Every view holds the same data at the same position, so
// whichever bridge writes one writes the same; the claims bucket picks
// one writer per position. A bridge starts from the newest complete one.
const snapshotPrefix = "snapshot-"

// streamMeta names the snapshot's metadata that says which stream it
// covers: the stream's creation time (a stream deleted and made again
// under the same name starts its positions over).
const streamMeta = "alertbridge-stream-created"

// snapshotsKept is how many snapshots stay in the bucket.
const snapshotsKept = 2

func snapshotName(seq uint64) string { return snapshotPrefix + strconv.FormatUint(seq, 10) }

func snapshotSeq(name string) (uint64, bool) {
	s, ok := strings.CutPrefix(name, snapshotPrefix)
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// snapshots lists the complete snapshots, newest first.
func (e *Engine) snapshots(ctx context.Context) ([]uint64, error) {
	infos, err := e.snaps.List(ctx)
	if errors.Is(err, jetstream.ErrNoObjectsFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var seqs []uint64
	for _, in := range infos {
		seq, ok := snapshotSeq(in.Name)
		if !ok || in.Deleted {
			continue
		}
		if in.Metadata[streamMeta] != e.streamID {
			// Of a stream deleted since: its positions are not this
			// stream's, and restoring it would skip this stream's start.
			e.logf("snapshot %s belongs to an earlier stream %s (created %s); ignored", in.Name, e.stream, in.Metadata[streamMeta])
			continue
		}
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	slices.Reverse(seqs) // newest first
	return seqs, nil
}

// restore opens a view from the newest snapshot that reads back whole,
// or an empty one when there is none, in the view folder of generation
// gen, and returns it with the log position it holds.
func (e *Engine) restore(ctx context.Context, gen int) (*store.DB, uint64, error) {
	seqs, err := e.snapshots(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("jetstream engine: listing snapshots: %w", err)
	}
	opts := viewOptions(e.opts, gen)
	for _, seq := range seqs {
		// Read as a stream: the object store checks the digest at the
		// end, and a mismatch fails the restore.
		obj, err := e.snaps.Get(ctx, snapshotName(seq))
		if err != nil {
			e.errorf("snapshot of log position %d unreadable, trying an older one: %v", seq, err)
			continue
		}
		n := &countingReader{r: obj}
		view, err := store.RestoreVolatile(n, opts)
		obj.Close()
		if err != nil {
			e.errorf("snapshot of log position %d damaged, trying an older one: %v", seq, err)
			continue
		}
		e.logf("restored the snapshot of log position %d (%d bytes)", seq, n.n)
		return view, seq, nil
	}
	view, err := store.OpenVolatile(opts)
	return view, 0, err
}

// maybeSnapshot writes a snapshot of the view if this bridge wins the
// claim of the log position. Called from apply, between two messages: the
// view's Pebble snapshot is taken now, so the export holds exactly the
// log up to seq; the claim and the upload run in the background, so the
// log is not held up.
func (e *Engine) maybeSnapshot(seq uint64) {
	if e.closed.Load() || !e.snapping.CompareAndSwap(false, true) {
		return
	}
	export := e.v().Exporter()
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		defer e.snapping.Store(false)
		ctx, cancel := context.WithTimeout(e.life, e.opts.PublishTimeout)
		_, err := e.claims.Create(ctx, "snapshot."+strconv.FormatUint(seq, 10), []byte(e.origin))
		cancel()
		if err != nil {
			_ = export(nil) // another bridge writes it (or NATS is away: the next one)
			return
		}
		if err := e.saveSnapshot(seq, export); err != nil {
			e.errorf("snapshot at log position %d: %v", seq, err)
		}
	}()
}

// saveSnapshot stores a snapshot, drops the older ones beyond
// snapshotsKept and purges the log it covers.
func (e *Engine) saveSnapshot(seq uint64, export func(io.Writer) error) error {
	ctx, cancel := context.WithTimeout(e.life, 5*time.Minute)
	defer cancel()
	// The export streams into the object store: the snapshot is never
	// whole in memory.
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(export(pw)) }()
	n := &countingReader{r: pr}
	_, err := e.snaps.Put(ctx, jetstream.ObjectMeta{Name: snapshotName(seq), Metadata: map[string]string{streamMeta: e.streamID}}, n)
	pr.CloseWithError(errors.New("snapshot upload ended")) // unblocks the export if the upload failed
	if err != nil {
		return err
	}
	seqs, err := e.snapshots(ctx)
	if err != nil {
		return err
	}
	for i, old := range seqs {
		if i >= snapshotsKept && old < seq {
			if err := e.snaps.Delete(ctx, snapshotName(old)); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
				return err
			}
		}
	}
	s, err := e.js.Stream(ctx, e.stream)
	if err != nil {
		return err
	}
	// Keep the log after the snapshot, a margin before it, and whatever
	// a live bridge has not applied yet: a bridge behind the purge would
	// have lost its place.
	keepFrom := uint64(1)
	if margin := uint64(e.opts.SnapshotMargin); seq+1 > margin {
		keepFrom = seq + 1 - margin
	}
	members, err := listMembers(ctx, e.claims, e.origin, e.Applied())
	if err != nil {
		return err
	}
	for _, applied := range members {
		keepFrom = min(keepFrom, applied+1)
	}
	if err := s.Purge(ctx, jetstream.WithPurgeSequence(keepFrom)); err != nil {
		return err
	}
	e.statsMu.Lock()
	e.stats.Snapshots++
	e.statsMu.Unlock()
	e.logf("snapshot of log position %d stored (%d bytes); log before %d purged", seq, n.n, keepFrom)
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// viewOptions are the store options of the view of generation gen: a
// rebuilt view goes to the other of two folders while the old one is
// still open.
func viewOptions(o Options, gen int) store.Options {
	dir := ""
	if o.ViewDir != "" {
		dir = filepath.Join(o.ViewDir, strconv.Itoa(gen%2))
	}
	return store.Options{Logf: o.Logf, Errorf: o.Errorf, VolatileDir: dir}
}
