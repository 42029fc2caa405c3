package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// MessageRefs is what the store keeps of the messages a group's
// notifications left on one target, so a later notification of the group
// can edit them or reply to them (a target's update key; see
// notify.Reviser).
type MessageRefs struct {
	// Refs names the messages, one per part of the notification (Refs[i]
	// for part i), as the target's notifier wrote them; "" for a part
	// whose message is not known.
	Refs []string `json:"refs"`
	// Resolved is set when the last notification delivered was resolved:
	// the next firing one is a new incident and posts new messages.
	Resolved bool `json:"resolved,omitempty"`
	// Updated is when the record was last saved.
	Updated time.Time `json:"updated,omitzero"`
	// Expires is when the record may be forgotten: a record whose Expires
	// is not after now is as good as gone, and PruneMessageRefs removes it.
	Expires time.Time `json:"expires"`
}

// messageKey is the key of a group's message record for a target: kind m,
// the target, a zero byte, the group key (like latestKey).
func messageKey(target, groupKey string) []byte {
	k := latestKey(target, groupKey)
	k[0] = kindMessages
	return k
}

// MessageRefs reads the record of (target, groupKey); false when none is
// stored. A record that does not decode is an ErrCorrupt error.
func (d *DB) MessageRefs(target, groupKey string) (MessageRefs, bool, error) {
	var v []byte
	err := d.read(func() (err error) {
		v, err = d.get(messageKey(target, groupKey))
		return err
	})
	if errors.Is(err, errNotFound) {
		return MessageRefs{}, false, nil
	}
	if err != nil {
		return MessageRefs{}, false, err
	}
	var r MessageRefs
	if err := json.Unmarshal(v, &r); err != nil {
		return MessageRefs{}, false, fmt.Errorf("%w: %s: the message record of target %q: %v", ErrCorrupt, d.dir, target, err)
	}
	return r, true, nil
}

// SaveMessageRefs stores r durably, replacing the record of (target,
// groupKey).
func (d *DB) SaveMessageRefs(target, groupKey string, r MessageRefs) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return d.write(func(t *tx) error { return t.set(messageKey(target, groupKey), b) })
}

// PruneMessageRefs removes the records that expired at now (Expires not
// after now) and those that do not decode, in one write, and returns how
// many it removed.
func (d *DB) PruneMessageRefs(now time.Time) (int, error) {
	var drop [][]byte
	err := d.read(func() error {
		return d.iterate([]byte{kindMessages}, nil, false, func(k, v []byte) (bool, error) {
			var r MessageRefs
			if json.Unmarshal(v, &r) != nil || !r.Expires.After(now) {
				drop = append(drop, append([]byte(nil), k...))
			}
			return true, nil
		})
	})
	if err != nil || len(drop) == 0 {
		return 0, err
	}
	err = d.write(func(t *tx) error {
		for _, k := range drop {
			if err := t.del(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(drop), nil
}
