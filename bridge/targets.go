package bridge

import (
	"fmt"
	"sync"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/server"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// health is the last outcome seen per target, kept across reloads by name.
type health struct {
	mu    sync.Mutex
	byKey map[string]*targetHealth
}

type targetHealth struct {
	lastSuccess, lastErrorAt time.Time
	lastError, lastReason    string
}

func (h *health) record(target string, res notify.Result, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.byKey == nil {
		h.byKey = map[string]*targetHealth{}
	}
	th, ok := h.byKey[target]
	if !ok {
		th = &targetHealth{}
		h.byKey[target] = th
	}
	if res.Verdict == notify.Delivered {
		th.lastSuccess = at
		return
	}
	th.lastErrorAt, th.lastError, th.lastReason = at, res.Message, string(res.Reason)
}

func (h *health) get(target string) targetHealth {
	h.mu.Lock()
	defer h.mu.Unlock()
	if th, ok := h.byKey[target]; ok {
		return *th
	}
	return targetHealth{}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// TargetStatuses implements server.Targets.
func (a *App) TargetStatuses() []server.TargetStatus {
	rt := a.rt.Load()
	out := make([]server.TargetStatus, 0, len(rt.cfg.Targets))
	for _, t := range rt.cfg.Targets {
		lane := a.queue.Lane(t.Name)
		h := a.health.get(t.Name)
		st := server.TargetStatus{
			Name: t.Name, Type: t.Type, Dialect: t.Dialect, Description: t.Description, Enabled: t.IsEnabled(), Update: string(t.Update),
			QueueDepth: lane.Depth, InFlight: lane.InFlight, OldestWaiting: stamp(lane.Oldest), PausedUntil: stamp(lane.PausedUntil),
			Breaker: string(lane.Breaker), BreakerSince: stamp(lane.BreakerSince),
			LastSuccess: stamp(h.lastSuccess), LastErrorAt: stamp(h.lastErrorAt),
			LastError: h.lastError, LastReason: h.lastReason,
		}
		if rl := t.RateLimit; rl != nil {
			st.RateLimit = fmt.Sprintf("%d/%s", rl.Requests, rl.Interval)
		}
		out = append(out, st)
	}
	return out
}

// SendTest implements server.Targets: the built-in sample notification,
// under a group key of its own (starting with store.TestGroupKeyPrefix, so
// it reads as a test), goes to the named target through the normal queue,
// accepted as a test: its job and its alerts are marked so by how they
// were made, not by the group key, which a sender controls.
func (a *App) SendTest(target string) (uint64, error) {
	now := a.now()
	msg := alert.Sample(now)
	msg.GroupKey = fmt.Sprintf("%s%s:%d", store.TestGroupKeyPrefix, target, now.UnixNano())
	acc, err := a.accept(msg, target, true)
	if err != nil {
		return 0, err
	}
	if len(acc.jobs) == 0 {
		return 0, server.ErrTargetDisabled
	}
	return acc.jobs[0], nil
}
