package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// keyWatchdog holds the watchdog's state: one small JSON record, next to
// the format record. store check and salvage leave it alone (a salvaged
// store starts the watchdog's clock again).
var keyWatchdog = []byte("\x00watchdog")

// WatchdogState is what the store keeps of the alert pipeline's watchdog:
// when it started, the last heartbeat, and the silence it reported, if
// any (see the watchdog package for the meaning of each field).
type WatchdogState struct {
	Started    time.Time `json:"started,omitzero"`
	LastSeen   time.Time `json:"lastSeen,omitzero"`
	Silent     bool      `json:"silent,omitempty"`
	Since      time.Time `json:"since,omitzero"`
	DeclaredAt time.Time `json:"declaredAt,omitzero"`
	NoticeAt   time.Time `json:"noticeAt,omitzero"`
	Notices    int       `json:"notices,omitempty"`
}

// WatchdogState reads the stored watchdog state; false when none is
// stored. A record that does not decode is an ErrCorrupt error.
func (d *DB) WatchdogState() (WatchdogState, bool, error) {
	var v []byte
	err := d.read(func() (err error) {
		v, err = d.get(keyWatchdog)
		return err
	})
	if errors.Is(err, errNotFound) {
		return WatchdogState{}, false, nil
	}
	if err != nil {
		return WatchdogState{}, false, err
	}
	var s WatchdogState
	if err := json.Unmarshal(v, &s); err != nil {
		return WatchdogState{}, false, fmt.Errorf("%w: %s: the watchdog record: %v", ErrCorrupt, d.dir, err)
	}
	return s, true, nil
}

// SaveWatchdogState stores s durably, replacing the previous state.
func (d *DB) SaveWatchdogState(s WatchdogState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return d.write(func(t *tx) error { return t.set(keyWatchdog, b) })
}
