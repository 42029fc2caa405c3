package store

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// Report is what a store holds and what is wrong with it.
type Report struct {
	Dir string `json:"dir"`
	// Jobs counts jobs per state, then per target.
	Jobs map[string]map[string]int `json:"jobs"`
	// Notifications counts the stored notifications (the payloads of
	// pending and dead jobs).
	Notifications int `json:"notifications"`
	Alerts        int `json:"alerts"`
	DedupKeys     int `json:"dedupKeys"`
	// Bytes is the size of the folder on disk.
	Bytes    int64  `json:"bytes"`
	MaxJobID uint64 `json:"maxJobId"`
	// Problems lists the damage found, one line each; empty when the
	// store is sound.
	Problems []string `json:"problems"`
}

// Damaged reports whether the check found a problem.
func (r *Report) Damaged() bool { return len(r.Problems) > 0 }

// maxProblems bounds the problems a report lists one by one.
const maxProblems = 20

func (r *Report) problem(format string, args ...any) {
	if len(r.Problems) == maxProblems {
		r.Problems = append(r.Problems, "(more problems not listed)")
	}
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
	}
}

// Check opens the store in dir read-only and reads all of it: every
// block's checksum, every job, payload and alert entry, and the links
// between them. A store that cannot be opened is reported as a problem
// with the reason, not as an error; err is for a folder that holds no
// store at all, or one another process has open (ErrLocked).
func Check(dir string) (*Report, error) {
	rep := &Report{Dir: dir, Jobs: map[string]map[string]int{}, Problems: []string{}}
	if err := inspectFolder(dir, false); err != nil {
		if errors.Is(err, ErrCorrupt) || errors.Is(err, ErrOldFormat) {
			rep.problem("%v", err)
			return rep, nil
		}
		return nil, err
	}
	rep.Bytes = folderSize(dir)
	d, err := Open(dir, Options{ReadOnly: true})
	if errors.Is(err, ErrLocked) {
		return nil, fmt.Errorf("%w; stop the bridge before checking its store", err)
	}
	if err != nil {
		rep.problem("%v", err)
		return rep, nil
	}
	defer d.Close()
	full, err := d.scan(true, nil)
	if err != nil {
		rep.problem("%v", err)
		return rep, nil
	}
	full.Bytes = rep.Bytes
	return full, nil
}

func folderSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if info, err := e.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// scan reads the whole store and reports what it holds and what is
// wrong. With deep, payloads are decoded too; without, they are only read
// (their blocks' checksums still verified). A non-nil mem is filled with
// the in-memory index of what it reads.
func (d *DB) scan(deep bool, mem *memIndex) (rep *Report, err error) {
	rep = &Report{Dir: d.dir, Jobs: map[string]map[string]int{}, Problems: []string{}}
	defer func() {
		if p := recover(); p != nil {
			rep.problem("the engine failed while reading: %v", p)
			err = nil
		}
	}()
	// The notifications that pending and dead jobs need, and which jobs.
	needed := map[uint64][]uint64{}
	var known []int64 // alert ids, for mem
	for _, state := range []string{StatePending, StateDead, StateDelivered} {
		err := d.iterate([]byte{stateKinds[state]}, nil, false, func(k, v []byte) (bool, error) {
			id, _ := keyID(k)
			j, err := decodeJob(k, v)
			if err != nil {
				rep.problem("%v", err)
				return true, nil
			}
			if j.ID != id || j.State != state {
				rep.problem("delivery under key %d says it is %d in state %q", id, j.ID, j.State)
			}
			rep.MaxJobID = max(rep.MaxJobID, id)
			if rep.Jobs[state] == nil {
				rep.Jobs[state] = map[string]int{}
			}
			rep.Jobs[state][j.Target]++
			if state == StateDelivered {
				return true, nil
			}
			needed[j.Notification] = append(needed[j.Notification], id)
			if mem != nil {
				mem.refs[j.Notification]++
				if state == StatePending {
					h := mem.hashBytes(latestKey(j.Target, j.GroupKey))
					mem.pending[h] = max(mem.pending[h], id)
				}
			}
			return true, nil
		})
		if err != nil {
			rep.problem("reading %s deliveries: %v", state, err)
		}
	}
	// Without deep, notifications are listed by key only: their values
	// live in blob files, and reading every one would make a start with a
	// large backlog take seconds (VerifyNotifications reads them after
	// the start).
	err = d.iterateWith([]byte{kindNotification}, deep, func(k, v []byte) (bool, error) {
		nid, _ := keyID(k)
		rep.Notifications++
		rep.MaxJobID = max(rep.MaxJobID, nid)
		if deep {
			if err := checkNotification(v); err != nil {
				rep.problem("notification %d (of deliveries %v): %v", nid, needed[nid], err)
			}
		}
		delete(needed, nid)
		return true, nil
	})
	if err != nil {
		rep.problem("reading notifications: %v", err)
	}
	missing := make([]uint64, 0, len(needed))
	for nid := range needed {
		missing = append(missing, nid)
	}
	sort.Slice(missing, func(i, j int) bool { return missing[i] < missing[j] })
	for _, nid := range missing {
		rep.problem("deliveries %v: their notification %d is missing", needed[nid], nid)
	}
	// Alert center entries, like notifications, are read in full only
	// when deep (VerifyValues reads them after the start).
	err = d.iterateWith([]byte{kindAlert}, deep, func(k, v []byte) (bool, error) {
		if len(k) != 17 || (deep && len(v) < seenSize) {
			rep.problem("alert entry %x is malformed", k)
			return true, nil
		}
		rep.Alerts++
		if mem != nil {
			known = append(known, int64(binary.BigEndian.Uint64(k[9:])))
		}
		if len(v) > seenSize {
			if _, err := decodeAlert(int64(binary.BigEndian.Uint64(k[9:])), v); err != nil {
				rep.problem("%v", err)
			}
		}
		return true, nil
	})
	if err != nil {
		rep.problem("reading alerts: %v", err)
	}
	if mem != nil {
		mem.setKnown(known)
	}
	err = d.iterate([]byte{kindDedup}, nil, false, func(k, v []byte) (bool, error) {
		if len(v) != 8 {
			rep.problem("dedup key of %d bytes", len(v))
		} else if mem != nil {
			mem.dedup[mem.hash(string(k[1:]))] = int64(binary.BigEndian.Uint64(v))
		}
		rep.DedupKeys++
		return true, nil
	})
	if err != nil {
		rep.problem("reading dedup keys: %v", err)
	}
	for _, kind := range []byte{kindExpiry, kindLatest, kindAlertIdx} {
		if err := d.iterate([]byte{kind}, nil, false, func(_, _ []byte) (bool, error) { return true, nil }); err != nil {
			rep.problem("reading index %q: %v", kind, err)
		}
	}
	return rep, nil
}

// VerifyValues reads and decodes what Open only listed, as Check does,
// on the open store: every stored notification and alert center entry.
// The bridge runs it after starting, so a large backlog does not delay
// the start and damage is still reported before the delivery that needs
// the value comes up. It returns the first damage found, or nil.
func (d *DB) VerifyValues() error {
	var problem error
	found := func(k []byte, err error) {
		problem = d.readErr(fmt.Errorf("%w: %s: %s %x: %v", ErrCorrupt, d.dir, kindName(k[0]), k[1:], err))
	}
	err := d.read(func() error {
		err := d.iterateWith([]byte{kindNotification}, true, func(k, v []byte) (bool, error) {
			if d.closing.Load() {
				return false, nil
			}
			if err := checkNotification(v); err != nil {
				found(k, err)
				return false, nil
			}
			return true, nil
		})
		if err != nil || problem != nil {
			return err
		}
		return d.iterateWith([]byte{kindAlert}, true, func(k, v []byte) (bool, error) {
			if d.closing.Load() {
				return false, nil
			}
			if len(k) != 17 || len(v) < seenSize {
				found(k, errors.New("malformed"))
				return false, nil
			}
			if len(v) > seenSize {
				if _, err := decodeAlert(int64(binary.BigEndian.Uint64(k[9:])), v); err != nil {
					found(k, err)
					return false, nil
				}
			}
			return true, nil
		})
	})
	if errors.Is(err, ErrClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	return problem
}

func kindName(kind byte) string {
	switch kind {
	case kindNotification:
		return "notification"
	case kindAlert:
		return "alert entry"
	}
	return fmt.Sprintf("key kind %q", kind)
}

// SalvageReport tells what Salvage copied and what it could not read.
type SalvageReport struct {
	Jobs     map[string]int `json:"jobs"` // per state
	Alerts   int            `json:"alerts"`
	Lost     int            `json:"lost"` // jobs whose payload could not be read
	Problems []string       `json:"problems"`
}

// Salvage copies every readable job (with its payload) and alert entry of
// the store in from into a new store in to, which must be missing or
// empty. Dedup keys are not copied: at worst a notification Alertmanager
// sends again is delivered again. Reading goes on past damaged blocks,
// skipping ahead to the next readable key.
func Salvage(from, to string) (*SalvageReport, error) {
	if err := inspectFolder(from, false); err != nil && !errors.Is(err, ErrCorrupt) {
		return nil, err
	}
	if entries, err := os.ReadDir(to); err == nil && len(entries) > 0 {
		return nil, fmt.Errorf("salvage target %s must be a missing or empty folder", to)
	}
	// Corruption found by a read comes back as that read's error (the
	// walk skips past it), not as the default Logger.Fatalf panic.
	src, err := pebble.Open(filepath.Join(from, DataDir), &pebble.Options{ReadOnly: true, ErrorIfNotExists: true, Logger: engineLogger{},
		EventListener: &pebble.EventListener{DataCorruption: func(pebble.DataCorruptionInfo) {}}})
	if err != nil {
		return nil, describeOpenError(from, err)
	}
	defer src.Close()
	dst, err := Open(to, Options{})
	if err != nil {
		return nil, err
	}
	defer dst.Close()
	rep := &SalvageReport{Jobs: map[string]int{}}
	latest := map[string]uint64{}
	copied := map[uint64]bool{} // notifications already in the new store
	for _, state := range []string{StatePending, StateDead, StateDelivered} {
		walkSalvage(src, stateKinds[state], rep, func(k, v []byte) error {
			j, err := decodeJob(k, v)
			if err != nil {
				rep.Problems = append(rep.Problems, err.Error())
				return nil
			}
			var notification []byte
			if state != StateDelivered && !copied[j.Notification] {
				notification, err = salvageGet(src, notificationKey(j.Notification))
				if err == nil {
					err = checkNotification(notification)
				}
				if err != nil {
					rep.Lost++
					rep.Problems = append(rep.Problems, fmt.Sprintf("delivery %d (%s, target %s): notification %d unreadable: %v", j.ID, state, j.Target, j.Notification, err))
					return nil
				}
			}
			err = dst.write(func(t *tx) error {
				t.d.seq = max(t.d.seq, j.ID, j.Notification)
				if notification != nil {
					if err := t.set(notificationKey(j.Notification), notification); err != nil {
						return err
					}
				}
				if state != StateDelivered {
					t.ref(j.Notification, 1)
				}
				return putJob(t, j)
			})
			if err != nil {
				return err
			}
			if state != StateDelivered {
				copied[j.Notification] = true
			}
			rep.Jobs[state]++
			lk := string(latestKey(j.Target, j.GroupKey))
			latest[lk] = max(latest[lk], j.ID)
			return nil
		})
	}
	walkSalvage(src, kindAlert, rep, func(k, v []byte) error {
		if len(k) != 17 || len(v) < seenSize {
			return nil
		}
		if len(v) > seenSize {
			if _, err := decodeAlert(int64(binary.BigEndian.Uint64(k[9:])), v); err != nil {
				rep.Problems = append(rep.Problems, err.Error())
				return nil
			}
		}
		rep.Alerts++
		return dst.write(func(t *tx) error {
			if err := t.set(k, v); err != nil {
				return err
			}
			return t.set(alertIdxKey(int64(binary.BigEndian.Uint64(k[9:]))), k[1:9])
		})
	})
	err = dst.write(func(t *tx) error {
		for lk, id := range latest {
			if err := t.set([]byte(lk), u64(id)); err != nil {
				return err
			}
		}
		return nil
	})
	return rep, err
}

// salvageGet reads one key, turning an engine panic into an error.
func salvageGet(db *pebble.DB, key []byte) (v []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine failed: %v", p)
		}
	}()
	val, closer, err := db.Get(key)
	if err != nil {
		return nil, err
	}
	v = append([]byte(nil), val...)
	// The error of reading a value kept in a blob file comes from Close.
	if err := closer.Close(); err != nil {
		return nil, err
	}
	return v, nil
}

// walkSalvage calls fn for every readable key of a kind in key order.
// When a block cannot be read it records the problem and seeks ahead past
// the damage, with growing steps in the key's leading number.
func walkSalvage(db *pebble.DB, kind byte, rep *SalvageReport, fn func(k, v []byte) error) {
	prefix := []byte{kind}
	from := prefix
	for from != nil {
		last, err := walkFrom(db, prefix, from, fn)
		if err == nil {
			return
		}
		rep.Problems = append(rep.Problems, fmt.Sprintf("reading keys of kind %q after %x: %v", kind, last, err))
		from = nil
		base := last
		if base == nil {
			base = append(prefix, make([]byte, 8)...)
		}
		// lo is a step known to land in the damage, hi the first step
		// found past it; halving the gap between them finds the first
		// readable key after the damage, so the growing steps skip none.
		var lo, hi uint64
		for step := uint64(1); step != 0 && step < 1<<62; step <<= 1 {
			next := bump(base, step)
			if next == nil {
				break
			}
			if ok, _ := readable(db, prefix, next); ok {
				hi = step
				break
			}
			lo = step
		}
		if hi != 0 {
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if ok, _ := readable(db, prefix, bump(base, mid)); ok {
					hi = mid
				} else {
					lo = mid
				}
			}
			from = bump(base, hi)
		}
	}
}

// walkFrom walks prefix from start; it returns the last key read and the
// error that stopped it.
func walkFrom(db *pebble.DB, prefix, start []byte, fn func(k, v []byte) error) (last []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("engine failed: %v", p)
		}
	}()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	for ok := it.SeekGE(start); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return last, err
		}
		last = append(last[:0], it.Key()...)
		if err := fn(last, v); err != nil {
			return last, err
		}
	}
	return last, it.Error()
}

// readable reports whether the first key at or after from can be read.
func readable(db *pebble.DB, prefix, from []byte) (ok bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			ok = false
		}
	}()
	it, err := db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return false, err
	}
	defer it.Close()
	if !it.SeekGE(from) {
		return it.Error() == nil, it.Error()
	}
	_, err = it.ValueAndErr()
	return err == nil, err
}

// bump returns key with step added to the 8-byte number after its kind
// byte, or nil when it overflows.
func bump(key []byte, step uint64) []byte {
	if len(key) < 9 {
		return nil
	}
	n := binary.BigEndian.Uint64(key[1:9])
	if n+step < n {
		return nil
	}
	out := make([]byte, 9)
	out[0] = key[0]
	binary.BigEndian.PutUint64(out[1:], n+step)
	return out
}
