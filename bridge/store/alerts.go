package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// The alert center. Keys "a" hold one value per alert, keyed by when a
// notification last carried it and its record id (unix ms and id, 8 bytes
// big endian each), so the newest alerts are at the end: listing newest
// first reads from the end and stops at its page, and pruning reads from
// the start and stops at its cutoff. Keys "i" map a record id to the time
// in its key (keys.go). The value:
//
//	off  size     field
//	0    8        times: accepted notifications that carried the alert
//	8    8        first seen, unix ms
//	16   8        last seen (updated), unix ms: the time in the key
//	24   1        format (alertFormat)
//	25   1        record status (0 firing, 2 resolved)
//	26   1        record priority (0, 1, 2)
//	27   str      record target ("node/HighCPU")
//	     uvarint  n deliveries, then n x (job id u64, target name str),
//	              oldest first, at most maxAlertDeliveries
//	     ...      details: the rest of the latest record and the context of
//	              the notification that carried it (see appendDetails)
//	     1        testFlag, only for an alert of a test send
//
// str is a uvarint length and the bytes; maps are a uvarint count and
// key/value strs. The 24-byte header comes first so counting reads fixed
// offsets, and the fields the list filters on come next, so a listing
// decides on an entry without decoding its details. The encoding is
// binary rather than JSON because it is built for every alert of every
// notification: it is about ten times cheaper than encoding/json for a
// record, and allocates one buffer per alert. A 24-byte value carries
// counters only (an alert whose group had no record of it); it is not
// listed until a notification carries the alert again.
//
// An entry's size is bounded: at most maxAlertDeliveries deliveries,
// labels and annotations cut to maxAlertDetailBytes in all, values
// shortened first (see boundDetails), and the other texts to
// maxAlertTextBytes or maxAlertNameBytes, each with cutMarker at the end
// of what was cut.
const (
	seenSize    = 24
	alertFormat = 1
	// maxAlertDeliveries bounds the delivery ids kept per alert; older ones
	// are dropped as new ones are appended.
	maxAlertDeliveries = 20
	// maxAlertDetailBytes bounds the label and annotation bytes kept per
	// alert.
	maxAlertDetailBytes = 4 << 10
	// maxAlertTextBytes bounds the summary and the generator URL kept per
	// alert, and maxAlertNameBytes its target, receiver, group key and
	// fingerprint (all in one entry per alert, so a notification of
	// 10,000 alerts with a 16 KiB group key does not write 160 MB).
	maxAlertTextBytes = 1 << 10
	maxAlertNameBytes = 256
)

// cutMarker ends a label or annotation value the alert center shortened.
const cutMarker = "…[cut]"

// ErrNoAlert is returned for an alert id the store does not hold.
var ErrNoAlert = errors.New("no such alert")

// AlertEntry is one alert as the alert center keeps it: the latest
// HertzBeat-style record (its fields are inlined in JSON), when it was last
// updated, the context of the notification that last carried it, and the
// bridge targets of its recorded deliveries.
type AlertEntry struct {
	alert.Record
	// UpdatedAt is when a notification last carried the alert (the
	// record's gmtUpdate, in UTC).
	UpdatedAt    time.Time         `json:"updatedAt"`
	Fingerprint  string            `json:"fingerprint"`
	Annotations  map[string]string `json:"annotations"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
	Receiver     string            `json:"receiver"`
	GroupKey     string            `json:"groupKey"`
	// DeliveryTargets are the targets of the recorded deliveries, each
	// once, most recent first. Empty when no target took the alert.
	DeliveryTargets []string `json:"deliveryTargets"`
	// Test marks an alert of a test send (AcceptRequest.Test), not one
	// Alertmanager sent, whatever its group key.
	Test bool `json:"test,omitempty"`

	// deliveries are the recorded job ids, newest first.
	deliveries []uint64
}

// AlertFilter selects alerts for Alerts. The zero value selects all.
type AlertFilter struct {
	// Status is alert.StatusFiring or alert.StatusResolved; nil: any.
	Status *int
	// Priority is 0, 1 or 2; nil: any.
	Priority *int
	// Target is the record's target ("node/HighCPU"); empty: any.
	Target string
	// DeliveryTarget keeps alerts with a recorded delivery to this bridge
	// target (in any state); empty: any.
	DeliveryTarget string
	// Since keeps alerts updated at or after this time; zero: any.
	Since time.Time
}

// AlertCursor is a position in the alert list, which is ordered by update
// time and then id, both descending. The zero cursor is the start.
type AlertCursor struct {
	UpdatedAt int64 // unix ms
	ID        int64
}

// IsZero reports whether c is the start of the list.
func (c AlertCursor) IsZero() bool { return c == AlertCursor{} }

// String is the paging token: "<updated unix ms>-<id>".
func (c AlertCursor) String() string {
	return strconv.FormatInt(c.UpdatedAt, 10) + "-" + strconv.FormatInt(c.ID, 10)
}

// ParseAlertCursor reads a token made by AlertCursor.String.
func ParseAlertCursor(s string) (AlertCursor, error) {
	ms, id, ok := strings.Cut(s, "-")
	if ok {
		c := AlertCursor{}
		var err1, err2 error
		c.UpdatedAt, err1 = strconv.ParseInt(ms, 10, 64)
		c.ID, err2 = strconv.ParseInt(id, 10, 64)
		if err1 == nil && err2 == nil && c.UpdatedAt >= 0 && c.ID >= 0 {
			return c, nil
		}
	}
	return AlertCursor{}, fmt.Errorf("invalid alert cursor %q", s)
}

// after reports whether (ms, id) comes after c in the list, that is,
// sorts below it.
func (c AlertCursor) after(ms, id int64) bool {
	return c.IsZero() || ms < c.UpdatedAt || (ms == c.UpdatedAt && id < c.ID)
}

// AlertPage is one page request for Alerts.
type AlertPage struct {
	// Before: only alerts after this position (the previous page's next).
	Before AlertCursor
	// Limit is the page size; 0 or less means 100.
	Limit int
}

// alertAccept is one distinct alert of a notification being accepted.
type alertAccept struct {
	id   int64
	seen alert.Seen
	// old is the stored value (valid for the transaction), nil if new;
	// oldKey is its key.
	old, oldKey []byte
	// at is the alert's index in the notification (the last one, should
	// the same alert appear twice).
	at int
	// jobs are indices into the accepted jobs that carry the alert.
	jobs []int
}

// touchAlerts counts one more notification for each distinct alert id
// and reads the entries of alerts seen before, which recordAlerts
// rewrites. It writes nothing. seen[i] belongs to ids[i]. An alert seen
// for the first time costs a probe of the bloom filters, not a block read.
func touchAlerts(t *tx, ids []int64, now time.Time) (seen []alert.Seen, alerts []alertAccept, index map[int64]int, err error) {
	seen = make([]alert.Seen, len(ids))
	alerts = make([]alertAccept, 0, len(ids))
	index = make(map[int64]int, len(ids))
	for i, id := range ids {
		if k, dup := index[id]; dup {
			// The same alert twice in one notification counts once.
			alerts[k].at = i
			seen[i] = alerts[k].seen
			continue
		}
		a := alertAccept{id: id, at: i, seen: alert.Seen{Times: 1, FirstSeen: now}}
		if !t.d.mem.mayKnow(id) {
			index[id] = len(alerts)
			alerts = append(alerts, a)
			seen[i] = a.seen
			continue
		}
		ms, err := t.get(alertIdxKey(id))
		switch {
		case errors.Is(err, errNotFound):
		case err != nil:
			return nil, nil, nil, err
		case len(ms) != 8:
			return nil, nil, nil, fmt.Errorf("%w: alert index entry of %d bytes", ErrCorrupt, len(ms))
		default:
			a.oldKey = alertKey(int64(binary.BigEndian.Uint64(ms)), id)
			old, err := t.get(a.oldKey)
			if err != nil && !errors.Is(err, errNotFound) {
				return nil, nil, nil, err
			}
			if len(old) >= seenSize {
				a.old = old
				a.seen.Times = int64(binary.BigEndian.Uint64(old[0:8])) + 1
				a.seen.FirstSeen = time.UnixMilli(int64(binary.BigEndian.Uint64(old[8:16])))
			}
		}
		index[id] = len(alerts)
		alerts = append(alerts, a)
		seen[i] = a.seen
	}
	return seen, alerts, index, nil
}

// recordAlerts writes every alert of an accepted notification: counters,
// the latest record from g and the deliveries jobs[k] made for it.
func recordAlerts(t *tx, alerts []alertAccept, index map[int64]int, g *alert.Group, jobs []*Job, groups []*alert.Group, now time.Time, test bool) error {
	for k, vg := range groups {
		for _, r := range vg.Records {
			if i, ok := index[r.ID]; ok {
				if n := len(alerts[i].jobs); n == 0 || alerts[i].jobs[n-1] != k {
					alerts[i].jobs = append(alerts[i].jobs, k)
				}
			}
		}
	}
	for i := range alerts {
		a := &alerts[i]
		var val []byte
		if g != nil && a.at < len(g.Records) && a.at < len(g.Alerts) && g.Records[a.at].ID == a.id {
			val = encodeAlert(a, g, jobs, now, test)
		} else {
			val = make([]byte, seenSize)
			putHeader(val, a.seen, now)
		}
		key := alertKey(now.UnixMilli(), a.id)
		t.d.mem.addKnown(a.id)
		if a.oldKey != nil && string(a.oldKey) != string(key) {
			if err := t.del(a.oldKey); err != nil {
				return fmt.Errorf("recording alert: %w", err)
			}
		}
		if err := t.set(key, val); err != nil {
			return fmt.Errorf("recording alert: %w", err)
		}
		if a.oldKey == nil || string(a.oldKey) != string(key) {
			if err := t.set(alertIdxKey(a.id), u64(uint64(now.UnixMilli()))); err != nil {
				return fmt.Errorf("recording alert: %w", err)
			}
		}
	}
	return nil
}

func putHeader(val []byte, seen alert.Seen, now time.Time) {
	binary.BigEndian.PutUint64(val[0:8], uint64(seen.Times))
	binary.BigEndian.PutUint64(val[8:16], uint64(seen.FirstSeen.UnixMilli()))
	binary.BigEndian.PutUint64(val[16:24], uint64(now.UnixMilli()))
}

// encodeAlert builds the value of one alert: header, filter fields, the
// old deliveries (without decoding them) plus the new ones, details.
func encodeAlert(a *alertAccept, g *alert.Group, jobs []*Job, now time.Time, test bool) []byte {
	r := &g.Records[a.at]
	am := &g.Alerts[a.at]
	// Old deliveries: raw bytes, minus the oldest beyond the bound.
	var oldDeliv []byte
	oldN := 0
	if p, ok := parseAlert(a.old); ok {
		if deliv, _, ok := p.split(); ok {
			oldN, oldDeliv = p.nDeliv, deliv
		}
	}
	keep := maxAlertDeliveries - len(a.jobs)
	for ; oldN > max(keep, 0); oldN-- {
		oldDeliv = skipDelivery(oldDeliv)
	}
	newJobs := a.jobs
	if len(newJobs) > maxAlertDeliveries {
		newJobs = newJobs[len(newJobs)-maxAlertDeliveries:]
	}
	tags, annotations := boundDetails(r.Tags, am.Annotations)
	rec := *r
	rec.Tags = tags
	rec.Target = bounded(r.Target, maxAlertNameBytes)
	rec.Content = bounded(r.Content, maxAlertTextBytes)
	generatorURL := bounded(am.GeneratorURL, maxAlertTextBytes)
	receiver, groupKey := bounded(g.Receiver, maxAlertNameBytes), bounded(g.GroupKey, maxAlertNameBytes)
	fingerprint := bounded(am.Fingerprint, maxAlertNameBytes)
	size := seenSize + 3 + 2*binary.MaxVarintLen64 + len(rec.Target) + len(oldDeliv) + 256 +
		len(rec.Content) + len(generatorURL) + len(receiver) + len(groupKey) + len(fingerprint)
	for _, k := range newJobs {
		size += 9 + len(jobs[k].Target)
	}
	for k, v := range tags {
		size += len(k) + len(v) + 2
	}
	for k, v := range annotations {
		size += len(k) + len(v) + 2
	}
	val := make([]byte, seenSize, size)
	putHeader(val, a.seen, now)
	val = append(val, alertFormat, byte(r.Status), byte(r.Priority))
	val = appendStr(val, rec.Target)
	val = binary.AppendUvarint(val, uint64(oldN+len(newJobs)))
	val = append(val, oldDeliv...)
	for _, k := range newJobs {
		val = binary.BigEndian.AppendUint64(val, jobs[k].ID)
		val = appendStr(val, jobs[k].Target)
	}
	val = appendDetails(val, &rec, fingerprint, annotations, generatorURL, receiver, groupKey)
	if test {
		val = append(val, testFlag)
	}
	return val
}

// testFlag is the byte after the details of a test send's alert; other
// alerts end with their details.
const testFlag = 1

// bounded returns s, or s cut to at most n bytes ending with cutMarker.
func bounded(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return shorten(s, n-len(cutMarker)) + cutMarker
}

// boundDetails returns labels and annotations whose keys and values take
// at most maxAlertDetailBytes together: unchanged when they fit;
// otherwise the longest values are shortened (on a rune boundary, ending
// with cutMarker) until they do, and if keys alone are too many, the
// pairs past the budget are left out, in key order, and the label
// "alertbridge_cut" says how many.
func boundDetails(tags, annotations map[string]string) (map[string]string, map[string]string) {
	total, keys := 0, 0
	for _, m := range []map[string]string{tags, annotations} {
		for k, v := range m {
			total += len(k) + len(v)
			keys += len(k)
		}
	}
	if total <= maxAlertDetailBytes {
		return tags, annotations
	}
	n := len(tags) + len(annotations)
	// The largest per-value cap that fits: values up to it are kept
	// whole, longer ones are cut to it.
	var lens []int
	for _, m := range []map[string]string{tags, annotations} {
		for _, v := range m {
			lens = append(lens, len(v))
		}
	}
	slices.Sort(lens)
	budget := maxAlertDetailBytes - keys - n*len(cutMarker)
	capLen := 0
	if budget > 0 {
		used := 0
		capLen = budget / n
		for i, l := range lens {
			if rest := n - i; used+l*rest > budget {
				capLen = (budget - used) / rest
				break
			}
			used += l
		}
	}
	cut := func(m map[string]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			if len(v) > capLen {
				v = shorten(v, capLen) + cutMarker
			}
			out[k] = v
		}
		return out
	}
	t, a := cut(tags), cut(annotations)
	if budget > 0 {
		return t, a
	}
	// Too many keys to keep every pair: keep them in key order while they
	// fit.
	left := maxAlertDetailBytes - 64
	dropped := 0
	keep := func(m map[string]string) map[string]string {
		names := slices.Sorted(maps.Keys(m))
		out := make(map[string]string, len(m))
		for _, k := range names {
			if size := len(k) + len(m[k]); size <= left {
				out[k] = m[k]
				left -= size
			} else {
				dropped++
			}
		}
		return out
	}
	t, a = keep(t), keep(a)
	t["alertbridge_cut"] = strconv.Itoa(dropped) + " labels and annotations not kept"
	return t, a
}

// shorten cuts s to at most n bytes on a rune boundary.
func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// appendDetails encodes what only answers read. Times and gmtCreate are
// part of it, although the header has the counters, so a record reads back
// exactly as it was sent.
func appendDetails(val []byte, r *alert.Record, fingerprint string, annotations map[string]string, generatorURL, receiver, groupKey string) []byte {
	val = binary.BigEndian.AppendUint64(val, uint64(r.AlertDefineID))
	val = binary.BigEndian.AppendUint64(val, uint64(r.Times))
	val = binary.BigEndian.AppendUint64(val, uint64(r.FirstTriggerTime))
	val = binary.BigEndian.AppendUint64(val, uint64(r.LastTriggerTime))
	val = appendStr(val, r.Content)
	val = appendStr(val, r.GmtCreate)
	val = appendStr(val, r.GmtUpdate)
	val = appendMap(val, r.Tags)
	val = appendStr(val, fingerprint)
	val = appendMap(val, annotations)
	val = appendStr(val, generatorURL)
	val = appendStr(val, receiver)
	return appendStr(val, groupKey)
}

func appendStr(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendMap[M ~map[string]string](b []byte, m M) []byte {
	b = binary.AppendUvarint(b, uint64(len(m)))
	for k, v := range m {
		b = appendStr(b, k)
		b = appendStr(b, v)
	}
	return b
}

// alertPrefix is an alert value read up to its deliveries, without
// copying: what a listing needs to decide on an entry.
type alertPrefix struct {
	last             int64 // updated, unix ms
	status, priority int
	target           []byte
	nDeliv           int
	// rest holds the n deliveries, then the details; split them apart.
	rest []byte
}

// parseAlert reads the fields listings filter on. ok is false for a
// counters-only value or one it cannot read.
func parseAlert(v []byte) (p alertPrefix, ok bool) {
	if len(v) < seenSize+3 || v[seenSize] != alertFormat {
		return p, false
	}
	p.last = int64(binary.BigEndian.Uint64(v[16:24]))
	p.status, p.priority = int(v[25]), int(v[26])
	r := reader{b: v[27:]}
	p.target = r.bytes()
	n := r.uvarint()
	// A delivery takes at least 9 bytes.
	if r.bad || n > uint64(len(r.b)/9) {
		return alertPrefix{}, false
	}
	p.nDeliv = int(n)
	p.rest = r.b
	return p, true
}

// split returns the raw deliveries and the details; ok is false if the
// deliveries cannot be read.
func (p *alertPrefix) split() (deliv, details []byte, ok bool) {
	r := reader{b: p.rest}
	for i := 0; i < p.nDeliv && !r.bad; i++ {
		r.u64()
		r.bytes()
	}
	if r.bad {
		return nil, nil, false
	}
	return p.rest[:len(p.rest)-len(r.b)], r.b, true
}

// skipDelivery drops the first delivery of a raw list.
func skipDelivery(b []byte) []byte {
	r := reader{b: b}
	r.u64()
	r.bytes()
	return r.b
}

// eachDelivery calls fn for each delivery, oldest first, until fn returns
// false or the list ends.
func (p *alertPrefix) eachDelivery(fn func(id uint64, target []byte) bool) {
	r := reader{b: p.rest}
	for i := 0; i < p.nDeliv; i++ {
		id := r.u64()
		t := r.bytes()
		if r.bad || !fn(id, t) {
			return
		}
	}
}

func (p *alertPrefix) matches(f *AlertFilter, since int64) bool {
	if f.Status != nil && p.status != *f.Status {
		return false
	}
	if f.Priority != nil && p.priority != *f.Priority {
		return false
	}
	if f.Target != "" && string(p.target) != f.Target {
		return false
	}
	if p.last < since {
		return false
	}
	if f.DeliveryTarget != "" {
		found := false
		p.eachDelivery(func(_ uint64, t []byte) bool {
			found = string(t) == f.DeliveryTarget
			return !found
		})
		return found
	}
	return true
}

// decodeAlert builds the entry of alert id from its stored value.
func decodeAlert(id int64, v []byte) (*AlertEntry, error) {
	p, ok := parseAlert(v)
	if !ok {
		return nil, fmt.Errorf("decoding alert %d: unreadable entry", id)
	}
	_, details, ok := p.split()
	if !ok {
		return nil, fmt.Errorf("decoding alert %d: unreadable deliveries", id)
	}
	e := &AlertEntry{UpdatedAt: time.UnixMilli(p.last).UTC()}
	e.ID, e.Status, e.Priority, e.Target = id, p.status, p.priority, string(p.target)
	r := reader{b: details}
	e.AlertDefineID = int64(r.u64())
	e.Times = int64(r.u64())
	e.FirstTriggerTime = int64(r.u64())
	e.LastTriggerTime = int64(r.u64())
	e.Content, e.GmtCreate, e.GmtUpdate = r.str(), r.str(), r.str()
	e.Tags = r.strMap()
	e.Fingerprint = r.str()
	e.Annotations = r.strMap()
	e.GeneratorURL, e.Receiver, e.GroupKey = r.str(), r.str(), r.str()
	e.Test = len(r.b) == 1 && r.b[0] == testFlag
	if r.bad {
		return nil, fmt.Errorf("decoding alert %d: unreadable details", id)
	}
	// Newest first, and the targets by their most recent delivery.
	e.deliveries = make([]uint64, p.nDeliv)
	targets := make([][]byte, p.nDeliv)
	i := p.nDeliv
	p.eachDelivery(func(job uint64, t []byte) bool {
		i--
		e.deliveries[i], targets[i] = job, t
		return true
	})
	e.DeliveryTargets = []string{}
	for _, t := range targets {
		if !slices.Contains(e.DeliveryTargets, string(t)) {
			e.DeliveryTargets = append(e.DeliveryTargets, string(t))
		}
	}
	return e, nil
}

// reader reads the alert encoding; a short or malformed input sets bad
// and yields zero values.
type reader struct {
	b   []byte
	bad bool
}

func (r *reader) u64() uint64 {
	if len(r.b) < 8 {
		r.bad, r.b = true, nil
		return 0
	}
	v := binary.BigEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.bad, r.b = true, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes() []byte {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) {
		r.bad, r.b = true, nil
		return nil
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s
}

func (r *reader) str() string { return string(r.bytes()) }

func (r *reader) strMap() map[string]string {
	n := r.uvarint()
	if r.bad || n > uint64(len(r.b)) { // every pair takes at least 2 bytes
		r.bad = true
		return nil
	}
	m := make(map[string]string, n)
	for i := uint64(0); i < n && !r.bad; i++ {
		k := r.str()
		m[k] = r.str()
	}
	return m
}

// Alerts lists the alert center, most recently updated first (ties by id,
// descending), filtered by f, one page at a time. next is the position to
// pass as the following page's Before, or zero when nothing follows.
//
// Cost: the log bucket is in list order, so a call reads from its
// position backwards until the page is full and one more entry matches,
// or, with f.Since, until the entries are older. Filtering reads only
// each entry's fixed-offset header and filter fields; only the page's
// entries are decoded. A filter that matches few alerts reads further
// (BenchmarkAlerts).
func (d *DB) Alerts(f AlertFilter, page AlertPage) (entries []*AlertEntry, next AlertCursor, err error) {
	limit := page.Limit
	if limit <= 0 {
		limit = 100
	}
	since := int64(-1 << 63)
	if !f.Since.IsZero() {
		since = f.Since.UnixMilli()
	}
	entries = []*AlertEntry{}
	var start []byte
	if !page.Before.IsZero() {
		start = alertKey(page.Before.UpdatedAt, page.Before.ID)
	}
	err = d.read(func() error {
		return d.iterate([]byte{kindAlert}, start, true, func(k, v []byte) (bool, error) {
			if len(k) != 17 {
				return true, nil
			}
			ms, id := int64(binary.BigEndian.Uint64(k[1:])), int64(binary.BigEndian.Uint64(k[9:]))
			if ms < since {
				return false, nil
			}
			p, ok := parseAlert(v)
			if !ok || !p.matches(&f, since) {
				return true, nil
			}
			if len(entries) == limit {
				last := entries[len(entries)-1]
				next = AlertCursor{UpdatedAt: last.UpdatedAt.UnixMilli(), ID: last.ID}
				return false, nil
			}
			e, err := decodeAlert(id, v)
			if err != nil {
				return false, err
			}
			entries = append(entries, e)
			return true, nil
		})
	})
	if err != nil {
		return nil, AlertCursor{}, err
	}
	return entries, next, nil
}

// Alert returns one alert and its recorded deliveries, newest first, in
// whatever state they are now (pending, delivered or dead). Deliveries
// pruned from the history or deleted are left out. ErrNoAlert if the
// store does not hold the alert.
func (d *DB) Alert(id int64) (*AlertEntry, []*Job, error) {
	var e *AlertEntry
	var jobs []*Job
	err := d.read(func() error {
		ms, err := d.get(alertIdxKey(id))
		if errors.Is(err, errNotFound) || (err == nil && len(ms) != 8) {
			return ErrNoAlert
		}
		if err != nil {
			return err
		}
		v, err := d.get(alertKey(int64(binary.BigEndian.Uint64(ms)), id))
		if errors.Is(err, errNotFound) {
			return ErrNoAlert
		}
		if err != nil {
			return err
		}
		if _, ok := parseAlert(v); !ok {
			return ErrNoAlert
		}
		if e, err = decodeAlert(id, v); err != nil {
			return err
		}
		jobs = []*Job{}
		for _, jid := range e.deliveries {
			for _, state := range []string{StatePending, StateDead, StateDelivered} {
				j, err := getJob(d, state, jid)
				if err != nil {
					return err
				}
				if j != nil {
					jobs = append(jobs, j)
					break
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return e, jobs, nil
}

// PruneAlerts forgets alerts not notified since before cutoff: their
// counters and their alert center entry. It returns how many were removed.
func (d *DB) PruneAlerts(cutoff time.Time) (int, error) {
	removed := 0
	for {
		var stale [][]byte
		err := d.read(func() error {
			return d.iterate([]byte{kindAlert}, nil, false, func(k, _ []byte) (bool, error) {
				if len(k) != 17 || int64(binary.BigEndian.Uint64(k[1:])) >= cutoff.UnixMilli() {
					return false, nil
				}
				stale = append(stale, append([]byte(nil), k...))
				return len(stale) < pruneBatch, nil
			})
		})
		if err != nil {
			return removed, err
		}
		if len(stale) == 0 {
			return removed, d.rebuildKnown(removed)
		}
		err = d.write(func(t *tx) error {
			for _, k := range stale {
				id := int64(binary.BigEndian.Uint64(k[9:]))
				// A notification may have moved the alert meanwhile.
				if ms, err := t.get(alertIdxKey(id)); err == nil && len(ms) == 8 && string(ms) == string(k[1:9]) {
					if err := t.del(alertIdxKey(id)); err != nil {
						return err
					}
				}
				if err := t.del(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return removed, err
		}
		removed += len(stale)
		if len(stale) < pruneBatch {
			return removed, d.rebuildKnown(removed)
		}
	}
}

// rebuildKnown rebuilds the filter of known alerts from the alert center's
// keys when it holds more than it was sized for, or when more than half
// of what it holds was removed since it was built (a filter cannot forget
// them; until then they cost a disk read each when seen again, nothing
// worse). Rebuilding holds up writes for the walk over the keys, about a
// second per million alerts, so it is not done at every pruning.
func (d *DB) rebuildKnown(removed int) error {
	if !d.mem.forgotten(removed) && !d.mem.knownFull() {
		return nil
	}
	// Writes wait meanwhile, so no alert is added between the walk and
	// the swap (a walk of a million keys takes about a second). Locks in
	// write's order: life, then wmu.
	d.life.RLock()
	defer d.life.RUnlock()
	if d.closed {
		return ErrClosed
	}
	d.wmu.Lock()
	defer d.wmu.Unlock()
	var ids []int64
	err := d.iterateWith([]byte{kindAlert}, false, func(k, _ []byte) (bool, error) {
		if len(k) == 17 {
			ids = append(ids, int64(binary.BigEndian.Uint64(k[9:])))
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	d.mem.setKnown(ids)
	return nil
}
