package watchdog

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
	"go.uber.org/zap"
)

// Options connect a Watchdog to the bridge. Only Notify is required.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Load reads the stored state (false: none stored); nil: nothing is
	// stored. Save stores it; nil: not stored.
	Load func() (State, bool, error)
	Save func(State) error
	// Notify hands a notice to the delivery queue, for cfg's targets. An
	// error leaves the notice due: it is asked for again at the next
	// check.
	Notify func(cfg *Config, n Notice) error
	// Lead, when set, tells whether this bridge sends the notices now
	// (several bridges sharing one store: one leads). A bridge that does
	// not lead sends and stores nothing: each check takes the leader's
	// stored state, keeping the latest heartbeat it saw itself, so it
	// can take over where the leader stopped.
	Lead func() bool
	// Log gets one line per notice and per failure; nil: none.
	Log *zap.Logger
}

// Watchdog keeps the heartbeat's State across configuration reloads and
// decides the notices. Its methods are safe for concurrent use.
type Watchdog struct {
	o   Options
	cfg atomic.Pointer[Config]

	// check serializes Check, so a notice is sent once; mu guards st and
	// dirty (st changed since it was last saved).
	check sync.Mutex
	mu    sync.Mutex
	st    State
	dirty bool

	kick      chan struct{}
	stop      chan struct{}
	done      chan struct{}
	startOnce sync.Once
	stopOnce  sync.Once
}

// New reads the stored state. A watchdog starts off: Configure switches
// it on. An error means the stored state could not be read.
func New(o Options) (*Watchdog, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = zap.NewNop()
	}
	if o.Notify == nil {
		return nil, errors.New("watchdog: Notify is required")
	}
	w := &Watchdog{o: o, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	if o.Load != nil {
		st, ok, err := o.Load()
		if err != nil {
			return nil, err
		}
		if ok {
			w.st = st
		}
	}
	return w, nil
}

// Configure puts cfg in force, keeping the state (last heartbeat, a
// silence already reported); nil switches the watchdog off. A watchdog
// that never saw a heartbeat and has no clock yet starts it now.
func (w *Watchdog) Configure(cfg *Config) {
	if cfg != nil {
		w.mu.Lock()
		if w.st.Started.IsZero() {
			w.st.Started = w.o.Now()
			w.dirty = true
		}
		w.mu.Unlock()
	}
	w.cfg.Store(cfg)
	w.poke()
}

// Config is the configuration in force; nil when off.
func (w *Watchdog) Config() *Config { return w.cfg.Load() }

// Observe looks for the heartbeat among the alerts of a notification
// accepted at at: a firing alert that all matchers select. It only
// updates memory; the next check stores it and reports a recovery.
func (w *Watchdog) Observe(alerts template.Alerts, at time.Time) {
	cfg := w.cfg.Load()
	if cfg == nil || !heartbeat(cfg, alerts) {
		return
	}
	w.mu.Lock()
	w.st = w.st.Heartbeat(at)
	w.dirty = true
	w.mu.Unlock()
	w.poke()
}

func heartbeat(cfg *Config, alerts template.Alerts) bool {
	for _, a := range alerts {
		if a.Status != string(model.AlertFiring) {
			continue
		}
		ok := true
		for _, m := range cfg.Matchers {
			if !m.Matches(a.Labels[m.Name]) {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// poke asks the loop for a check soon.
func (w *Watchdog) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// State is a copy of the current state.
func (w *Watchdog) State() State {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}

// Check sends the notice due now, if any, and stores the state when it
// changed. It returns the kind of notice handed to Notify ("" for none).
// A failed Notify is logged and the notice stays due; a failed Save is
// logged and tried again at the next check.
func (w *Watchdog) Check() Kind {
	w.check.Lock()
	defer w.check.Unlock()
	cfg := w.cfg.Load()
	if w.o.Lead != nil && !w.o.Lead() {
		w.follow()
		return ""
	}
	if cfg == nil {
		w.save()
		return ""
	}
	now := w.o.Now()
	w.mu.Lock()
	n, due := w.st.Next(now, cfg.Timeout, cfg.Repeat)
	w.mu.Unlock()
	var sent Kind
	if due {
		if err := w.o.Notify(cfg, n); err != nil {
			w.o.Log.Error("watchdog notice could not be queued; trying again at the next check",
				zap.String("notice", string(n.Kind)), zap.Error(err))
		} else {
			w.mu.Lock()
			w.st = w.st.Sent(n)
			w.dirty = true
			w.mu.Unlock()
			w.logNotice(cfg, n)
			sent = n.Kind
		}
	}
	w.save()
	return sent
}

// follow takes the leader's stored state, keeping a later heartbeat seen
// here.
func (w *Watchdog) follow() {
	if w.o.Load == nil {
		return
	}
	st, ok, err := w.o.Load()
	if err != nil || !ok {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	local := w.st
	w.st = st
	if local.LastSeen.After(st.LastSeen) {
		w.st = w.st.Heartbeat(local.LastSeen)
	}
	if w.st.Started.IsZero() {
		w.st.Started = local.Started
	}
	w.dirty = false // the leader stores it; a follower never does
}

func (w *Watchdog) logNotice(cfg *Config, n Notice) {
	fields := []zap.Field{zap.String("matchers", cfg.Matchers.String()), zap.Time("since", n.Since),
		zap.Strings("targets", cfg.Targets), zap.Int("notice", n.Count)}
	switch n.Kind {
	case KindRecovered:
		w.o.Log.Info("alert pipeline recovered: the watchdog heartbeat is back", append(fields, zap.Time("heartbeat", n.LastSeen))...)
	default:
		w.o.Log.Warn("alert pipeline silent: no watchdog heartbeat within the timeout", append(fields, zap.Duration("timeout", cfg.Timeout))...)
	}
}

// save stores the state if it changed since the last save.
func (w *Watchdog) save() {
	w.mu.Lock()
	st, dirty := w.st, w.dirty
	w.dirty = false
	w.mu.Unlock()
	if !dirty || w.o.Save == nil || (w.o.Lead != nil && !w.o.Lead()) {
		return // a bridge that does not lead never stores the state
	}
	if err := w.o.Save(st); err != nil {
		w.mu.Lock()
		w.dirty = true
		w.mu.Unlock()
		w.o.Log.Error("watchdog state could not be stored; trying again at the next check", zap.Error(err))
	}
}

// Start runs checks every interval (and soon after each heartbeat or
// Configure) until Stop. Calls after the first do nothing.
func (w *Watchdog) Start(interval time.Duration) {
	if interval <= 0 {
		interval = time.Second
	}
	w.startOnce.Do(func() {
		go func() {
			defer close(w.done)
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-w.stop:
					return
				case <-t.C:
				case <-w.kick:
				}
				w.Check()
			}
		}()
	})
}

// Stop ends the loop started by Start, waiting for a check in progress,
// and stores the state once more. Safe to call more than once, and
// without Start.
func (w *Watchdog) Stop() {
	w.stopOnce.Do(func() {
		close(w.stop)
		started := true
		w.startOnce.Do(func() { started = false })
		if started {
			<-w.done
		}
		w.check.Lock()
		w.save()
		w.check.Unlock()
	})
}
