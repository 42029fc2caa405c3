package watchdog

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Status is the watchdog as GET /api/v1/watchdog shows it. Times are RFC
// 3339 in UTC, empty when unknown.
type Status struct {
	// Enabled: a watchdog section is in force. The fields from Matchers
	// to Deadline are set only then.
	Enabled        bool     `json:"enabled"`
	Matchers       []string `json:"matchers,omitempty"`
	Timeout        string   `json:"timeout,omitempty"`
	RepeatInterval string   `json:"repeatInterval,omitempty"`
	Targets        []string `json:"targets,omitempty"`
	// LastSeen is the last heartbeat; ClockStart the silence clock's
	// start (LastSeen, or when the watchdog started if none was seen);
	// Deadline when the pipeline counts as silent without a heartbeat.
	LastSeen   string `json:"lastSeen,omitempty"`
	ClockStart string `json:"clockStart,omitempty"`
	Deadline   string `json:"deadline,omitempty"`
	// Silent: the heartbeat is overdue now.
	Silent bool `json:"silent"`
	// Notified: a silence was reported and its recovery not yet;
	// SilentSince, LastNotice and Notices describe it.
	Notified    bool   `json:"notified"`
	SilentSince string `json:"silentSince,omitempty"`
	LastNotice  string `json:"lastNotice,omitempty"`
	Notices     int    `json:"notices,omitempty"`
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// Status reports the watchdog now.
func (w *Watchdog) Status() Status {
	cfg, st := w.cfg.Load(), w.State()
	out := Status{LastSeen: stamp(st.LastSeen), Notified: st.Silent}
	if st.Silent {
		out.SilentSince, out.LastNotice, out.Notices = stamp(st.Since), stamp(st.NoticeAt), st.Notices
	}
	if cfg == nil {
		return out
	}
	out.Enabled = true
	for _, m := range cfg.Matchers {
		out.Matchers = append(out.Matchers, m.String())
	}
	out.Timeout = model.Duration(cfg.Timeout).String()
	out.RepeatInterval = model.Duration(cfg.Repeat).String()
	out.Targets = cfg.Targets
	if ref := st.Reference(); !ref.IsZero() {
		out.ClockStart, out.Deadline = stamp(ref), stamp(ref.Add(cfg.Timeout))
	}
	out.Silent = st.Overdue(w.o.Now(), cfg.Timeout)
	return out
}

// ServeHTTP answers GET with {"status":"success","data":<Status>}. The
// answer names targets and matchers, never URLs or secrets.
func (w *Watchdog) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(rw).Encode(struct {
		Status string `json:"status"`
		Data   Status `json:"data"`
	}{"success", w.Status()})
}

var (
	lastSeenDesc = prometheus.NewDesc("alertbridge_watchdog_last_seen_timestamp_seconds",
		"When the last watchdog heartbeat was accepted (Unix seconds; 0 when none was seen). Exported while a watchdog is configured.", nil, nil)
	silentDesc = prometheus.NewDesc("alertbridge_watchdog_silent",
		"1 while the watchdog heartbeat is overdue (the alert pipeline is silent), else 0. Exported while a watchdog is configured.", nil, nil)
)

// Describe implements prometheus.Collector.
func (w *Watchdog) Describe(ch chan<- *prometheus.Desc) {
	ch <- lastSeenDesc
	ch <- silentDesc
}

// Collect implements prometheus.Collector: nothing while the watchdog is
// off.
func (w *Watchdog) Collect(ch chan<- prometheus.Metric) {
	cfg := w.cfg.Load()
	if cfg == nil {
		return
	}
	st := w.State()
	seen := 0.0
	if !st.LastSeen.IsZero() {
		seen = float64(st.LastSeen.UnixNano()) / 1e9
	}
	silent := 0.0
	if st.Overdue(w.o.Now(), cfg.Timeout) {
		silent = 1
	}
	ch <- prometheus.MustNewConstMetric(lastSeenDesc, prometheus.GaugeValue, seen)
	ch <- prometheus.MustNewConstMetric(silentDesc, prometheus.GaugeValue, silent)
}
