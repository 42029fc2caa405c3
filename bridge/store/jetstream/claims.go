package jetstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash/fnv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Claimer spreads the targets over the bridges sharing the engine: each
// target is delivered by the one bridge holding its claim, a key in the
// claims bucket that expires unless renewed. Each bridge announces itself
// in the bucket; a target goes to the live bridge that rendezvous hashing
// picks for it, so targets spread evenly and move as little as possible
// when a bridge comes or goes. A bridge that cannot renew a claim (it
// lost NATS, or was too slow) stops delivering for the target at once;
// one that dies loses its claims after the TTL, and the others take its
// targets over.
type Claimer struct {
	e    *Engine
	kv   jetstream.KeyValue
	self string
	ttl  time.Duration

	targets func() []string
	gain    func(target string)
	lose    func(ctx context.Context, target string)

	mu   sync.Mutex
	held map[string]uint64 // target -> revision of its claim

	changes int64
	stop    chan struct{}
	done    chan struct{}
}

// ClaimHooks tell the bridge about its claims. Gain is called after a
// claim was won and the view has applied the log up to then; Lose when
// one was given up or lost, and must return once the target's attempts in
// flight have ended (or its ctx ended).
type ClaimHooks struct {
	Targets func() []string
	Gain    func(target string)
	Lose    func(ctx context.Context, target string)
}

// Claims starts claiming targets for this bridge; Stop ends it.
func (e *Engine) Claims(h ClaimHooks) *Claimer {
	c := &Claimer{e: e, kv: e.claims, self: e.origin, ttl: e.opts.ClaimTTL, targets: h.Targets,
		gain: h.Gain, lose: h.Lose, held: map[string]uint64{}, stop: make(chan struct{}), done: make(chan struct{})}
	go c.run()
	return c
}

// Owns reports whether this bridge holds the claim of target.
func (c *Claimer) Owns(target string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.held[target]
	return ok
}

// Held returns how many targets this bridge holds and how often a claim
// was won or lost.
func (c *Claimer) Held() (held int, changes int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.held), c.changes
}

// Stop gives every claim up (waiting for attempts in flight until ctx
// ends) so the other bridges take the targets at once, and stops.
func (c *Claimer) Stop(ctx context.Context) {
	close(c.stop)
	<-c.done
	c.mu.Lock()
	held := make(map[string]uint64, len(c.held))
	for t, rev := range c.held {
		held[t] = rev
	}
	c.mu.Unlock()
	for t, rev := range held {
		c.giveUp(ctx, t, rev)
	}
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = c.kv.Delete(dctx, memberKey(c.self))
}

func (c *Claimer) run() {
	defer close(c.done)
	every := c.ttl / 3
	t := time.NewTicker(every)
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
	ctx, cancel := context.WithTimeout(context.Background(), c.ttl/3)
	defer cancel()
	if _, err := c.kv.Put(ctx, memberKey(c.self), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
		c.e.errorf("claims: announcing this bridge: %v", err)
		c.loseAll(ctx, "cannot reach NATS")
		return
	}
	members, err := c.members(ctx)
	if err != nil {
		c.e.errorf("claims: listing the bridges: %v", err)
		c.loseAll(ctx, "cannot reach NATS")
		return
	}
	want := map[string]bool{}
	for _, t := range c.targets() {
		want[t] = true
	}
	c.mu.Lock()
	held := make(map[string]uint64, len(c.held))
	for t, rev := range c.held {
		held[t] = rev
	}
	c.mu.Unlock()
	for t, rev := range held {
		if !want[t] || pick(members, t) != c.self {
			c.giveUp(ctx, t, rev)
			continue
		}
		nrev, err := c.kv.Update(ctx, claimKey(t), []byte(c.self), rev)
		if err != nil {
			c.e.errorf("claims: renewing the claim of target %q: %v; another bridge delivers for it", t, err)
			c.drop(ctx, t)
			continue
		}
		c.mu.Lock()
		c.held[t] = nrev
		c.mu.Unlock()
	}
	for t := range want {
		if _, ok := held[t]; ok || pick(members, t) != c.self {
			continue
		}
		rev, err := c.kv.Create(ctx, claimKey(t), []byte(c.self))
		if err != nil {
			continue // held by another bridge until it gives it up or it expires
		}
		c.mu.Lock()
		c.held[t] = rev
		c.changes++
		c.mu.Unlock()
		// Jobs accepted through other bridges up to the claim are in the
		// view before the queue reads them; later ones arrive through
		// Follow, now that Owns is true.
		if err := c.e.Sync(ctx); err != nil {
			c.e.errorf("claims: catching up before delivering for %q: %v", t, err)
		}
		c.gain(t)
	}
}

// giveUp stops delivering for t, waits for its attempts, then deletes the
// claim so the bridge that should have it takes it at once.
func (c *Claimer) giveUp(ctx context.Context, t string, rev uint64) {
	c.drop(ctx, t)
	dctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := c.kv.Delete(dctx, claimKey(t), jetstream.LastRevision(rev)); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		c.e.logf("claims: releasing target %q: %v (it expires instead)", t, err)
	}
}

// drop forgets the claim of t and stops delivering for it.
func (c *Claimer) drop(ctx context.Context, t string) {
	c.mu.Lock()
	_, ok := c.held[t]
	delete(c.held, t)
	if ok {
		c.changes++
	}
	c.mu.Unlock()
	if ok {
		c.lose(ctx, t)
	}
}

func (c *Claimer) loseAll(ctx context.Context, why string) {
	c.mu.Lock()
	var ts []string
	for t := range c.held {
		ts = append(ts, t)
	}
	c.mu.Unlock()
	for _, t := range ts {
		c.e.errorf("claims: stopped delivering for target %q: %s", t, why)
		c.drop(ctx, t)
	}
}

// members lists the live bridges.
func (c *Claimer) members(ctx context.Context) ([]string, error) {
	lister, err := c.kv.ListKeysFiltered(ctx, memberPrefix+">")
	if err != nil {
		if errors.Is(err, jetstream.ErrNoKeysFound) {
			return []string{c.self}, nil
		}
		return nil, err
	}
	var out []string
	for k := range lister.Keys() {
		out = append(out, strings.TrimPrefix(k, memberPrefix))
	}
	if len(out) == 0 {
		out = []string{c.self}
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
