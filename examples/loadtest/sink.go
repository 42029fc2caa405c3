package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// maxSinkBody bounds one delivery body read by the sink.
const maxSinkBody = 16 << 20

// groupID identifies one generated group: the run and the group number.
type groupID struct {
	run   string
	group int
}

// arrival is what the sink knows of one group.
type arrival struct {
	count int       // deliveries answered 200
	first time.Time // arrival of the first of them
}

// sink records the groups delivered to it. With run set it belongs to one
// load-test run: groups of other runs are counted as foreign, groups
// without a run id are taken as this run's.
type sink struct {
	run     string
	delay   time.Duration
	failFor time.Duration
	start   time.Time

	mu     sync.Mutex
	groups map[groupID]*arrival

	requests     atomic.Int64 // every request
	deliveries   atomic.Int64 // answered 200 with at least one group of the run
	rejected     atomic.Int64 // answered 503 during failFor
	abandoned    atomic.Int64 // sender hung up before the answer
	unrecognized atomic.Int64 // no group found in the body
	foreign      atomic.Int64 // groups of another run
	badRequests  atomic.Int64 // not a POST, or body unreadable
}

func newSink(run string, delay, failFor time.Duration) *sink {
	return &sink{run: run, delay: delay, failFor: failFor, start: time.Now(), groups: map[groupID]*arrival{}}
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if r.Method != http.MethodPost {
		s.badRequests.Add(1)
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSinkBody))
	if err != nil {
		s.badRequests.Add(1)
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	at := time.Now()
	if s.failFor > 0 && at.Sub(s.start) < s.failFor {
		s.rejected.Add(1)
		http.Error(w, "sink is down (-sink.fail-for)", http.StatusServiceUnavailable)
		return
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.abandoned.Add(1)
			return
		}
	}
	if r.Context().Err() != nil {
		s.abandoned.Add(1)
		return
	}
	ids := extractGroups(body)
	if len(ids) == 0 {
		s.unrecognized.Add(1)
	} else {
		s.record(ids, at)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"ok":true}` + "\n"))
}

func (s *sink) record(ids []groupID, at time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ours := false
	for _, id := range ids {
		if s.run != "" {
			if id.run != "" && id.run != s.run {
				s.foreign.Add(1)
				continue
			}
			id.run = s.run
		}
		ours = true
		a := s.groups[id]
		if a == nil {
			a = &arrival{first: at}
			s.groups[id] = a
		}
		a.count++
	}
	if ours {
		s.deliveries.Add(1)
	}
}

// lookup returns what arrived of group n of the sink's run.
func (s *sink) lookup(n int) (arrival, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.groups[groupID{run: s.run, group: n}]
	if !ok {
		return arrival{}, false
	}
	return *a, true
}

// delivered counts the distinct groups of the sink's run that arrived.
func (s *sink) delivered() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == "" {
		return len(s.groups)
	}
	n := 0
	for id := range s.groups {
		if id.run == s.run {
			n++
		}
	}
	return n
}

// sinkStats is a snapshot of every group the sink saw, for -sink-only.
type sinkStats struct {
	Requests, Deliveries, Groups, DuplicateGroups, ExtraDeliveries int64
	Rejected, Abandoned, Unrecognized, Foreign, BadRequests        int64
	Runs                                                           []string
}

func (s *sink) stats() sinkStats {
	s.mu.Lock()
	st := sinkStats{Groups: int64(len(s.groups))}
	runs := map[string]bool{}
	for id, a := range s.groups {
		runs[id.run] = true
		if a.count > 1 {
			st.DuplicateGroups++
			st.ExtraDeliveries += int64(a.count - 1)
		}
	}
	s.mu.Unlock()
	for r := range runs {
		if r == "" {
			r = "(none)"
		}
		st.Runs = append(st.Runs, r)
	}
	sort.Strings(st.Runs)
	st.Requests = s.requests.Load()
	st.Deliveries = s.deliveries.Load()
	st.Rejected = s.rejected.Load()
	st.Abandoned = s.abandoned.Load()
	st.Unrecognized = s.unrecognized.Load()
	st.Foreign = s.foreign.Load()
	st.BadRequests = s.badRequests.Load()
	return st
}

func (st sinkStats) String() string {
	return fmt.Sprintf("requests=%d deliveries=%d groups=%d duplicate_groups=%d extra_deliveries=%d rejected=%d abandoned=%d unrecognized=%d bad_requests=%d runs=%v",
		st.Requests, st.Deliveries, st.Groups, st.DuplicateGroups, st.ExtraDeliveries,
		st.Rejected, st.Abandoned, st.Unrecognized, st.BadRequests, st.Runs)
}

var (
	groupKeyGroupRE = regexp.MustCompile(`loadtest_group="?([0-9]+)"?`)
	groupKeyRunRE   = regexp.MustCompile(`loadtest_run="?([0-9A-Za-z_-]+)"?`)
)

// extractGroups returns the distinct groups a delivery body carries. The
// body is any JSON value: objects with a "loadtest_group" value (such as the
// tags of the default webhook records) name a group, paired with a sibling
// "loadtest_run"; a "groupKey" string names the group and run in it. A
// group found without a run takes the body's run when the body names
// exactly one.
func extractGroups(body []byte) []groupID {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	var found []groupID
	runs := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			run, _ := x["loadtest_run"].(string)
			if run != "" {
				runs[run] = true
			}
			if n, ok := groupNumber(x["loadtest_group"]); ok {
				found = append(found, groupID{run: run, group: n})
			}
			if gk, ok := x["groupKey"].(string); ok {
				if m := groupKeyGroupRE.FindStringSubmatch(gk); m != nil {
					if n, err := strconv.Atoi(m[1]); err == nil {
						id := groupID{group: n}
						if rm := groupKeyRunRE.FindStringSubmatch(gk); rm != nil {
							id.run = rm[1]
							runs[id.run] = true
						}
						found = append(found, id)
					}
				}
			}
			for k, e := range x {
				if k != "loadtest_group" && k != "loadtest_run" && k != "groupKey" {
					walk(e)
				}
			}
		}
	}
	walk(v)
	only := ""
	if len(runs) == 1 {
		for r := range runs {
			only = r
		}
	}
	seen := map[groupID]bool{}
	out := found[:0]
	for _, id := range found {
		if id.run == "" {
			id.run = only
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func groupNumber(v any) (int, bool) {
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number:
		s = x.String()
	default:
		return 0, false
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// serveSink serves s on l until stop is called.
func serveSink(s *sink, l net.Listener) (stop func()) {
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l) // a broken listener shows in the report as missing groups
	}()
	return func() {
		// Close, not Shutdown: the counts are taken, and Shutdown would
		// wait for connections the sender opened but never used.
		_ = srv.Close()
		<-done
	}
}

// runSinkOnly runs the sink until ctx ends, printing its counters every
// cfg.Progress when they changed, and once more at the end.
func runSinkOnly(ctx context.Context, cfg Config, out io.Writer) error {
	l, err := cfg.sinkListener()
	if err != nil {
		return err
	}
	s := newSink("", cfg.SinkDelay, cfg.SinkFailFor)
	stop := serveSink(s, l)
	defer stop()
	fmt.Fprintf(out, "sink listening on http://%s (any path); Ctrl-C to stop\n", l.Addr())
	every := cfg.Progress
	if every <= 0 {
		every = 5 * time.Second
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var last int64 = -1
	for {
		select {
		case <-ctx.Done():
			fmt.Fprintf(out, "%s final: %s\n", time.Now().Format(time.TimeOnly), s.stats())
			return nil
		case <-tick.C:
			if n := s.requests.Load(); n != last {
				last = n
				fmt.Fprintf(out, "%s %s\n", time.Now().Format(time.TimeOnly), s.stats())
			}
		}
	}
}
