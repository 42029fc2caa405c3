package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Notification is what the store keeps of an accepted notification for
// its jobs: the webhook payload as Alertmanager sent it, when it was
// received and the alert counters it was accepted with. The jobs of one
// notification share it, and it is dropped with the last of them that is
// pending or dead. The caller rebuilds a job's group from it (normalize
// with the counters, then the target's view), so a delivery after a
// restart sees what one straight after the acceptance saw.
type Notification struct {
	Body       []byte
	ReceivedAt time.Time
	// Seen are the counters of the payload's alerts, in order.
	Seen []alert.Seen
}

// notificationFormat is the first byte of a stored notification. The
// value is: format, uvarint length and time.MarshalBinary of ReceivedAt,
// uvarint count of counters, then per counter a uvarint Times and a
// varint FirstSeen (unix ms), then the body.
const notificationFormat = 1

func encodeNotification(n *Notification) ([]byte, error) {
	at, err := n.ReceivedAt.MarshalBinary()
	if err != nil {
		return nil, err
	}
	v := make([]byte, 0, 1+1+len(at)+1+len(n.Seen)*12+len(n.Body))
	v = append(v, notificationFormat)
	v = binary.AppendUvarint(v, uint64(len(at)))
	v = append(v, at...)
	v = binary.AppendUvarint(v, uint64(len(n.Seen)))
	for _, s := range n.Seen {
		v = binary.AppendUvarint(v, uint64(max(s.Times, 0)))
		v = binary.AppendVarint(v, s.FirstSeen.UnixMilli())
	}
	return append(v, n.Body...), nil
}

var errBadNotification = errors.New("malformed stored notification")

func decodeNotification(v []byte) (*Notification, error) {
	if len(v) == 0 || v[0] != notificationFormat {
		return nil, errBadNotification
	}
	r := reader{b: v[1:]}
	at := r.bytes()
	count := r.uvarint()
	// A counter takes at least 2 bytes.
	if r.bad || count > uint64(len(r.b)/2) {
		return nil, errBadNotification
	}
	n := &Notification{Seen: make([]alert.Seen, count)}
	if err := n.ReceivedAt.UnmarshalBinary(at); err != nil {
		return nil, errBadNotification
	}
	for i := range n.Seen {
		n.Seen[i].Times = int64(r.uvarint())
		ms, k := binary.Varint(r.b)
		if r.bad || k <= 0 {
			return nil, errBadNotification
		}
		r.b = r.b[k:]
		n.Seen[i].FirstSeen = time.UnixMilli(ms)
	}
	n.Body = bytes.Clone(r.b)
	return n, nil
}

// checkNotification decodes a stored notification and its payload, as a
// delivery would.
func checkNotification(v []byte) error {
	n, err := decodeNotification(v)
	if err != nil {
		return err
	}
	m, err := alert.Decode(bytes.NewReader(n.Body))
	if err != nil {
		return fmt.Errorf("its payload does not decode: %w", err)
	}
	if len(m.Alerts) != len(n.Seen) {
		return fmt.Errorf("%d alerts but %d counters", len(m.Alerts), len(n.Seen))
	}
	return nil
}

// Notification loads the stored notification nid (a job's Notification).
func (d *DB) Notification(nid uint64) (*Notification, error) {
	var v []byte
	err := d.read(func() (err error) {
		v, err = d.get(notificationKey(nid))
		return err
	})
	if errors.Is(err, errNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	n, err := decodeNotification(v)
	if err != nil {
		return nil, d.readErr(fmt.Errorf("%w: %s: notification %d: %v", ErrCorrupt, d.dir, nid, err))
	}
	return n, nil
}

// ref counts one more waiting (pending or dead) job of notification nid.
func (t *tx) ref(nid uint64, n int) {
	m := t.d.mem
	m.mu.Lock()
	m.refs[nid] += n
	m.mu.Unlock()
	t.undo = append(t.undo, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.refs[nid] -= n; m.refs[nid] <= 0 {
			delete(m.refs, nid)
		}
	})
}

// unref counts one waiting job of notification nid less, and deletes the
// notification with the last one.
func (t *tx) unref(nid uint64) error {
	if nid == 0 {
		return nil
	}
	m := t.d.mem
	m.mu.Lock()
	left := m.refs[nid] - 1
	if left <= 0 {
		delete(m.refs, nid)
	} else {
		m.refs[nid] = left
	}
	m.mu.Unlock()
	t.undo = append(t.undo, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if left+1 > 0 {
			m.refs[nid] = left + 1
		}
	})
	if left <= 0 {
		return t.del(notificationKey(nid))
	}
	return nil
}
