package bridge

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream"
	"github.com/alertbridge/alertbridge/bridge/watchdog"
)

// replicated is the NATS JetStream engine and what runs with it: the
// connection and the claims that spread targets over the bridges.
type replicated struct {
	nc     *nats.Conn
	engine *jetstream.Engine
	// claims spreads the targets (set once the claims start; read by
	// the queue and the watchdog, which run before).
	claims atomic.Pointer[jetstream.Claimer]
	// publish is the latency of JetStream's acknowledgements.
	publish prometheus.Histogram
	// watchdog is the App's, once it runs (the fleet's writes are
	// followed from before).
	watchdog atomic.Pointer[watchdog.Watchdog]
}

// openEngine opens the storage engine the configuration chooses: Pebble
// at the storage path, or the replicated engine (nil replicated for
// Pebble).
func (a *App) openEngine(cfg *config.Config) (store.Engine, *store.DB, *replicated, error) {
	logger := a.log.Named("store").Sugar()
	if cfg.Storage.Engine != config.EngineNATS {
		db, err := store.Open(a.opts.StoragePath, store.Options{Logf: logger.Debugf, Errorf: logger.Errorf})
		return db, db, nil, err
	}
	n := cfg.Storage.NATS
	nc, err := connectNATS(n, a.log.Named("nats"))
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	publish := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "alertbridge_nats_publish_duration_seconds",
		Help:    "Time from publishing a write to JetStream's acknowledgement (writes JetStream acknowledged).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	e, err := jetstream.Open(ctx, jetstream.Options{Conn: nc, Prefix: n.Prefix, Replicas: n.Replicas,
		DedupWindow: time.Duration(cfg.Global.DedupWindow), PublishTimeout: time.Duration(n.PublishTimeout),
		ClaimTTL: time.Duration(n.ClaimTTL), Logf: logger.Infof, Errorf: logger.Errorf,
		ViewDir: filepath.Join(a.opts.StoragePath, natsViewDir),
		OnPublish: func(d time.Duration, err error) {
			if err == nil {
				publish.Observe(d.Seconds())
			}
		}})
	if err != nil {
		nc.Close()
		return nil, nil, nil, fmt.Errorf("storage.engine nats (%s): %w", n.Redacted(), err)
	}
	if limit := nc.MaxPayload(); limit < recommendedMaxPayload {
		a.log.Warn("the NATS servers' max_payload is small: a notification whose stored form (about 2.5 times its body) exceeds it is refused with 413; set max_payload to 8MB on the servers",
			zap.Int64("max_payload", limit))
	}
	a.log.Info("storage on NATS JetStream", zap.String("servers", n.Redacted()), zap.String("prefix", n.Prefix),
		zap.Int("replicas", n.Replicas), zap.Uint64("log_position", e.Applied()))
	return e, nil, &replicated{nc: nc, engine: e, publish: publish}, nil
}

// natsViewDir is the folder under --storage.path that holds this
// bridge's view of the replicated store: emptied at start and rebuilt
// from NATS, so it needs no backup.
const natsViewDir = "nats-view"

// recommendedMaxPayload fits the stored form of a notification at the
// default body limit.
const recommendedMaxPayload = 8 << 20

// connectNATS connects with the configured credentials, reconnecting
// for ever once connected.
func connectNATS(n *config.NATSStorage, log *zap.Logger) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("alertbridge"),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(false),
		// No buffering while reconnecting: a write that cannot reach
		// NATS fails now (503 to Alertmanager) instead of being sent
		// later, after its caller was told it failed.
		nats.ReconnectBufSize(-1),
		nats.DisconnectErrHandler(func(c *nats.Conn, err error) {
			if c.IsClosed() {
				return // the bridge is stopping
			}
			log.Warn("disconnected from NATS", zap.Error(err))
		}),
		nats.ReconnectHandler(func(c *nats.Conn) {
			log.Info("reconnected to NATS", zap.String("server", c.ConnectedUrlRedacted()))
		}),
	}
	switch {
	case n.CredentialsFile != "":
		opts = append(opts, nats.UserCredentials(n.CredentialsFile))
	case n.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(n.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("storage.nats.nkey_seed_file: %w", err)
		}
		opts = append(opts, o)
	case n.TokenFile != "":
		tok, err := readNATSSecret(n.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("storage.nats.token_file: %w", err)
		}
		opts = append(opts, nats.Token(tok))
	case n.Username != "":
		pw, err := readNATSSecret(n.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("storage.nats.password_file: %w", err)
		}
		opts = append(opts, nats.UserInfo(n.Username, pw))
	}
	if n.TLSConfig != nil {
		tc, err := commoncfg.NewTLSConfig(n.TLSConfig)
		if err != nil {
			return nil, fmt.Errorf("storage.nats.tls_config: %w", err)
		}
		opts = append(opts, nats.Secure(tc))
	}
	nc, err := nats.Connect(strings.Join(n.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("storage.engine nats: connecting to %s: %w", n.Redacted(), err)
	}
	return nc, nil
}

func readNATSSecret(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s is empty", file)
	}
	return s, nil
}

// startClaims starts claiming targets; the queue delivers only for those
// this bridge claims (see followFleet, called before).
func (a *App) startClaims(r *replicated) {
	r.claims.Store(r.engine.Claims(jetstream.ClaimHooks{
		Targets: func() []string {
			rt := a.rt.Load()
			names := make([]string, 0, len(rt.targets)+1)
			for name := range rt.targets {
				names = append(names, name)
			}
			return append(names, leaderClaim)
		},
		Gain: func(target string) {
			if target == leaderClaim {
				a.log.Info("leading the fleet: sending the watchdog's notices and pruning the store")
				return
			}
			n, err := a.queue.Adopt(target)
			if err != nil {
				a.log.Error("claimed a target but cannot read its queued deliveries", zap.String("target", target), zap.Error(err))
				return
			}
			a.log.Info("delivering for target", zap.String("target", target), zap.Int("queued", n))
		},
		Lose: func(ctx context.Context, target string) error {
			if target == leaderClaim {
				return nil
			}
			if err := a.queue.Release(ctx, target); err != nil {
				return err
			}
			a.log.Info("no longer delivering for target", zap.String("target", target))
			return nil
		},
	}))
}

// leaderClaim is the claim of the bridge that leads the fleet: it sends
// the watchdog's notices and prunes the store (no target can have this
// name: it holds a NUL).
const leaderClaim = "\x00leader"

// followFleet makes the queue deliver only for the targets this bridge
// claims and applies the other bridges' writes: their jobs to the queue,
// the heartbeats among their notifications to the watchdog (once it
// runs). Called before the claims start, so no job accepted elsewhere
// is missed.
func (a *App) followFleet(r *replicated) {
	a.queue.SetOwner(r.owns)
	r.engine.Follow(func(c store.Change) {
		a.queue.Observe(c)
		if w := r.watchdog.Load(); w != nil && !c.Local && c.Accepted != nil {
			w.Observe(c.Accepted.Alerts, c.At)
		}
	})
}

// leadsFleet reports whether this bridge sends the watchdog's notices and
// prunes the store (always on the embedded engine).
func (a *App) leadsFleet() bool {
	return a.repl == nil || a.repl.owns(leaderClaim)
}

// owns reports whether this bridge holds the claim of target (false
// before the claims start).
func (r *replicated) owns(target string) bool {
	c := r.claims.Load()
	return c != nil && c.Owns(target)
}

// stop gives the claims up, each once its target's attempts ended, so
// other bridges take the targets at once (App.closeStore closes the
// connection after the engine).
func (r *replicated) stop(ctx context.Context) {
	if c := r.claims.Load(); c != nil {
		c.Stop(ctx)
	}
}

// natsCollector reads the engine's counters at scrape time.
type natsCollector struct {
	r         *replicated
	pubErrors *prometheus.Desc
	applied   *prometheus.Desc
	lag       *prometheus.Desc
	claimed   *prometheus.Desc
	changes   *prometheus.Desc
	connected *prometheus.Desc
	snapshots *prometheus.Desc
}

func newNATSCollector(r *replicated) *natsCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("alertbridge_nats_"+name, help, nil, nil)
	}
	return &natsCollector{r: r,
		pubErrors: d("publish_errors_total", "Writes JetStream did not acknowledge in time (an acceptance answered 503, an outcome kept to write again)."),
		applied:   d("applied_sequence", "The log position this bridge's view has applied."),
		lag:       d("stream_lag", "Messages on the log this bridge has not applied yet."),
		claimed:   d("claimed_targets", "Targets this bridge delivers for; summed over the bridges, the number of targets."),
		changes:   d("claim_changes_total", "Claims this bridge won or lost."),
		connected: d("connected", "1 while connected to NATS."),
		snapshots: d("snapshots_total", "Snapshots of the store this bridge wrote."),
	}
}

func (c *natsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.pubErrors, c.applied, c.lag, c.claimed, c.changes, c.connected, c.snapshots} {
		ch <- d
	}
}

func (c *natsCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.r.engine.Stats()
	ch <- prometheus.MustNewConstMetric(c.pubErrors, prometheus.CounterValue, float64(s.PublishErrors))
	ch <- prometheus.MustNewConstMetric(c.applied, prometheus.GaugeValue, float64(c.r.engine.Applied()))
	ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(c.r.engine.Lag()))
	held, changes := 0, int64(0)
	if cl := c.r.claims.Load(); cl != nil {
		held, changes = cl.Held()
		if cl.Owns(leaderClaim) {
			held-- // not a target
		}
	}
	ch <- prometheus.MustNewConstMetric(c.claimed, prometheus.GaugeValue, float64(held))
	ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue, float64(changes))
	conn := 0.0
	if c.r.nc.IsConnected() {
		conn = 1
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, conn)
	ch <- prometheus.MustNewConstMetric(c.snapshots, prometheus.CounterValue, float64(s.Snapshots))
}

// claimsHeld reports the targets this bridge holds (0 on the embedded
// engine, which delivers for every target).
func (a *App) claimsHeld() (int, int64) {
	if a.repl == nil || a.repl.claims.Load() == nil {
		return 0, 0
	}
	return a.repl.claims.Load().Held()
}
