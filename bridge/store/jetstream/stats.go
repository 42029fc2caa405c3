package jetstream

import (
	"errors"
	"fmt"
	"time"
)

// Stats are the engine's counters for metrics.
type Stats struct {
	Published     int64
	PublishErrors int64
	// PublishSeconds sums the publish latencies; Latencies holds the
	// recent ones not yet taken (see TakeLatencies).
	PublishSeconds float64
	Applied        int64
	ApplySeconds   float64
	Snapshots      int64
	SnapshotBytes  int64
	latencies      []float64
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	s := e.stats
	s.latencies = nil
	return s
}

// TakeLatencies returns the publish latencies (seconds) since the last
// call, at most maxLatencies of them.
func (e *Engine) TakeLatencies() []float64 {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	l := e.stats.latencies
	e.stats.latencies = nil
	return l
}

const maxLatencies = 4096

func (e *Engine) observePublish(d time.Duration, err error) {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	e.stats.Published++
	if err != nil {
		e.stats.PublishErrors++
		return
	}
	e.stats.PublishSeconds += d.Seconds()
	if len(e.stats.latencies) < maxLatencies {
		e.stats.latencies = append(e.stats.latencies, d.Seconds())
	}
}

func errorf(format string, args ...any) error { return errors.New(fmt.Sprintf(format, args...)) }
