// Package metrics defines the bridge's Prometheus metrics. Label values
// are bounded: target names come from the config, results and reasons
// from fixed sets.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

const namespace = "alertbridge"

// Results of an incoming notification.
const (
	ResultAccepted      = "accepted"
	ResultDuplicate     = "duplicate"
	ResultInvalid       = "invalid"
	ResultTooLarge      = "too_large"
	ResultUnknownTarget = "unknown_target"
	ResultUnavailable   = "unavailable"
)

// LaneStats is what the queue reports per target at scrape time.
type LaneStats struct {
	Target string
	// Depth counts every waiting job, in flight included.
	Depth     int
	InFlight  int
	OldestAge time.Duration
	// Breaker is the circuit breaker state: closed, open or half-open.
	Breaker string
}

// BreakerStates are the values of the breaker state label.
var BreakerStates = []string{"closed", "half-open", "open"}

// Metrics holds every collector of one bridge process.
type Metrics struct {
	Registry *prometheus.Registry

	NotificationsReceived *prometheus.CounterVec // result
	AlertsReceived        *prometheus.CounterVec // result
	Deliveries            *prometheus.CounterVec // target, type, result
	AttemptFailures       *prometheus.CounterVec // target, type, reason
	AttemptDuration       *prometheus.HistogramVec
	Superseded            *prometheus.CounterVec // target
	BreakerTransitions    *prometheus.CounterVec // target, state
	StoreErrors           *prometheus.CounterVec // target, op
	ReloadSuccess         prometheus.Gauge
	ReloadTime            prometheus.Gauge
	TargetFiles           *prometheus.GaugeVec // state: loaded, skipped
	TargetFileErrors      prometheus.Counter
}

// New builds and registers the metrics. lanes is called at scrape time.
func New(lanes func() []LaneStats) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		NotificationsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_received_total",
			Help: "Alertmanager notifications received, by result.",
		}, []string{"result"}),
		AlertsReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "alerts_received_total",
			Help: "Alerts carried by received notifications, by result.",
		}, []string{"result"}),
		Deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "deliveries_total",
			Help: "Delivery jobs finished, by target, type and result (delivered or dead).",
		}, []string{"target", "type", "result"}),
		AttemptFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "delivery_attempt_failures_total",
			Help: "Failed delivery attempts, by target, type and reason.",
		}, []string{"target", "type", "reason"}),
		AttemptDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "delivery_attempt_duration_seconds",
			Help:    "Duration of delivery attempts (render, send, classify), by target and type.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"target", "type"}),
		Superseded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "notifications_superseded_total",
			Help: "Waiting deliveries replaced by a newer notification of the same group, by target.",
		}, []string{"target"}),
		BreakerTransitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "target_breaker_transitions_total",
			Help: "Circuit breaker state changes, by target and the state entered (closed, half-open, open).",
		}, []string{"target", "state"}),
		StoreErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "queue_store_errors_total",
			Help: "Failures to read or write a delivery job's state (op: read, reschedule, finish); the job stays queued in memory and is retried.",
		}, []string{"target", "op"}),
		ReloadSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		ReloadTime: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Name: "config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
		TargetFiles: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: namespace, Name: "target_files",
			Help: "Target files of the configuration in force, by state: loaded, or skipped for a problem (see the log or the console's status page).",
		}, []string{"state"}),
		TargetFileErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "target_file_errors_total",
			Help: "Target files skipped for a problem, counted at each configuration load that skipped one.",
		}),
	}
	m.Registry.MustRegister(
		m.NotificationsReceived, m.AlertsReceived, m.Deliveries, m.AttemptFailures,
		m.AttemptDuration, m.Superseded, m.BreakerTransitions, m.StoreErrors, m.ReloadSuccess, m.ReloadTime,
		m.TargetFiles, m.TargetFileErrors,
		&laneCollector{lanes: lanes},
		versioncollector.NewCollector(namespace),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return m
}

var (
	depthDesc    = prometheus.NewDesc(namespace+"_queue_depth", "Delivery jobs waiting, by target: scheduled, waiting for the rate limit or in flight.", []string{"target"}, nil)
	ageDesc      = prometheus.NewDesc(namespace+"_queue_oldest_job_age_seconds", "Age of the oldest waiting delivery job, by target (0 when none waits).", []string{"target"}, nil)
	inFlightDesc = prometheus.NewDesc(namespace+"_queue_in_flight", "Delivery jobs being attempted (or waiting for the rate limit), by target.", []string{"target"}, nil)
	breakerDesc  = prometheus.NewDesc(namespace+"_target_breaker_state", "Circuit breaker state by target: 1 for the current state (closed, half-open or open), 0 for the others.", []string{"target", "state"}, nil)
)

// laneCollector reads queue state at scrape time.
type laneCollector struct{ lanes func() []LaneStats }

func (c *laneCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- depthDesc
	ch <- ageDesc
	ch <- inFlightDesc
	ch <- breakerDesc
}

func (c *laneCollector) Collect(ch chan<- prometheus.Metric) {
	for _, l := range c.lanes() {
		ch <- prometheus.MustNewConstMetric(depthDesc, prometheus.GaugeValue, float64(l.Depth), l.Target)
		ch <- prometheus.MustNewConstMetric(ageDesc, prometheus.GaugeValue, l.OldestAge.Seconds(), l.Target)
		ch <- prometheus.MustNewConstMetric(inFlightDesc, prometheus.GaugeValue, float64(l.InFlight), l.Target)
		for _, s := range BreakerStates {
			v := 0.0
			if s == l.Breaker || (l.Breaker == "" && s == "closed") {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(breakerDesc, prometheus.GaugeValue, v, l.Target, s)
		}
	}
}
