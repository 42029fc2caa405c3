package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"maps"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// A job's payload, the group it delivers, is stored in a binary encoding:
// every notification writes one per job into the log, so its size is the
// log's size and its cost is paid inside each acceptance. It is about
// half the size of the group's JSON and several times cheaper to encode
// and decode. It decodes to exactly what a JSON round trip gives (nil and
// empty maps and lists stay apart; times keep their offset), which the
// tests check. Payloads written as JSON (before this encoding) still
// decode.
//
//	byte     payloadFormat
//	str      receiver, status, notification reason, external URL, group key
//	uvarint  truncated alerts
//	time     received at
//	kv       group labels, common labels, common annotations, route labels
//	list     alerts: status str, labels kv, annotations kv, startsAt time,
//	         endsAt time, generator URL str, fingerprint str
//	list     records: id, target str, alert define id, priority, content
//	         str, status, times, first and last trigger time, tags, gmt
//	         create str, gmt update str
//
// Integers in records are varints; time is described at appendTime; kv and list are a uvarint count plus one, 0 for nil;
// tags are one byte (0 nil, 1 a copy of the labels of the alert at the same
// position, 2 a kv that follows).
const payloadFormat = 0x01

var errBadPayload = errors.New("malformed payload")

// encodeGroup appends the encoding of g to b.
func encodeGroup(b []byte, g *alert.Group) []byte {
	b = append(b, payloadFormat)
	for _, s := range []string{g.Receiver, g.Status, g.NotificationReason, g.ExternalURL, g.GroupKey} {
		b = appendStr(b, s)
	}
	b = binary.AppendUvarint(b, g.TruncatedAlerts)
	b = appendTime(b, g.ReceivedAt)
	for _, kv := range []template.KV{g.GroupLabels, g.CommonLabels, g.CommonAnnotations, g.RouteLabels} {
		b = appendKV(b, kv)
	}
	b = appendCount(b, len(g.Alerts), g.Alerts == nil)
	for i := range g.Alerts {
		a := &g.Alerts[i]
		b = appendStr(b, a.Status)
		b = appendKV(b, a.Labels)
		b = appendKV(b, a.Annotations)
		b = appendTime(b, a.StartsAt)
		b = appendTime(b, a.EndsAt)
		b = appendStr(b, a.GeneratorURL)
		b = appendStr(b, a.Fingerprint)
	}
	b = appendCount(b, len(g.Records), g.Records == nil)
	for i := range g.Records {
		r := &g.Records[i]
		b = binary.AppendVarint(b, r.ID)
		b = appendStr(b, r.Target)
		b = binary.AppendVarint(b, r.AlertDefineID)
		b = binary.AppendVarint(b, int64(r.Priority))
		b = appendStr(b, r.Content)
		for _, n := range []int64{int64(r.Status), r.Times, r.FirstTriggerTime, r.LastTriggerTime} {
			b = binary.AppendVarint(b, n)
		}
		switch {
		case r.Tags == nil:
			b = append(b, 0)
		case i < len(g.Alerts) && sameKV(r.Tags, g.Alerts[i].Labels):
			b = append(b, 1)
		default:
			b = append(b, 2)
			b = appendKV(b, r.Tags)
		}
		b = appendStr(b, r.GmtCreate)
		b = appendStr(b, r.GmtUpdate)
	}
	return b
}

// decodeGroup decodes a stored payload, binary or JSON.
func decodeGroup(v []byte) (*alert.Group, error) {
	g := &alert.Group{}
	if len(v) > 0 && v[0] == '{' {
		if err := json.Unmarshal(v, g); err != nil {
			return nil, err
		}
		return g, nil
	}
	if len(v) == 0 || v[0] != payloadFormat {
		return nil, errBadPayload
	}
	r := reader{b: v[1:]}
	for _, s := range []*string{&g.Receiver, &g.Status, &g.NotificationReason, &g.ExternalURL, &g.GroupKey} {
		*s = r.str()
	}
	g.TruncatedAlerts = r.uvarint()
	g.ReceivedAt = r.time()
	for _, kv := range []*template.KV{&g.GroupLabels, &g.CommonLabels, &g.CommonAnnotations, &g.RouteLabels} {
		*kv = r.kv()
	}
	if n, isNil := r.count(); !isNil {
		g.Alerts = make(template.Alerts, n)
		for i := range g.Alerts {
			a := &g.Alerts[i]
			a.Status = r.str()
			a.Labels = r.kv()
			a.Annotations = r.kv()
			a.StartsAt = r.time()
			a.EndsAt = r.time()
			a.GeneratorURL = r.str()
			a.Fingerprint = r.str()
		}
	}
	if n, isNil := r.count(); !isNil {
		g.Records = make([]alert.Record, n)
		for i := range g.Records {
			rec := &g.Records[i]
			rec.ID = r.varint()
			rec.Target = r.str()
			rec.AlertDefineID = r.varint()
			rec.Priority = int(r.varint())
			rec.Content = r.str()
			rec.Status = int(r.varint())
			rec.Times, rec.FirstTriggerTime, rec.LastTriggerTime = r.varint(), r.varint(), r.varint()
			switch r.byte() {
			case 0:
			case 1:
				if i >= len(g.Alerts) {
					r.bad = true
					break
				}
				rec.Tags = maps.Clone(map[string]string(g.Alerts[i].Labels))
			case 2:
				rec.Tags = r.kv()
			default:
				r.bad = true
			}
			rec.GmtCreate, rec.GmtUpdate = r.str(), r.str()
		}
	}
	if r.bad || len(r.b) != 0 {
		return nil, errBadPayload
	}
	return g, nil
}

func appendCount(b []byte, n int, isNil bool) []byte {
	if isNil {
		return append(b, 0)
	}
	return binary.AppendUvarint(b, uint64(n)+1)
}

func appendKV(b []byte, kv map[string]string) []byte {
	b = appendCount(b, len(kv), kv == nil)
	for k, v := range kv {
		b = appendStr(b, k)
		b = appendStr(b, v)
	}
	return b
}

// appendTime encodes t as JSON would keep it: the instant and, unless it
// is UTC, the zone offset (not the zone's name). One byte says which:
// timeUTC, or timeOffset followed by the offset in seconds.
func appendTime(b []byte, t time.Time) []byte {
	_, offset := t.Zone()
	if offset == 0 {
		b = append(b, timeUTC) // JSON writes "Z"
	} else {
		b = append(b, timeOffset)
		b = binary.AppendVarint(b, int64(offset))
	}
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

const (
	timeUTC    = 0
	timeOffset = 1
)

func sameKV(a, b map[string]string) bool {
	if len(a) != len(b) || (a == nil) != (b == nil) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func (r *reader) byte() byte {
	if len(r.b) < 1 {
		r.bad, r.b = true, nil
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

// count reads a list or map size written by appendCount.
func (r *reader) count() (n int, isNil bool) {
	c := r.uvarint()
	if r.bad || c == 0 {
		return 0, true
	}
	// Every element takes at least one byte.
	if c-1 > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return 0, true
	}
	return int(c - 1), false
}

func (r *reader) kv() template.KV {
	n, isNil := r.count()
	if isNil {
		return nil
	}
	m := make(template.KV, n)
	for i := 0; i < n && !r.bad; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// time reads what appendTime wrote. A time with an offset gets the
// location time.Parse would give it: Local when Local has that offset at
// that instant, else a fixed zone.
func (r *reader) time() time.Time {
	kind := r.byte()
	var offset int64
	if kind == timeOffset {
		offset = r.varint()
	} else if kind != timeUTC {
		r.bad = true
	}
	sec, nsec := r.varint(), r.uvarint()
	if r.bad || nsec >= 1e9 || offset <= -1<<31 || offset >= 1<<31 {
		r.bad, r.b = true, nil
		return time.Time{}
	}
	t := time.Unix(sec, int64(nsec))
	if kind == timeUTC {
		return t.UTC()
	}
	if _, local := t.In(time.Local).Zone(); int64(local) == offset {
		return t.In(time.Local)
	}
	return t.In(time.FixedZone("", int(offset)))
}
