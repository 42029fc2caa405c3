package jetstream

import "time"

// Stats are the engine's counters for metrics (the publish latency goes
// to Options.OnPublish).
type Stats struct {
	// PublishErrors counts the writes JetStream did not acknowledge.
	PublishErrors int64
	// Snapshots counts the snapshots this bridge stored.
	Snapshots int64
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
	if err != nil {
		e.statsMu.Lock()
		e.stats.PublishErrors++
		e.statsMu.Unlock()
	}
	if e.opts.OnPublish != nil {
		e.opts.OnPublish(d, err)
	}
}
