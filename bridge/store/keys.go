package store

import (
	"encoding/binary"
)

// The key space. Every key starts with one byte naming its kind; numbers
// are 8 bytes big endian, so keys of a kind sort by them.
//
//	\x00format                      format record ("alertbridge/2")
//	p <job id>                      pending job (JSON of Job)
//	d <job id>                      delivered or superseded job, history
//	x <job id>                      dead letter
//	n <notification id>             a notification its pending and dead jobs deliver
//	k <dedup key>                   when the notification was accepted (ms)
//	e <ms> <dedup key>              the same, by time, for expiry
//	l <target> \x00 <group key>     id of the group's newest job for target
//	a <ms> <record id>              alert center entry, by last update
//	i <record id>                   the ms of the alert's entry
//	m <target> \x00 <group key>     the messages the group left on target (JSON of MessageRefs)
//
// Jobs of a state sort by id, which is acceptance order: resuming reads
// the pending ones oldest first, the API lists newest first from the end.
// The newest-job index is kept while the job it names is stored, so a
// dead letter can tell whether its group moved on. Dedup keys expire by
// time, read from the front of their index. The alert center is ordered
// by update time, so listing newest first reads from the end and pruning
// from the front.
const (
	kindPending      = 'p'
	kindDelivered    = 'd'
	kindDead         = 'x'
	kindNotification = 'n'
	kindDedup        = 'k'
	kindExpiry       = 'e'
	kindLatest       = 'l'
	kindAlert        = 'a'
	kindAlertIdx     = 'i'
	kindMessages     = 'm'
)

var keyFormat = []byte("\x00format")

// stateKinds maps a job state to the kind of key it is kept under.
var stateKinds = map[string]byte{
	StatePending:   kindPending,
	StateDelivered: kindDelivered,
	StateDead:      kindDead,
}

func idKey(kind byte, id uint64) []byte {
	k := make([]byte, 9)
	k[0] = kind
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

func jobKey(state string, id uint64) []byte { return idKey(stateKinds[state], id) }
func notificationKey(id uint64) []byte      { return idKey(kindNotification, id) }

func dedupKey(key string) []byte { return append([]byte{kindDedup}, key...) }

func expiryKey(ms int64, key string) []byte {
	k := make([]byte, 9, 9+len(key))
	k[0] = kindExpiry
	binary.BigEndian.PutUint64(k[1:], uint64(ms))
	return append(k, key...)
}

func latestKey(target, groupKey string) []byte {
	k := make([]byte, 0, 2+len(target)+len(groupKey))
	k = append(k, kindLatest)
	k = append(k, target...)
	k = append(k, 0)
	return append(k, groupKey...)
}

// alertKey is the key of an alert center entry.
func alertKey(ms, id int64) []byte {
	k := make([]byte, 17)
	k[0] = kindAlert
	binary.BigEndian.PutUint64(k[1:], uint64(ms))
	binary.BigEndian.PutUint64(k[9:], uint64(id))
	return k
}

func alertIdxKey(id int64) []byte { return idKey(kindAlertIdx, uint64(id)) }

// keyID reads the number after a kind byte.
func keyID(k []byte) (uint64, bool) {
	if len(k) < 9 {
		return 0, false
	}
	return binary.BigEndian.Uint64(k[1:9]), true
}

// prefixEnd is the first key after every key that starts with prefix.
func prefixEnd(prefix []byte) []byte {
	end := append([]byte(nil), prefix...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

func u64(n uint64) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], n)
	return b[:]
}
