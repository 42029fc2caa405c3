// Package jetstream is the replicated storage engine: every write is one
// message on a NATS JetStream stream (the log), and every bridge applies
// the log, in order, to a view of its own (store.DB held in memory), so
// several bridges share one queue, alert center and history. A write
// returns once JetStream acknowledged it (with R3: a quorum holds it) and
// this bridge applied it. A snapshot of the view, with the log position
// it covers, is written to a key-value bucket from time to time, and the
// log before it is purged; a bridge starts from the latest snapshot and
// the log after it.
package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// Options configure the engine.
type Options struct {
	// Conn is the connection to the NATS cluster; the engine does not
	// close it.
	Conn *nats.Conn
	// Prefix names the stream (<Prefix>_LOG) and the buckets
	// (<Prefix>_CLAIMS, <Prefix>_SNAPSHOTS). Default "ALERTBRIDGE".
	Prefix string
	// Replicas of the stream and the buckets (default 1; 3 for HA).
	Replicas int
	// DedupWindow is JetStream's duplicate window for acceptances' keys
	// (Nats-Msg-Id); 0 leaves JetStream's default (2 minutes).
	DedupWindow time.Duration
	// PublishTimeout bounds one write: JetStream's acknowledgement and
	// this bridge applying it (default 5 s).
	PublishTimeout time.Duration
	// SnapshotEvery is how many log messages a snapshot is taken after
	// (default DefaultSnapshotEvery; negative: never).
	SnapshotEvery int
	// ViewDir is the folder this bridge's view of the store lives in,
	// emptied at Open (the view is rebuilt from the snapshots and the
	// log); "" keeps it in memory.
	ViewDir string
	// SnapshotMargin is how many messages before a snapshot's position
	// the log keeps, so a bridge applying a little behind the one that
	// took it does not lose its place (default 1,000).
	SnapshotMargin int
	// ClaimTTL is how long a claim (a target's deliveries, see Claims)
	// lasts unless renewed: how long the targets of a bridge that died
	// wait for another (default 15 s).
	ClaimTTL time.Duration
	// OnPublish, when set, is told of every publish: how long JetStream
	// took to acknowledge it, or its error.
	OnPublish func(d time.Duration, err error)
	// Logf and Errorf receive the engine's log lines (nil: dropped).
	Logf, Errorf func(format string, args ...any)
}

// DefaultSnapshotEvery is how many log messages a snapshot is taken
// after by default. A snapshot is the whole view (about 80 MB with
// 100,000 alerts in the alert center), so it is taken rarely; a bridge
// starting replays at most this many messages after the newest one (about
// 150 µs each).
const DefaultSnapshotEvery = 50000

// DefaultPrefix names the stream and buckets when Options.Prefix is empty.
const DefaultPrefix = "ALERTBRIDGE"

// ErrUnavailable wraps a write JetStream did not acknowledge in time; the
// write may or may not have been stored.
var ErrUnavailable = errors.New("NATS JetStream unavailable")

// Header names of a log message.
const (
	headerCommand = "Alertbridge-Command" // the writer's id of the write
	headerOrigin  = "Alertbridge-Origin"  // the writing engine's id
)

// Engine is the replicated store.Engine.
type Engine struct {
	opts    Options
	nc      *nats.Conn
	js      jetstream.JetStream
	stream  string
	subject string
	origin  string
	// streamID identifies the stream (its creation time) in snapshots.
	streamID string
	snaps    jetstream.ObjectStore
	claims   jetstream.KeyValue

	// viewP is this bridge's view; a rebuild (see rebuild) swaps it.
	viewP atomic.Pointer[store.DB]
	// gen counts the views built (see viewOptions); rebuilding is set
	// while one is.
	gen        int
	rebuilding atomic.Bool
	// consMu guards consumer, which a rebuild replaces.
	consMu sync.Mutex

	mu       sync.Mutex
	waiters  map[string]*waiter
	follow   func(store.Change)
	appliedC chan struct{} // closed and replaced after each applied message

	applied atomic.Uint64
	// failing is set by a publish JetStream did not acknowledge and
	// cleared by one it did (see Writable).
	failing    atomic.Bool
	lag        atomic.Uint64
	snapping   atomic.Bool
	broken     atomic.Pointer[error]
	closed     atomic.Bool
	consumer   jetstream.ConsumeContext
	stats      Stats
	statsMu    sync.Mutex
	background sync.WaitGroup
	// life ends at Close: background work (snapshots) gives up.
	life    context.Context
	endLife context.CancelFunc
}

// errDiverge marks a log message this bridge cannot apply as every
// other bridge does (an unknown operation, a time zone it lacks): the
// engine breaks rather than let its view drift.
var errDiverge = errors.New("cannot apply the log message as the other bridges do")

// waiter is a write of this bridge on its way through the log: where
// its outcome goes. The command is applied as decoded from the log, on
// this bridge as on the others, so every view applies the same bytes.
type waiter struct {
	out chan outcome
}

// outcome is what applying one write returned.
type outcome struct {
	acc        *store.Acceptance
	job        *store.Job
	superseded bool
	n          int
	err        error
}

var (
	_ store.Engine   = (*Engine)(nil)
	_ store.Follower = (*Engine)(nil)
)

// Open creates the stream and buckets if they do not exist, restores the
// latest snapshot, applies the log after it and follows the log from
// then on. It returns once the view holds every write acknowledged
// before it was called.
func Open(ctx context.Context, opts Options) (*Engine, error) {
	if opts.Conn == nil {
		return nil, errors.New("jetstream engine: no NATS connection")
	}
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = 5 * time.Second
	}
	if opts.SnapshotMargin <= 0 {
		opts.SnapshotMargin = 1000
	}
	if opts.ClaimTTL <= 0 {
		opts.ClaimTTL = 15 * time.Second
	}
	if opts.SnapshotEvery == 0 {
		opts.SnapshotEvery = DefaultSnapshotEvery
	}
	js, err := jetstream.New(opts.Conn)
	if err != nil {
		return nil, err
	}
	e := &Engine{opts: opts, nc: opts.Conn, js: js, stream: opts.Prefix + "_LOG",
		subject: opts.Prefix + ".log", origin: nuid.Next(), waiters: map[string]*waiter{},
		appliedC: make(chan struct{})}
	e.life, e.endLife = context.WithCancel(context.Background())
	if err := retry(ctx, e.checkShared); err != nil {
		return nil, err
	}
	// Bridges starting together create the stream and buckets at once,
	// which a cluster may answer with a timeout: each is tried until ctx
	// ends.
	if err := retry(ctx, func(ctx context.Context) error {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name: e.stream, Subjects: []string{e.subject}, Storage: jetstream.FileStorage,
			Replicas: opts.Replicas, Duplicates: opts.DedupWindow, Retention: jetstream.LimitsPolicy,
			Discard: jetstream.DiscardNew, MaxMsgSize: -1,
			Description: "alertbridge: every write of the queue, the alert center and the history",
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("jetstream engine: stream %s: %w", e.stream, err)
	}
	if err := retry(ctx, func(ctx context.Context) error {
		s, err := js.Stream(ctx, e.stream)
		if err != nil {
			return err
		}
		info, err := s.Info(ctx)
		if err != nil {
			return err
		}
		e.streamID = info.Created.UTC().Format(time.RFC3339Nano)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("jetstream engine: stream %s: %w", e.stream, err)
	}
	if err := retry(ctx, func(ctx context.Context) (err error) {
		e.snaps, err = js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: opts.Prefix + "_SNAPSHOTS", Replicas: opts.Replicas, Storage: jetstream.FileStorage,
			Description: "alertbridge: snapshots of the store, each named by the log position it covers",
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("jetstream engine: bucket %s_SNAPSHOTS: %w", opts.Prefix, err)
	}
	if err := retry(ctx, func(ctx context.Context) (err error) {
		e.claims, err = js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: opts.Prefix + "_CLAIMS", Replicas: opts.Replicas, Storage: jetstream.FileStorage,
			TTL: opts.ClaimTTL, History: 1,
			Description: "alertbridge: which bridge delivers for which target, and the bridges alive",
		})
		return err
	}); err != nil {
		return nil, fmt.Errorf("jetstream engine: bucket %s_CLAIMS: %w", opts.Prefix, err)
	}
	view, seq, err := e.restore(ctx, 0)
	if err != nil {
		return nil, err
	}
	e.viewP.Store(view)
	e.applied.Store(seq)
	if err := e.startConsumer(ctx); err != nil {
		view.Close()
		return nil, err
	}
	if err := e.Sync(ctx); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// errMismatch marks settings that differ from the fleet's.
var errMismatch = errors.New("jetstream engine: this bridge's settings differ from the fleet's")

// checkShared refuses to start with settings that differ from those the
// stream and the claims bucket were made with: every bridge would
// otherwise rewrite them to its own (one bridge with replicas 1 would
// take the fleet's redundancy away; claims with two TTLs lapse between
// renewals).
func (e *Engine) checkShared(ctx context.Context) error {
	s, err := e.js.Stream(ctx, e.stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
	case err != nil:
		return fmt.Errorf("%w: reading stream %s: %v", ErrUnavailable, e.stream, err)
	default:
		cfg := s.CachedInfo().Config
		if cfg.Replicas != e.opts.Replicas {
			return fmt.Errorf("%w: stream %s has %d replicas, this bridge is configured for %d: give every bridge of the fleet the same storage.nats.replicas (change it on the stream itself with the nats CLI)", errMismatch, e.stream, cfg.Replicas, e.opts.Replicas)
		}
	}
	kv, err := e.js.KeyValue(ctx, e.opts.Prefix+"_CLAIMS")
	switch {
	case errors.Is(err, jetstream.ErrBucketNotFound):
	case err != nil:
		return fmt.Errorf("%w: reading bucket %s_CLAIMS: %v", ErrUnavailable, e.opts.Prefix, err)
	default:
		st, err := kv.Status(ctx)
		if err != nil {
			return fmt.Errorf("%w: reading bucket %s_CLAIMS: %v", ErrUnavailable, e.opts.Prefix, err)
		}
		if st.TTL() != e.opts.ClaimTTL {
			return fmt.Errorf("%w: claims bucket %s_CLAIMS has a TTL of %s, this bridge is configured for %s: give every bridge of the fleet the same storage.nats.claim_ttl", errMismatch, e.opts.Prefix, st.TTL(), e.opts.ClaimTTL)
		}
	}
	return nil
}

// retry calls fn, each call bounded by a few seconds, until it succeeds
// or ctx ends (then the last error).
func retry(ctx context.Context, fn func(context.Context) error) error {
	wait := 100 * time.Millisecond
	for {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := fn(cctx)
		cancel()
		if err == nil || errors.Is(err, errMismatch) {
			return err
		}
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) && apiErr.Code >= 400 && apiErr.Code < 500 && apiErr.Code != 408 {
			return err // a configuration JetStream refuses: no retry helps
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// startConsumer follows the log from the first message not applied.
func (e *Engine) startConsumer(ctx context.Context) error {
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if n := e.applied.Load(); n > 0 {
		cfg = jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverByStartSequencePolicy, OptStartSeq: n + 1}
	}
	cons, err := e.js.OrderedConsumer(ctx, e.stream, cfg)
	if err != nil {
		return fmt.Errorf("jetstream engine: following %s: %w", e.stream, err)
	}
	// Short pulls with frequent heartbeats: when the server that serves
	// the consumer dies, the client notices within about a second and
	// follows the log from another one.
	cc, err := cons.Consume(e.apply, jetstream.PullExpiry(2*time.Second), jetstream.PullHeartbeat(500*time.Millisecond),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			e.errorf("following the log: %v", err)
		}))
	if err != nil {
		return fmt.Errorf("jetstream engine: following %s: %w", e.stream, err)
	}
	e.consMu.Lock()
	e.consumer = cc
	e.consMu.Unlock()
	if e.closed.Load() {
		e.stopConsumer()
	}
	return nil
}

// Sync waits until this bridge applied every write JetStream
// acknowledged before it was called.
func (e *Engine) Sync(ctx context.Context) error {
	s, err := e.js.Stream(ctx, e.stream)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	return e.waitApplied(ctx, info.State.LastSeq)
}

func (e *Engine) waitApplied(ctx context.Context, seq uint64) error {
	for {
		e.mu.Lock()
		ch := e.appliedC
		e.mu.Unlock()
		if e.applied.Load() >= seq {
			return nil
		}
		if err := e.brokenErr(); err != nil {
			return err
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("%w: log position %d not applied (at %d): %v", ErrUnavailable, seq, e.applied.Load(), ctx.Err())
		}
	}
}

// apply applies one log message to the view. Messages come in order, one
// at a time.
func (e *Engine) apply(msg jetstream.Msg) {
	md, err := msg.Metadata()
	if err != nil {
		e.errorf("a log message without metadata: %v", err)
		return
	}
	seq := md.Sequence.Stream
	last := e.applied.Load()
	if seq <= last {
		return // delivered again after a reconnect
	}
	if seq != last+1 && e.brokenErr() == nil {
		err := fmt.Errorf("jetstream engine: log position %d follows %d: the log was purged past this bridge's view; rebuilding it from the newest snapshot", seq, last)
		e.broken.Store(&err)
		e.errorf("%v", err)
		e.startRebuild()
	}
	if e.brokenErr() != nil {
		return
	}
	id := msg.Headers().Get(headerCommand)
	// The writer's waiter is taken before the write is applied: from then
	// on the writer waits for the outcome (see write). A write whose
	// writer gave up waiting is not local: this bridge's queue learns of
	// it as of any other bridge's.
	e.mu.Lock()
	w := e.waiters[id]
	delete(e.waiters, id)
	e.mu.Unlock()
	local := w != nil && msg.Headers().Get(headerOrigin) == e.origin
	c, body, err := decode(msg.Data())
	var out outcome
	var ch store.Change
	if err == nil {
		out, ch = e.run(c, body)
		err = out.err
	}
	if errors.Is(err, errDiverge) || (err != nil && c == nil) {
		// A message this bridge cannot apply as the others do: applying
		// on would make its view differ from theirs.
		err := fmt.Errorf("jetstream engine: log position %d: %w; this bridge stops applying the log (restart it, with the others' version if they are newer)", seq, err)
		e.broken.Store(&err)
		e.errorf("%v", err)
		if w != nil {
			w.out <- outcome{err: err}
		}
		return
	}
	e.applied.Store(seq)
	e.lag.Store(md.NumPending)
	ch.Local = local
	e.mu.Lock()
	follow := e.follow
	close(e.appliedC)
	e.appliedC = make(chan struct{})
	e.mu.Unlock()
	if w != nil {
		w.out <- out
	}
	if follow != nil && (len(ch.Pending) > 0 || len(ch.Gone) > 0 || ch.Accepted != nil) {
		follow(ch)
	}
	if e.opts.SnapshotEvery > 0 && seq%uint64(e.opts.SnapshotEvery) == 0 {
		e.maybeSnapshot(seq)
	}
}

// run applies one command to the view.
func (e *Engine) run(c *command, body []byte) (out outcome, ch store.Change) {
	v := e.v()
	switch c.Op {
	case opAccept:
		req, err := c.acceptRequest(body)
		if err != nil {
			return outcome{err: err}, ch
		}
		out.acc, out.err = v.Accept(req)
		if out.err == nil && !out.acc.Duplicate {
			ch.Pending, ch.Gone = out.acc.Jobs, out.acc.Superseded
			ch.Accepted, ch.At = req.Group, req.Now
		}
	case opReschedule:
		out.superseded, out.err = v.Reschedule(c.ID, c.Attempts, c.Sent, c.Next, c.Reason, c.Msg, c.Now)
		if out.err == nil && out.superseded {
			if j, err := v.Get(c.ID); err == nil {
				ch.Gone = []*store.Job{j}
			}
		}
	case opFinish:
		for _, op := range c.Finish {
			if j, err := v.Pending(op.ID); err == nil {
				ch.Gone = append(ch.Gone, j)
			}
		}
		out.err = v.FinishAll(c.Finish)
		if out.err != nil {
			ch.Gone = nil
		}
	case opRequeue:
		out.job, out.err = v.Requeue(c.ID, c.Now)
		if out.err == nil {
			ch.Pending = []*store.Job{out.job}
		}
	case opDelete:
		j, gerr := v.Pending(c.ID)
		out.err = v.Delete(c.ID)
		if out.err == nil && gerr == nil {
			ch.Gone = []*store.Job{j}
		}
	case opPrune:
		out.n, out.err = v.Prune(c.Now, c.MaxAge, c.MaxCount, c.DedupWindow)
	case opPruneAlerts:
		out.n, out.err = v.PruneAlerts(c.Cutoff)
	case opWatchdog:
		if c.Watchdog == nil {
			return outcome{err: errors.New("store: watchdog write without a state")}, ch
		}
		out.err = v.SaveWatchdogState(*c.Watchdog)
	case opRefs:
		if c.Refs == nil {
			return outcome{err: errors.New("store: message record write without a record")}, ch
		}
		out.err = v.SaveMessageRefs(c.Target, c.GroupKey, *c.Refs)
	case opPruneRefs:
		out.n, out.err = v.PruneMessageRefs(c.Now)
	default:
		out.err = fmt.Errorf("%w: unknown log operation %q (written by a newer bridge?)", errDiverge, c.Op)
	}
	return out, ch
}

// write publishes one command and returns what applying it returned.
// msgID, when set, is JetStream's Nats-Msg-Id: a second write with the
// same id within the duplicate window is not stored, and dup is true.
func (e *Engine) write(c *command, body []byte, msgID string) (out outcome, dup bool, err error) {
	if e.closed.Load() {
		return outcome{}, false, store.ErrClosed
	}
	if err := e.brokenErr(); err != nil {
		return outcome{}, false, err
	}
	data, err := encode(c, body)
	if err != nil {
		return outcome{}, false, err
	}
	if limit := e.nc.MaxPayload(); limit > 0 && int64(len(data)) > limit {
		return outcome{}, false, fmt.Errorf("%w: %d bytes, over the NATS servers' max_payload of %d; raise max_payload in their configuration", store.ErrTooLarge, len(data), limit)
	}
	id := nuid.Next()
	w := &waiter{out: make(chan outcome, 1)}
	e.mu.Lock()
	e.waiters[id] = w
	e.mu.Unlock()
	// giveUp drops the waiter unless the write is being applied; then
	// its outcome comes for certain, and is taken.
	giveUp := func() (outcome, bool) {
		e.mu.Lock()
		_, waiting := e.waiters[id]
		delete(e.waiters, id)
		e.mu.Unlock()
		if waiting {
			return outcome{}, false
		}
		return <-w.out, true
	}
	msg := &nats.Msg{Subject: e.subject, Data: data, Header: nats.Header{}}
	msg.Header.Set(headerCommand, id)
	msg.Header.Set(headerOrigin, e.origin)
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.PublishTimeout)
	defer cancel()
	var popts []jetstream.PublishOpt
	if msgID != "" {
		popts = append(popts, jetstream.WithMsgID(msgID))
	}
	start := time.Now()
	ack, err := e.publish(ctx, msg, popts)
	e.observePublish(time.Since(start), err)
	e.failing.Store(err != nil)
	if err != nil {
		if out, ok := giveUp(); ok { // stored and applied after all
			return out, false, nil
		}
		return outcome{}, false, fmt.Errorf("%w: writing to %s: %v", ErrUnavailable, e.stream, err)
	}
	if ack.Duplicate {
		giveUp()
		// Stored before, by this bridge or another: wait until applied
		// here, so what follows reads it.
		if err := e.waitApplied(ctx, ack.Sequence); err != nil {
			return outcome{}, true, err
		}
		return outcome{}, true, nil
	}
	select {
	case out = <-w.out:
		return out, false, nil
	case <-ctx.Done():
		if out, ok := giveUp(); ok {
			return out, false, nil
		}
		if err := e.brokenErr(); err != nil {
			return outcome{}, false, err
		}
		return outcome{}, false, fmt.Errorf("%w: log position %d stored but not applied in %s", ErrUnavailable, ack.Sequence, e.opts.PublishTimeout)
	}
}

// errCodeMsgIDInProcess is JetStream's answer to a publish whose
// Nats-Msg-Id another publish still being replicated has: the copy of a
// notification another bridge is storing at this moment.
const errCodeMsgIDInProcess = 10158

// publish publishes msg; a copy whose twin is still being stored is
// published again until JetStream says what became of the twin.
func (e *Engine) publish(ctx context.Context, msg *nats.Msg, opts []jetstream.PublishOpt) (*jetstream.PubAck, error) {
	wait := 2 * time.Millisecond
	for {
		ack, err := e.js.PublishMsg(ctx, msg, opts...)
		var apiErr *jetstream.APIError
		if err == nil || !errors.As(err, &apiErr) || apiErr.ErrorCode != errCodeMsgIDInProcess {
			return ack, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
		wait = min(2*wait, 100*time.Millisecond)
	}
}

func (e *Engine) brokenErr() error {
	if p := e.broken.Load(); p != nil {
		return *p
	}
	return nil
}

// Follow implements store.Follower.
func (e *Engine) Follow(fn func(store.Change)) {
	e.mu.Lock()
	e.follow = fn
	e.mu.Unlock()
}

// Writable implements store.Engine: the connection is up, a replicated
// write is acknowledged when the last one was not, and the view follows
// the log.
func (e *Engine) Writable() error {
	if e.closed.Load() {
		return store.ErrClosed
	}
	if err := e.brokenErr(); err != nil {
		return err
	}
	if !e.nc.IsConnected() {
		return fmt.Errorf("%w: not connected (%s)", ErrUnavailable, e.nc.Status())
	}
	if e.failing.Load() {
		// Connected, but the last write was not acknowledged (no quorum,
		// no leader): ready again once a replicated write is, a probe
		// key in the claims bucket (replicated as the log is; it
		// expires with the claims).
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := e.claims.Put(ctx, "probe."+e.origin, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return fmt.Errorf("%w: the last write was not acknowledged, nor is a probe now: %v", ErrUnavailable, err)
		}
		e.failing.Store(false)
	}
	return e.v().Writable()
}

// Close implements store.Engine: it stops following the log and drops
// the view. The connection stays open.
func (e *Engine) Close() error {
	if e.closed.Swap(true) {
		return nil
	}
	e.stopConsumer()
	e.endLife()
	e.background.Wait()
	e.stopConsumer() // one a rebuild started meanwhile
	return e.v().Close()
}

// v is this bridge's view.
func (e *Engine) v() *store.DB { return e.viewP.Load() }

func (e *Engine) stopConsumer() {
	e.consMu.Lock()
	cc := e.consumer
	e.consumer = nil
	e.consMu.Unlock()
	if cc != nil {
		cc.Stop()
		<-cc.Closed()
	}
}

// startRebuild rebuilds the view in the background (once at a time): the
// log was purged past it, so it restores the newest snapshot, in the
// other view folder, follows the log from there and swaps the views.
// Meanwhile writes fail (503) and the claims are given up; reads answer
// from the old view.
func (e *Engine) startRebuild() {
	if e.closed.Load() || !e.rebuilding.CompareAndSwap(false, true) {
		return
	}
	e.background.Add(1)
	go func() {
		defer e.background.Done()
		defer e.rebuilding.Store(false)
		wait := time.Second
		for !e.closed.Load() {
			err := e.rebuild()
			if err == nil {
				return
			}
			e.errorf("rebuilding the view: %v; trying again in %s", err, wait)
			select {
			case <-e.life.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, 30*time.Second)
		}
	}()
}

func (e *Engine) rebuild() error {
	e.stopConsumer() // from another goroutine than the consumer's own
	ctx, cancel := context.WithTimeout(e.life, 5*time.Minute)
	defer cancel()
	// The other folder than the open view's, whatever earlier tries did.
	view, seq, err := e.restore(ctx, e.gen+1)
	if err != nil {
		return err
	}
	e.gen++
	old := e.v()
	e.viewP.Store(view)
	e.applied.Store(seq)
	e.broken.Store(nil)
	if err := e.startConsumer(ctx); err != nil {
		err := fmt.Errorf("jetstream engine: following the log after a rebuild: %w", err)
		e.broken.Store(&err)
		return err
	}
	old.Close()
	e.logf("view rebuilt from the snapshot of log position %d", seq)
	e.mu.Lock()
	follow := e.follow
	e.mu.Unlock()
	if follow != nil {
		follow(store.Change{Reset: true})
	}
	return nil
}

// Applied is the log position this bridge's view has applied.
func (e *Engine) Applied() uint64 { return e.applied.Load() }

// Origin identifies this engine in the log (and in claims).
func (e *Engine) Origin() string { return e.origin }

func (e *Engine) logf(format string, args ...any) {
	if e.opts.Logf != nil {
		e.opts.Logf(format, args...)
	}
}

func (e *Engine) errorf(format string, args ...any) {
	if e.opts.Errorf != nil {
		e.opts.Errorf(format, args...)
	}
}

// seqString formats a log position for a header or key.
func seqString(n uint64) string { return strconv.FormatUint(n, 10) }
