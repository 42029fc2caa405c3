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
	// PublishSeconds sums the acknowledged publishes' latencies.
	PublishSeconds float64
	Applied        int64
	ApplySeconds   float64
	Snapshots      int64
	SnapshotBytes  int64
}

// Stats returns the counters.
func (e *Engine) Stats() Stats {
	e.statsMu.Lock()
	defer e.statsMu.Unlock()
	return e.stats
}

// Lag is how many messages of the log this bridge had not applied when it
// applied the last one.
func (e *Engine) Lag() uint64 { return e.lag.Load() }

func (e *Engine) observePublish(d time.Duration, err error) {
	e.statsMu.Lock()
	e.stats.Published++
	if err != nil {
		e.stats.PublishErrors++
	} else {
		e.stats.PublishSeconds += d.Seconds()
	}
	e.statsMu.Unlock()
	if e.opts.OnPublish != nil {
		e.opts.OnPublish(d, err)
	}
}

func errorf(format string, args ...any) error { return errors.New(fmt.Sprintf(format, args...)) }
