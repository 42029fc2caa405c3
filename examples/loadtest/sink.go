package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
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
	count int       // deliveries answered as a success
	first time.Time // the first of them (when its answer was about to be written)
}

// Sink types: how the sink answers.
const (
	// sinkWebhook answers a success with 200 {"ok":true}.
	sinkWebhook = "webhook"
	// sinkDingTalk answers like a DingTalk robot: 200 {"errcode":0,...}
	// on success, and an injected failure with -sink.fail-status 200 is
	// 200 {"errcode":-1,"errmsg":"system busy"}, which only a bridge that
	// reads the body sees as a failure.
	sinkDingTalk = "dingtalk"
)

// Outage modes.
const (
	outage503    = "503"
	outageRefuse = "refuse"
)

// sinkOptions are the sink's answers: its platform and the faults it
// injects.
type sinkOptions struct {
	Type string
	// Delay comes before every answer except an outage's.
	Delay time.Duration
	// FailRate is the fraction of deliveries answered as a failure with
	// FailStatus (the type's error body with 200), chosen at random.
	FailRate   float64
	FailStatus int
	// During [OutageStart, OutageStart+Outage) after the sink's start,
	// every request is answered 503 (OutageMode "503") or its connection
	// is reset without an answer ("refuse").
	OutageStart, Outage time.Duration
	OutageMode          string
}

func (o sinkOptions) okBody() string {
	if o.Type == sinkDingTalk {
		return `{"errcode":0,"errmsg":"ok"}` + "\n"
	}
	return `{"ok":true}` + "\n"
}

func (o sinkOptions) failBody() string {
	if o.Type == sinkDingTalk {
		return `{"errcode":-1,"errmsg":"system busy"}` + "\n"
	}
	return `{"error":"injected failure (-sink.fail-rate)"}` + "\n"
}

// sink records the groups delivered to it. With run set it belongs to one
// load-test run: groups of other runs are counted as foreign, groups
// without a run id are taken as this run's.
type sink struct {
	run   string
	opt   sinkOptions
	start time.Time
	// rnd draws the injected failures (rand.Float64 unless a test sets it).
	rnd func() float64

	mu     sync.Mutex
	groups map[groupID]*arrival

	requests     atomic.Int64 // every request
	deliveries   atomic.Int64 // answered as a success with at least one group of the run
	failed       atomic.Int64 // answered as a failure by -sink.fail-rate
	rejected     atomic.Int64 // answered 503 or reset during the outage
	abandoned    atomic.Int64 // sender hung up before the answer
	unrecognized atomic.Int64 // no group found in the body
	foreign      atomic.Int64 // groups of another run
	badRequests  atomic.Int64 // not a POST, or body unreadable

	// outageHits counts the requests of each second of the outage.
	outageHits []atomic.Int64
}

func newSink(run string, opt sinkOptions) *sink {
	if opt.Type == "" {
		opt.Type = sinkWebhook
	}
	if opt.FailStatus == 0 {
		opt.FailStatus = http.StatusInternalServerError
	}
	if opt.OutageMode == "" {
		opt.OutageMode = outage503
	}
	s := &sink{run: run, opt: opt, start: time.Now(), rnd: rand.Float64, groups: map[groupID]*arrival{}}
	if opt.Outage > 0 {
		s.outageHits = make([]atomic.Int64, (opt.Outage+time.Second-1)/time.Second)
	}
	return s
}

// outageSecond returns which second of the outage t falls in, or -1.
func (s *sink) outageSecond(t time.Time) int {
	if s.opt.Outage <= 0 {
		return -1
	}
	d := t.Sub(s.start) - s.opt.OutageStart
	if d < 0 || d >= s.opt.Outage {
		return -1
	}
	return int(d / time.Second)
}

// recovery is when the outage ends (zero without one).
func (s *sink) recovery() time.Time {
	if s.opt.Outage <= 0 {
		return time.Time{}
	}
	return s.start.Add(s.opt.OutageStart + s.opt.Outage)
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
	if sec := s.outageSecond(time.Now()); sec >= 0 {
		s.rejected.Add(1)
		s.outageHits[sec].Add(1)
		if s.opt.OutageMode == outageRefuse {
			resetConnection(w)
			return
		}
		http.Error(w, "sink is down (outage)", http.StatusServiceUnavailable)
		return
	}
	if s.opt.Delay > 0 {
		t := time.NewTimer(s.opt.Delay)
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
	w.Header().Set("Content-Type", "application/json")
	if s.opt.FailRate > 0 && s.rnd() < s.opt.FailRate {
		// Not a delivery: nothing is recorded.
		s.failed.Add(1)
		w.WriteHeader(s.opt.FailStatus)
		_, _ = io.WriteString(w, s.opt.failBody())
		return
	}
	ids := extractGroups(body, s.opt.Type != sinkWebhook)
	if len(ids) == 0 {
		s.unrecognized.Add(1)
	} else {
		s.record(ids, time.Now())
	}
	_, _ = io.WriteString(w, s.opt.okBody())
}

// resetConnection drops the request's connection without an answer, with
// a TCP reset where it can: the sender sees a transport error, as with a
// refused connection.
func resetConnection(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			if tc, ok := conn.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler) // the server closes the connection
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
	Requests, Deliveries, Groups, DuplicateGroups, ExtraDeliveries  int64
	Failed, Rejected, Abandoned, Unrecognized, Foreign, BadRequests int64
	Runs                                                            []string
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
	st.Failed = s.failed.Load()
	st.Rejected = s.rejected.Load()
	st.Abandoned = s.abandoned.Load()
	st.Unrecognized = s.unrecognized.Load()
	st.Foreign = s.foreign.Load()
	st.BadRequests = s.badRequests.Load()
	return st
}

func (st sinkStats) String() string {
	return fmt.Sprintf("requests=%d deliveries=%d groups=%d duplicate_groups=%d extra_deliveries=%d failed=%d outage_rejected=%d abandoned=%d unrecognized=%d bad_requests=%d runs=%v",
		st.Requests, st.Deliveries, st.Groups, st.DuplicateGroups, st.ExtraDeliveries,
		st.Failed, st.Rejected, st.Abandoned, st.Unrecognized, st.BadRequests, st.Runs)
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
//
// With text set (a chat-type sink) and when none of that names a group,
// the body's text is searched for
// loadtest_group and loadtest_run followed by a value, as a chat message
// renders them: "loadtest\\_group: 7" in DingTalk markdown (the
// backslash escaped once more inside the JSON string), or
// loadtest_group%3D%227%22 in a silence link.
func extractGroups(body []byte, text bool) []groupID {
	ids, ok := scanGroups(body)
	if !ok {
		ids = walkGroups(body)
	}
	if len(ids) == 0 && text {
		ids = textGroups(body)
	}
	return ids
}

var (
	textGroupRE = regexp.MustCompile(`loadtest\\*_group(?:[\s:="*\\]|%3[Dd]|%22)*([0-9]+)`)
	textRunRE   = regexp.MustCompile(`loadtest\\*_run(?:[\s:="*\\]|%3[Dd]|%22)*([0-9A-Za-z]+)`)
)

// textGroups is the text search of extractGroups. The groups found take
// the run when the text names exactly one.
func textGroups(body []byte) []groupID {
	run := ""
	for _, m := range textRunRE.FindAllSubmatch(body, -1) {
		if r := string(m[1]); run == "" {
			run = r
		} else if r != run {
			run = ""
			break
		}
	}
	var ids []groupID
	seen := map[int]bool{}
	for _, m := range textGroupRE.FindAllSubmatch(body, -1) {
		n, err := strconv.Atoi(string(m[1]))
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		ids = append(ids, groupID{run: run, group: n})
	}
	return ids
}

// scanGroups is extractGroups without decoding the body, for the common
// case where it cannot differ: a valid JSON body with no "groupKey" and at
// most one run, where pairing groups with their objects' runs does not
// matter. A key can only appear as a key here: inside a JSON string its
// quotes would be escaped. ok is false when the case does not apply.
func scanGroups(body []byte) (ids []groupID, ok bool) {
	if bytes.Contains(body, []byte(`"groupKey"`)) || !json.Valid(body) {
		return nil, false
	}
	run := ""
	for rest := body; ; {
		v, after, found := nextValue(rest, `"loadtest_run"`)
		if !found {
			break
		}
		rest = after
		r, ok := jsonString(v)
		if !ok {
			return nil, false
		}
		if run != "" && r != run {
			return nil, false
		}
		run = r
	}
	seen := map[int]bool{}
	for rest := body; ; {
		v, after, found := nextValue(rest, `"loadtest_group"`)
		if !found {
			break
		}
		rest = after
		var raw any = json.Number(v)
		if v[0] == '"' {
			if raw, ok = jsonString(v); !ok {
				return nil, false
			}
		}
		if n, ok := groupNumber(raw); ok && !seen[n] {
			seen[n] = true
			ids = append(ids, groupID{run: run, group: n})
		}
	}
	return ids, true
}

// jsonString decodes a JSON string value.
func jsonString(v []byte) (string, bool) {
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	return s, json.Unmarshal(v, &s) == nil
}

// nextValue finds key followed by a colon in body and returns the JSON
// value after it (a string or a number) and the rest of the body.
func nextValue(body []byte, key string) (value, rest []byte, found bool) {
	for {
		i := bytes.Index(body, []byte(key))
		if i < 0 {
			return nil, nil, false
		}
		body = body[i+len(key):]
		t := bytes.TrimLeft(body, " \t\r\n")
		if len(t) == 0 || t[0] != ':' {
			continue
		}
		t = bytes.TrimLeft(t[1:], " \t\r\n")
		end := 0
		if len(t) > 0 && t[0] == '"' {
			for end = 1; end < len(t) && t[end] != '"'; end++ {
				if t[end] == '\\' {
					end++
				}
			}
			end++
		} else {
			for end < len(t) && !bytes.ContainsRune([]byte(",}] \t\r\n"), rune(t[end])) {
				end++
			}
		}
		if end > len(t) {
			return nil, nil, false
		}
		return t[:end], t[end:], true
	}
}

// walkGroups decodes the body and walks it: see extractGroups.
func walkGroups(body []byte) []groupID {
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

// sinkSwitch serves the sink of the current phase of a run.
type sinkSwitch struct{ cur atomic.Pointer[sink] }

func (w *sinkSwitch) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	w.cur.Load().ServeHTTP(rw, r)
}

// serveSink serves h (a sink) on l until stop is called.
func serveSink(h http.Handler, l net.Listener) (stop func()) {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
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
	opt, err := cfg.sinkOptions()
	if err != nil {
		return err
	}
	l, err := cfg.sinkListener()
	if err != nil {
		return err
	}
	s := newSink("", opt)
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
