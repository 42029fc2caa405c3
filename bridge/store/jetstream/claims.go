package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Claimer spreads the targets over the bridges sharing the engine: each
// target is delivered by the one bridge holding its claim, a key in the
// claims bucket that expires unless renewed. Each bridge announces itself
// in the bucket (with the log position it applied); a target goes to the
// live bridge that rendezvous hashing picks for it, so targets spread
// evenly and move as little as possible when a bridge comes or goes.
//
// A claim is owned (Owns) only while it was renewed less than the TTL
// ago by this bridge's clock, so a bridge that cannot renew (it lost
// NATS, it was paused) stops delivering before another bridge can take
// the target. A claim being given up stays renewed until the target's
// attempts in flight have ended, so the next owner never overlaps them.
// A bridge whose view broke gives every claim up and stops announcing
// itself.
type Claimer struct {
	e    *Engine
	kv   jetstream.KeyValue
	self string
	ttl  time.Duration

	targets func() []string
	gain    func(target string)
	lose    func(ctx context.Context, target string)

	mu      sync.Mutex
	held    map[string]*claim
	changes int64
	// kvMu orders the writes of one claim's key (renewals, the delete
	// that releases it), so a release deletes the revision last renewed.
	kvMu sync.Mutex

	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	releases sync.WaitGroup
}

// claim is one target's claim as this bridge holds it.
type claim struct {
	rev uint64
	// until is when the claim lapses unless renewed (local clock): the
	// renewal's start plus the TTL.
	until time.Time
	// releasing: being given up; renewed, not owned.
	releasing bool
}

// ClaimHooks tell the bridge about its claims. Gain is called after a
// claim was won and the view has applied the log up to then; Lose when
// one is given up or lost, and returns once the target's attempts in
// flight have ended (or its ctx ended: an error then).
type ClaimHooks struct {
	Targets func() []string
	Gain    func(target string)
	Lose    func(ctx context.Context, target string) error
}

// Claims starts claiming targets for this bridge; Stop ends it.
func (e *Engine) Claims(h ClaimHooks) *Claimer {
	c := &Claimer{e: e, kv: e.claims, self: e.origin, ttl: e.opts.ClaimTTL, targets: h.Targets,
		gain: h.Gain, held: map[string]*claim{}, stop: make(chan struct{}), done: make(chan struct{})}
	c.lose = func(ctx context.Context, t string) {
		if err := h.Lose(ctx, t); err != nil {
			e.errorf("claims: target %q given up before its attempts ended: %v", t, err)
		}
	}
	go c.run()
	return c
}

// Owns reports whether this bridge delivers for target now.
func (c *Claimer) Owns(target string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl, ok := c.held[target]
	return ok && !cl.releasing && time.Now().Before(cl.until)
}

// Held returns how many targets this bridge owns and how often a claim
// was won or lost.
func (c *Claimer) Held() (held int, changes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := time.Now()
	for _, cl := range c.held {
		if !cl.releasing && now.Before(cl.until) {
			held++
		}
	}
	return held, c.changes
}

// Stop gives every claim up, waiting for the targets' attempts until ctx
// ends, so the other bridges take the targets at once, and stops. Later
// calls do nothing.
func (c *Claimer) Stop(ctx context.Context) {
	c.stopOnce.Do(func() {
		close(c.stop)
		<-c.done
		c.mu.Lock()
		var ts []string
		for t, cl := range c.held {
			if !cl.releasing {
				ts = append(ts, t)
			}
		}
		c.mu.Unlock()
		var wg sync.WaitGroup
		for _, t := range ts {
			wg.Add(1)
			go func() { defer wg.Done(); c.release(ctx, t) }()
		}
		wg.Wait()
		c.releases.Wait()
		dctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.kv.Delete(dctx, memberKey(c.self))
	})
}

func (c *Claimer) run() {
	defer close(c.done)
	t := time.NewTicker(c.ttl / 3)
	defer t.Stop()
	for {
		c.tick()
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
	}
}

// tick announces this bridge, renews its claims, gives up the targets
// another live bridge should have, and claims those it should have.
func (c *Claimer) tick() {
	if err := c.e.brokenErr(); err != nil {
		c.dropAll("this bridge's view of the store broke: " + err.Error())
		ctx, cancel := context.WithTimeout(context.Background(), c.ttl/3)
		defer cancel()
		_ = c.kv.Delete(ctx, memberKey(c.self))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.ttl/3)
	defer cancel()
	if _, err := c.kv.Put(ctx, memberKey(c.self), []byte(strconv.FormatUint(c.e.Applied(), 10))); err != nil {
		c.e.errorf("claims: announcing this bridge: %v", err)
		c.renewAll(ctx) // the claims lapse by themselves if this goes on
		return
	}
	members, err := c.members(ctx)
	if err != nil {
		c.e.errorf("claims: listing the bridges: %v", err)
		c.renewAll(ctx)
		return
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	want := map[string]bool{}
	for _, t := range c.targets() {
		want[t] = true
	}
	c.mu.Lock()
	var mine []string
	for t, cl := range c.held {
		if !cl.releasing && (!want[t] || pick(ids, t) != c.self) {
			cl.releasing = true
			c.changes++
			c.releases.Add(1)
			go func() { defer c.releases.Done(); c.release(context.Background(), t) }()
		}
		mine = append(mine, t)
	}
	c.mu.Unlock()
	c.renewAll(ctx)
	for t := range want {
		if pick(ids, t) != c.self || slices.Contains(mine, t) {
			continue
		}
		c.take(ctx, t)
	}
}

// take claims t: the key first, then the view caught up to it, and only
// then is t owned and handed to the queue, so the queue reads the jobs as
// they are now, not as an older view had them.
func (c *Claimer) take(ctx context.Context, t string) {
	start := time.Now()
	rev, err := c.kv.Create(ctx, claimKey(t), []byte(c.self))
	if err != nil {
		return // held by another bridge until it gives it up or it lapses
	}
	if err := c.e.Sync(ctx); err != nil {
		c.e.errorf("claims: catching up before delivering for %q: %v; leaving it", t, err)
		dctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_ = c.kv.Delete(dctx, claimKey(t), jetstream.LastRevision(rev))
		return
	}
	c.mu.Lock()
	c.held[t] = &claim{rev: rev, until: start.Add(c.ttl)}
	c.changes++
	c.mu.Unlock()
	c.gain(t)
}

// renewAll renews every claim held (those being given up too). A claim
// whose renewal fails because another bridge has it now is dropped; one
// that fails for lack of NATS lapses by itself (Owns turns false).
func (c *Claimer) renewAll(ctx context.Context) {
	c.mu.Lock()
	held := make(map[string]claim, len(c.held))
	for t, cl := range c.held {
		held[t] = *cl
	}
	c.mu.Unlock()
	type lapse struct {
		t   string
		rev uint64
	}
	var lapsed []lapse
	defer func() { // after the loop: forgetting waits for attempts
		for _, l := range lapsed {
			c.forget(l.t, l.rev)
		}
	}()
	for t := range held {
		c.kvMu.Lock()
		c.mu.Lock()
		cur, still := c.held[t]
		var cl claim
		if still {
			cl = *cur
		}
		c.mu.Unlock()
		if !still { // released meanwhile
			c.kvMu.Unlock()
			continue
		}
		start := time.Now()
		rev, err := c.kv.Update(ctx, claimKey(t), []byte(c.self), cl.rev)
		var apiErr *jetstream.APIError
		switch {
		case err == nil:
			c.mu.Lock()
			if cur, ok := c.held[t]; ok && cur.rev == cl.rev {
				cur.rev, cur.until = rev, start.Add(c.ttl)
			}
			c.mu.Unlock()
		case errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence,
			errors.Is(err, jetstream.ErrKeyNotFound), errors.Is(err, jetstream.ErrKeyDeleted):
			c.e.errorf("claims: the claim of target %q lapsed; another bridge delivers for it", t)
			lapsed = append(lapsed, lapse{t, cl.rev})
		default:
			c.e.errorf("claims: renewing the claim of target %q: %v", t, err)
			if !cl.releasing && time.Now().After(cl.until) {
				lapsed = append(lapsed, lapse{t, cl.rev})
			}
		}
		c.kvMu.Unlock()
	}
}

// forget drops a claim that is no longer this bridge's and stops
// delivering for the target.
func (c *Claimer) forget(t string, rev uint64) {
	c.mu.Lock()
	cl, ok := c.held[t]
	if !ok || cl.rev != rev {
		c.mu.Unlock()
		return
	}
	delete(c.held, t)
	releasing := cl.releasing
	if !releasing {
		c.changes++
	}
	c.mu.Unlock()
	if !releasing {
		ctx, cancel := context.WithTimeout(context.Background(), c.ttl)
		defer cancel()
		c.lose(ctx, t)
	}
}

// release stops delivering for t and, once its attempts have ended (the
// claim renewed meanwhile), deletes the claim so the bridge that should
// have it takes it at once.
func (c *Claimer) release(ctx context.Context, t string) {
	c.mu.Lock()
	if cl, ok := c.held[t]; ok {
		cl.releasing = true
	}
	c.mu.Unlock()
	c.lose(ctx, t)
	c.kvMu.Lock()
	defer c.kvMu.Unlock()
	c.mu.Lock()
	cl, ok := c.held[t]
	delete(c.held, t)
	c.mu.Unlock()
	if !ok {
		return
	}
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.kv.Delete(dctx, claimKey(t), jetstream.LastRevision(cl.rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		c.e.logf("claims: releasing target %q: %v (it lapses instead)", t, err)
	}
}

// dropAll stops delivering for every target at once (without waiting).
func (c *Claimer) dropAll(why string) {
	c.mu.Lock()
	var ts []string
	for t, cl := range c.held {
		if !cl.releasing {
			ts = append(ts, t)
		}
		delete(c.held, t)
	}
	c.changes += int64(len(ts))
	c.mu.Unlock()
	for _, t := range ts {
		c.e.errorf("claims: stopped delivering for target %q: %s", t, why)
		ctx, cancel := context.WithTimeout(context.Background(), c.ttl)
		c.lose(ctx, t)
		cancel()
	}
}

// members returns the live bridges and the log position each applied.
func (c *Claimer) members(ctx context.Context) (map[string]uint64, error) {
	return listMembers(ctx, c.kv, c.self, c.e.Applied())
}

// listMembers reads the members' keys; self is counted even before its
// first announcement is visible.
func listMembers(ctx context.Context, kv jetstream.KeyValue, self string, applied uint64) (map[string]uint64, error) {
	out := map[string]uint64{self: applied}
	lister, err := kv.ListKeysFiltered(ctx, memberPrefix+">")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return out, nil
		}
		return nil, err
	}
	for k := range lister.Keys() {
		id := strings.TrimPrefix(k, memberPrefix)
		if id == self {
			continue
		}
		v, err := kv.Get(ctx, k)
		if err != nil {
			continue // gone meanwhile
		}
		n, _ := strconv.ParseUint(string(v.Value()), 10, 64)
		out[id] = n
	}
	return out, nil
}

const memberPrefix = "member."

func memberKey(id string) string { return memberPrefix + id }

// claimKey is a target's key: target names may hold characters keys
// cannot.
func claimKey(target string) string {
	h := sha256.Sum256([]byte(target))
	return "target." + hex.EncodeToString(h[:16])
}

// pick is the member rendezvous hashing gives target to.
func pick(members []string, target string) string {
	best, bestScore := "", uint64(0)
	for _, m := range members {
		h := fnv.New64a()
		h.Write([]byte(m))
		h.Write([]byte{0})
		h.Write([]byte(target))
		if s := h.Sum64(); best == "" || s > bestScore || (s == bestScore && m < best) {
			best, bestScore = m, s
		}
	}
	return best
}
