// Package bridge is the alertbridge application: it owns the store, the
// delivery queue and the current runtime (everything built from the config
// file), serves HTTP, and swaps in a new runtime on reload.
package bridge

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/metrics"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/queue"
	"github.com/alertbridge/alertbridge/bridge/route"
	"github.com/alertbridge/alertbridge/bridge/server"
	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/watchdog"
)

// Options configure an App.
type Options struct {
	ConfigFile   string
	StoragePath  string
	MaxBodyBytes int64
	// MaxAlerts limits the alerts of one notification (413 beyond it);
	// DecodeBudget bounds the memory of the webhook requests decoded at
	// once. Zero means the server package's defaults (server.MaxAlerts,
	// server.DecodeBudget).
	MaxAlerts    int
	DecodeBudget int64
	Logger       *zap.Logger
	// Version goes into the User-Agent.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// WebConfigFile is an exporter-toolkit web configuration (TLS, basic
	// auth); empty means plain HTTP.
	WebConfigFile string
	// DeliveredRetention and DeliveredMax bound the delivered history.
	DeliveredRetention time.Duration
	DeliveredMax       int
	// MessageRetention is how long the messages a resolved group posted
	// are remembered for update in place (a firing group's are kept for
	// global.alert_retention after its last notification); zero means
	// DefaultMessageRetention.
	MessageRetention time.Duration

	// EnableAdminAPI, EnableLifecycle and EnablePprof switch on the
	// admin, lifecycle and debug endpoints (see server.Class); off, they
	// answer 403.
	EnableAdminAPI, EnableLifecycle, EnablePprof bool
	// AllowedHosts, when not empty, are the Host names served (see
	// server.Access).
	AllowedHosts []string
	// HTTP server limits; zero means the Default* values of serve.go.
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	MaxConnections                                            int
	// RoutePrefix serves every endpoint under a path ("/alertbridge"), as
	// --web.route-prefix does; empty or "/" serves at the root.
	// ExternalURL is the URL people reach the bridge at; the console's
	// links and redirects start with its path. Empty means the route
	// prefix.
	RoutePrefix, ExternalURL string
	// WatchdogInterval is how often the watchdog checks its heartbeat
	// (it also checks right after each heartbeat); zero means
	// DefaultWatchdogInterval.
	WatchdogInterval time.Duration
	// TargetFilesPollInterval is how often the target_files globs are
	// checked for changes, which reload the configuration; zero means
	// DefaultTargetFilesPollInterval, negative never (SIGHUP and
	// /-/reload still load them).
	TargetFilesPollInterval time.Duration
}

// App is a running bridge.
type App struct {
	opts Options
	log  *zap.Logger
	now  func() time.Time
	db   store.Engine
	// repl is the replicated engine's connection and claims; nil on the
	// embedded engine.
	repl *replicated
	// storage is the storage configuration the bridge started with.
	storage config.Storage
	queue   *queue.Durable
	sender  *notify.Sender

	rt       atomic.Pointer[runtime]
	creds    atomic.Pointer[credentials]
	web      *webConfig
	probe    readiness
	reloadMu sync.Mutex
	stopping atomic.Bool
	handler  http.Handler

	pruneStop sync.Once
	pruneDone chan struct{}

	health   health
	metrics  *metrics.Metrics
	watchdog *watchdog.Watchdog

	started time.Time
	reload  reloadState
}

// New loads the configuration, opens the store and starts the delivery
// queue. It fails if the configuration is invalid.
func New(opts Options) (*App, error) {
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MessageRetention <= 0 {
		opts.MessageRetention = DefaultMessageRetention
	}
	if opts.DeliveredRetention <= 0 {
		opts.DeliveredRetention = 24 * time.Hour
	}
	if opts.DeliveredMax <= 0 {
		opts.DeliveredMax = 10000
	}
	a := &App{
		opts:   opts,
		log:    opts.Logger,
		now:    opts.Now,
		sender: &notify.Sender{UserAgent: userAgent(opts.Version)},
	}
	cfg, err := config.Load(opts.ConfigFile)
	if err != nil {
		return nil, err
	}
	if a.web, err = loadWebConfig(opts.WebConfigFile, cfg.Inbound.Configured(), a.log); err != nil {
		return nil, err
	}
	if err := checkCredentials(cfg, a.web.users()); err != nil {
		return nil, err
	}
	a.creds.Store(newCredentials(cfg, a.log))
	db, pebble, repl, err := a.openEngine(cfg)
	if err != nil {
		return nil, err
	}
	a.db, a.repl = db, repl
	a.storage = cfg.Storage
	rt, err := buildRuntimeSkipping(cfg, a.sender.UserAgent, a.now)
	if err != nil {
		a.closeStore()
		return nil, err
	}
	a.rt.Store(rt)
	a.metrics = metrics.New(a.laneStats)
	if repl != nil {
		a.metrics.Registry.MustRegister(newNATSCollector(repl), repl.publish)
	}
	a.metrics.ReloadSuccess.Set(1)
	a.metrics.ReloadTime.SetToCurrentTime()
	a.reportTargetFiles(cfg)
	a.queue = queue.NewDurable(a.db, a)
	if repl != nil {
		a.followFleet(repl)
	}
	n, err := a.queue.Resume()
	if err != nil {
		a.closeStore()
		return nil, fmt.Errorf("resuming queued deliveries: %w", err)
	}
	if err := a.startWatchdog(rt); err != nil {
		_ = a.queue.Close(context.Background())
		a.closeStore()
		return nil, err
	}
	if repl != nil {
		repl.watchdog.Store(a.watchdog)
		a.startClaims(repl)
	}
	if n > 0 {
		a.log.Info("resumed queued deliveries", zap.Int("jobs", n))
	}
	// Open verified every job; the payloads' values are read now, in the
	// background, so a large backlog does not delay the start.
	go func() {
		if pebble == nil {
			return // the replicated engine's view is rebuilt, not read from disk
		}
		if err := pebble.VerifyValues(); err != nil {
			a.log.Error("store damaged: some queued notifications cannot be read; run `alertbridge store check` with the bridge stopped, then `alertbridge store salvage`",
				zap.String("storage_path", opts.StoragePath), zap.Error(err))
		}
	}()
	a.started = a.now()
	a.reload.set(a.started, nil)
	a.handler = a.web.wrap(server.New(a, a.log, opts.MaxBodyBytes, a.metrics,
		server.MaxAlerts(opts.MaxAlerts), server.DecodeBudget(opts.DecodeBudget),
		server.WithAccess(server.Access{Admin: opts.EnableAdminAPI, Lifecycle: opts.EnableLifecycle, Debug: opts.EnablePprof, AllowedHosts: opts.AllowedHosts}),
		server.WithRoutePrefix(opts.RoutePrefix),
		server.WithRoutes(a.console().Routes()...), server.WithRoutes(a.watchdogRoute())))
	a.warnOpenClasses()
	a.pruneDone = make(chan struct{})
	go a.pruneLoop()
	go a.watchTargetFiles(a.pruneDone)
	a.log.Info("configuration loaded", zap.String("file", opts.ConfigFile), zap.Int("targets", len(cfg.Targets)))
	return a, nil
}

func userAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "alertbridge/" + version
}

// Handler is the HTTP handler of the bridge.
func (a *App) Handler() http.Handler { return a.handler }

// Reload builds a new runtime from the config file and swaps it in. On
// error the current runtime keeps serving.
func (a *App) Reload() error {
	a.reloadMu.Lock()
	defer a.reloadMu.Unlock()
	err := a.doReload()
	a.reload.set(a.now(), err)
	return err
}

func (a *App) doReload() error {
	cfg, err := config.Load(a.opts.ConfigFile)
	if err != nil {
		a.log.Error("reload failed; keeping the current configuration", zap.Error(err))
		a.metrics.ReloadSuccess.Set(0)
		return err
	}
	if err := checkCredentials(cfg, a.web.users()); err != nil {
		a.log.Error("reload failed; keeping the current configuration", zap.Error(err))
		a.metrics.ReloadSuccess.Set(0)
		return err
	}
	if !reflect.DeepEqual(cfg.Storage, a.storage) {
		err := errors.New("storage: changed; the storage engine is chosen at start, so this takes a restart")
		a.log.Error("reload failed; keeping the current configuration", zap.Error(err))
		a.metrics.ReloadSuccess.Set(0)
		return err
	}
	rt, err := buildRuntimeSkipping(cfg, a.sender.UserAgent, a.now)
	if err != nil {
		a.log.Error("reload failed; keeping the current configuration", zap.Error(err))
		a.metrics.ReloadSuccess.Set(0)
		return err
	}
	a.creds.Store(newCredentials(cfg, a.log))
	a.metrics.ReloadSuccess.Set(1)
	a.metrics.ReloadTime.SetToCurrentTime()
	old := a.rt.Swap(rt)
	old.close()
	a.watchdog.Configure(watchdogConfig(cfg))
	a.reportTargetFiles(cfg)
	for name := range old.targets {
		if _, kept := rt.targets[name]; !kept {
			a.queue.Removed(name)
		}
	}
	a.log.Info("configuration reloaded", zap.Int("targets", len(cfg.Targets)))
	return nil
}

// Accept implements server.Backend: it normalizes msg, routes it, and
// hands one job per selected target to the queue.
func (a *App) Accept(msg *alert.Message, target string) (*server.Accepted, error) {
	acc, err := a.accept(msg, target, false)
	if err != nil {
		return nil, err
	}
	return &acc.Accepted, nil
}

// accepted is an acceptance with the ids of the jobs it created.
type accepted struct {
	server.Accepted
	jobs []uint64
}

// accept routes and persists msg; test marks the jobs of a test send.
func (a *App) accept(msg *alert.Message, target string, test bool) (*accepted, error) {
	if a.stopping.Load() {
		return nil, server.ErrShuttingDown
	}
	rt := a.rt.Load()
	// A target named in the path gets the group whatever its matchers say;
	// a disabled one accepts and drops it (the user switched it off).
	var selected []*route.Target
	if target != "" {
		t, ok := rt.router.Lookup(target)
		if !ok {
			return nil, server.ErrUnknownTarget
		}
		if t.Enabled {
			selected = []*route.Target{t}
		}
	}
	now := a.now()
	acc := &accepted{Accepted: server.Accepted{GroupKey: msg.GroupKey, Targets: []string{}}}
	// Counters are the store's: the group is built without them, and the
	// store stamps them in when it commits the notification.
	g := rt.builder.BuildSeen(msg, now, nil)
	targets := selected
	if target == "" {
		targets = rt.router.Select(g)
	}
	var jobs []store.NewJob
	for _, t := range targets {
		if view := t.View(g); view != nil {
			jobs = append(jobs, store.NewJob{Job: &store.Job{Target: t.Name, GroupKey: g.GroupKey, Test: test}, Group: view})
			acc.Targets = append(acc.Targets, t.Name)
		}
	}
	// The whole group goes to the alert center: alerts no target took are
	// recorded too, without deliveries.
	body, err := msg.Body()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrUnavailable, err)
	}
	res, err := a.queue.Accept(store.AcceptRequest{
		DedupKey:    target + "\x00" + msg.DedupKey(),
		DedupWindow: time.Duration(rt.cfg.Global.DedupWindow),
		Now:         now,
		Group:       g,
		Jobs:        jobs,
		Location:    rt.builder.Zone(),
		Body:        body,
		Test:        test,
	})
	if errors.Is(err, store.ErrTooLarge) {
		return nil, fmt.Errorf("%w: %v", server.ErrTooLarge, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", server.ErrUnavailable, err)
	}
	// The heartbeat counts once the notification is on disk; a duplicate
	// (an HA peer's copy) shows the pipeline alive as well.
	a.watchdog.Observe(msg.Alerts, now)
	if res.Duplicate {
		acc.Duplicate = true
		acc.Targets = []string{}
		// Info, not debug: an operator who wonders why a notification
		// was not delivered finds it here (and counts them with
		// alertbridge_notifications_total{result="duplicate"}).
		a.log.Info("duplicate notification ignored: the same one was accepted within dedup_window",
			zap.String("group_key", msg.GroupKey), zap.String("path_target", target),
			zap.Duration("dedup_window", time.Duration(rt.cfg.Global.DedupWindow)))
		return acc, nil
	}
	for _, j := range res.Jobs {
		acc.jobs = append(acc.jobs, j.ID)
	}
	if len(acc.Targets) == 0 {
		a.log.Info("no target selected the notification", zap.String("group_key", msg.GroupKey), zap.String("path_target", target))
	}
	a.log.Debug("notification accepted", zap.String("group_key", msg.GroupKey),
		zap.Int("alerts", len(msg.Alerts)), zap.Strings("targets", acc.Targets), zap.Int("superseded", len(res.Superseded)))
	return acc, nil
}

// Rebuild implements queue.Deliverer: the group a job of target delivers,
// from its stored notification, as the acceptance built it (normalized
// with the counters it was accepted with, then the target's view), with
// the configuration in force now.
func (a *App) Rebuild(target string, n *store.Notification) (*alert.Group, error) {
	rt := a.rt.Load()
	t, ok := rt.router.Lookup(target)
	if !ok {
		return nil, fmt.Errorf("target %q no longer exists", target)
	}
	msg, err := alert.Decode(bytes.NewReader(n.Body))
	if err != nil {
		return nil, fmt.Errorf("stored notification: %w", err)
	}
	view := t.View(rt.builder.BuildSeen(msg, n.ReceivedAt, n.Seen))
	if view == nil {
		return nil, fmt.Errorf("target %q takes none of the notification's alerts now", target)
	}
	return view, nil
}

// Policy implements queue.Deliverer.
func (a *App) Policy(target string) (queue.Policy, bool) {
	t, ok := a.rt.Load().targets[target]
	if !ok {
		return queue.Policy{}, false
	}
	return t.policy, true
}

// Attempt implements queue.Deliverer.
func (a *App) Attempt(ctx context.Context, job *queue.Job) notify.Result {
	t, ok := a.rt.Load().targets[job.Target]
	if !ok {
		return notify.Failed(notify.ReasonTargetRemoved, "target removed")
	}
	start := time.Now()
	at := notify.Attempt{Skip: job.Sent, Pace: job.Pace, Timeout: job.Timeout, Redact: t.redact}
	mode := updateMode(t.notifier)
	var (
		prev   store.MessageRefs
		usable bool
	)
	if mode != notify.UpdateNew {
		if prev, usable = a.messageRefs(job); usable {
			at.Refs = prev.Refs
		}
	}
	res := a.sender.Deliver(ctx, t.client, t.notifier, job.Group, at)
	if mode != notify.UpdateNew {
		a.saveMessageRefs(job, mode, prev, usable, res)
	}
	a.metrics.AttemptDuration.WithLabelValues(t.name, t.typ).Observe(time.Since(start).Seconds())
	if res.Verdict != notify.Delivered {
		a.metrics.AttemptFailures.WithLabelValues(t.name, t.typ, string(res.Reason)).Inc()
	}
	a.health.record(job.Target, res, a.now())
	if res.Verdict == notify.Retry {
		a.log.Warn("delivery attempt failed", a.jobFields(job, job.Attempts+1, res)...)
	}
	return res
}

// Superseded implements queue.Deliverer.
func (a *App) Superseded(target string) {
	a.metrics.Superseded.WithLabelValues(target).Inc()
}

// BreakerChanged implements queue.Deliverer: one log line and one count
// per transition.
func (a *App) BreakerChanged(target string, t queue.Transition) {
	a.metrics.BreakerTransitions.WithLabelValues(target, string(t.To)).Inc()
	fields := []zap.Field{zap.String("target", target), zap.String("from", string(t.From)), zap.String("to", string(t.To)), zap.String("cause", t.Reason)}
	switch {
	case t.To == queue.BreakerOpen && t.From == queue.BreakerClosed:
		a.log.Warn("target circuit breaker opened: deliveries to it pause, one probe per second", fields...)
	case t.To == queue.BreakerClosed:
		a.log.Info("target circuit breaker closed: deliveries resume", fields...)
	default: // the probe cycle while the target stays down: once a second
		a.log.Debug("target circuit breaker "+string(t.To), fields...)
	}
}

// StoreError implements queue.Deliverer.
func (a *App) StoreError(job *queue.Job, op string, err error, retry time.Duration) {
	a.metrics.StoreErrors.WithLabelValues(job.Target, op).Inc()
	a.log.Error("could not record a delivery's state; it stays queued in memory and is tried again",
		zap.Uint64("delivery", job.ID), zap.String("target", job.Target), zap.String("group_key", job.GroupKey),
		zap.String("op", op), zap.Duration("retry_in", retry), zap.Error(err))
}

// laneStats feeds the queue metrics at scrape time.
func (a *App) laneStats() []metrics.LaneStats {
	rt := a.rt.Load()
	now := a.now()
	out := make([]metrics.LaneStats, 0, len(rt.cfg.Targets))
	for _, t := range rt.cfg.Targets {
		l := a.queue.Lane(t.Name)
		st := metrics.LaneStats{Target: t.Name, Depth: l.Depth, InFlight: l.InFlight, Breaker: string(l.Breaker)}
		if !l.Oldest.IsZero() {
			st.OldestAge = now.Sub(l.Oldest)
		}
		out = append(out, st)
	}
	return out
}

// Finished implements queue.Deliverer.
func (a *App) Finished(job *queue.Job, res notify.Result) {
	typ := "unknown"
	if t, ok := a.rt.Load().targets[job.Target]; ok {
		typ = t.typ
	}
	result := "dead"
	if res.Verdict == notify.Delivered {
		result = "delivered"
	}
	a.metrics.Deliveries.WithLabelValues(job.Target, typ, result).Inc()
	if res.Verdict == notify.Delivered {
		a.log.Debug("delivered", zap.String("target", job.Target), zap.String("group_key", job.GroupKey),
			zap.Int("attempts", job.Attempts), zap.Duration("latency", a.now().Sub(job.EnqueuedAt)))
		return
	}
	a.log.Error("delivery failed; kept as a dead letter", a.jobFields(job, job.Attempts, res)...)
}

func (a *App) jobFields(job *queue.Job, attempt int, res notify.Result) []zap.Field {
	return []zap.Field{
		zap.Uint64("delivery", job.ID), zap.String("target", job.Target), zap.String("group_key", job.GroupKey),
		zap.Int("attempt", attempt), zap.String("reason", string(res.Reason)),
		zap.Duration("retry_after", res.RetryAfter), zap.String("detail", res.Message),
	}
}

// Serve serves HTTP on l until ctx is cancelled, then shuts down: new
// requests get 503, in-flight requests finish, the queue drains until the
// grace period ends, and the store closes.
func (a *App) Serve(ctx context.Context, l net.Listener, grace time.Duration) error {
	srv, l := a.httpServer(l)
	errc := make(chan error, 1)
	go func() {
		errc <- a.web.serve(srv, l)
	}()
	select {
	case err := <-errc:
		a.shutdown(context.Background())
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	a.stopping.Store(true)
	herr := srv.Shutdown(sctx)
	return errors.Join(herr, a.shutdown(sctx))
}

// Close stops the queue and closes the store without serving.
func (a *App) Close(ctx context.Context) error {
	a.stopping.Store(true)
	return a.shutdown(ctx)
}

func (a *App) shutdown(ctx context.Context) error {
	a.pruneStop.Do(func() { close(a.pruneDone) })
	a.watchdog.Stop() // before the queue: no notice is queued after it closes
	if a.repl != nil {
		// The claims go first, each once its target's attempts ended, so
		// the other bridges take the targets over at once.
		a.repl.stop(ctx)
	}
	qerr := a.queue.Close(ctx)
	if qerr != nil {
		a.log.Warn("queue did not drain before the shutdown deadline", zap.Error(qerr))
	}
	a.rt.Load().close()
	return a.closeStore()
}

// closeStore closes the engine, then the NATS connection it used.
func (a *App) closeStore() error {
	err := a.db.Close()
	if a.repl != nil {
		a.repl.nc.Close()
	}
	return err
}

// pruneLoop bounds the delivered history, the dedup keys and the alert
// center (with the per-alert counters: global.alert_retention).
func (a *App) pruneLoop() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-a.pruneDone:
			return
		case <-t.C:
			if !a.leadsFleet() {
				continue // the bridge leading the fleet prunes the shared store
			}
			global := a.rt.Load().cfg.Global
			window := time.Duration(global.DedupWindow)
			if n, err := a.db.Prune(a.now(), a.opts.DeliveredRetention, a.opts.DeliveredMax, window); err != nil {
				a.log.Warn("pruning delivery history", zap.Error(err))
			} else if n > 0 {
				a.log.Debug("pruned delivery history", zap.Int("removed", n))
			}
			if n, err := a.db.PruneMessageRefs(a.now()); err != nil {
				a.log.Warn("pruning the messages kept for updates", zap.Error(err))
			} else if n > 0 {
				a.log.Debug("pruned the messages kept for updates", zap.Int("removed", n))
			}
			if n, err := a.db.PruneAlerts(a.now().Add(-time.Duration(global.AlertRetention))); err != nil {
				a.log.Warn("pruning alerts", zap.Error(err))
			} else if n > 0 {
				a.log.Debug("pruned alerts", zap.Int("removed", n))
			}
		}
	}
}

// ListDeliveries implements server.Deliveries.
func (a *App) ListDeliveries(state, target string, before uint64, limit int) ([]*store.Job, error) {
	return a.db.List(state, target, before, limit)
}

// RetryDelivery implements server.Deliveries.
func (a *App) RetryDelivery(id uint64) (*store.Job, error) { return a.queue.Retry(id) }

// DeleteDelivery implements server.Deliveries.
func (a *App) DeleteDelivery(id uint64) error { return a.queue.Delete(id) }

// ListAlerts implements server.Alerts.
func (a *App) ListAlerts(f store.AlertFilter, page store.AlertPage) ([]*store.AlertEntry, store.AlertCursor, error) {
	return a.db.Alerts(f, page)
}

// GetAlert implements server.Alerts.
func (a *App) GetAlert(id int64) (*store.AlertEntry, []*store.Job, error) { return a.db.Alert(id) }
