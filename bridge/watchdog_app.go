package bridge

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/server"
	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/watchdog"
)

// DefaultWatchdogInterval is how often the watchdog checks the heartbeat
// when Options.WatchdogInterval is zero.
const DefaultWatchdogInterval = time.Second

// startWatchdog builds the watchdog from the stored state, puts the
// runtime's watchdog section in force, exports its metrics and starts its
// checks. The state is kept whether or not a section is configured, so a
// reload that adds one back continues it.
func (a *App) startWatchdog(rt *runtime) error {
	w, err := watchdog.New(watchdog.Options{
		Now: a.now,
		Load: func() (watchdog.State, bool, error) {
			s, ok, err := a.db.WatchdogState()
			return watchdog.State(s), ok, err
		},
		Save:   func(s watchdog.State) error { return a.db.SaveWatchdogState(store.WatchdogState(s)) },
		Notify: a.notifyWatchdog,
		Lead:   a.leadsFleet,
		Log:    a.log.Named("watchdog"),
	})
	if err != nil {
		return fmt.Errorf("reading the watchdog state: %w", err)
	}
	a.watchdog = w
	w.Configure(watchdogConfig(rt.cfg))
	a.metrics.Registry.MustRegister(w)
	w.Start(a.opts.WatchdogInterval)
	return nil
}

// watchdogRoute serves GET /api/v1/watchdog, a read endpoint.
func (a *App) watchdogRoute() server.Route {
	return server.Route{Path: "/api/v1/watchdog", Methods: []string{http.MethodGet}, Class: server.ClassRead, Handler: a.watchdog}
}

// watchdogConfig is cfg's watchdog section as the watchdog takes it; nil
// when there is none.
func watchdogConfig(cfg *config.Config) *watchdog.Config {
	w := cfg.Watchdog
	if w == nil {
		return nil
	}
	return &watchdog.Config{
		Matchers: w.Matchers, Timeout: time.Duration(w.Timeout), Repeat: w.Repeat,
		Targets: w.Targets, SeverityLabel: cfg.Global.SeverityLabel, Location: cfg.Location,
	}
}

// notifyWatchdog queues a watchdog notice as a notification of its own
// group (watchdog.GroupKey) for each of cfg's targets that exists and is
// enabled in the runtime in force, whatever the targets' matchers, and
// records it in the alert center. There is no dedup key: a reminder is
// identical to the first notice and must still go out. A newer notice
// replaces one still waiting for the same target, as for any group.
func (a *App) notifyWatchdog(cfg *watchdog.Config, n watchdog.Notice) error {
	if a.stopping.Load() {
		return server.ErrShuttingDown
	}
	msg := watchdog.Message(cfg, n)
	if err := msg.Validate(); err != nil {
		return fmt.Errorf("watchdog notice: %w", err)
	}
	body, err := msg.Body()
	if err != nil {
		return err
	}
	rt := a.rt.Load()
	now := a.now()
	g := rt.builder.BuildSeen(msg, now, nil)
	var jobs []store.NewJob
	var names []string
	for _, name := range cfg.Targets {
		t, ok := rt.router.Lookup(name)
		if !ok || !t.Enabled {
			continue
		}
		if view := t.View(g); view != nil {
			jobs = append(jobs, store.NewJob{Job: &store.Job{Target: t.Name, GroupKey: g.GroupKey}, Group: view})
			names = append(names, t.Name)
		}
	}
	if _, err := a.queue.Accept(store.AcceptRequest{Now: now, Group: g, Jobs: jobs, Location: rt.builder.Zone(), Body: body}); err != nil {
		return err
	}
	if len(names) == 0 {
		a.log.Warn("watchdog notice reaches no target: its targets are disabled or do not send resolved notifications",
			zap.String("notice", string(n.Kind)), zap.Strings("watchdog_targets", cfg.Targets))
	}
	return nil
}

// watchdogLine is the watchdog's state in one line for the status page;
// empty when it is off.
func watchdogLine(s watchdog.Status) string {
	if !s.Enabled {
		return ""
	}
	seen := "no heartbeat seen yet, clock started " + s.ClockStart
	if s.LastSeen != "" {
		seen = "last heartbeat " + s.LastSeen
	}
	line := fmt.Sprintf("%s; heartbeat %s, timeout %s, telling %s", seen, strings.Join(s.Matchers, ", "), s.Timeout, strings.Join(s.Targets, ", "))
	if s.Notified {
		line += fmt.Sprintf("; silence reported since %s (%d notices)", s.SilentSince, s.Notices)
	}
	return line
}
