package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// fakeBridge mimics alertbridge: it decodes the notification with the
// bridge's own decoder, answers 200, and delivers the group's records (the
// default webhook body) to the sink in the background, retrying failures.
type fakeBridge struct {
	t       *testing.T
	sinkURL string
	// reject answers 503 for group n (nothing is delivered).
	reject func(n int) bool
	// drop acknowledges group n but never delivers it.
	drop func(n int) bool
	// copies is how many times group n is delivered (default 1).
	copies func(n int) int
	// body renders the delivery body (default: the records array).
	body func(g *alert.Group) ([]byte, error)

	client *http.Client
	wg     sync.WaitGroup
}

func (f *fakeBridge) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	msg, err := alert.Decode(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := strconv.Atoi(msg.GroupLabels["loadtest_group"])
	if err != nil {
		http.Error(w, "no loadtest_group", http.StatusBadRequest)
		return
	}
	if f.reject != nil && f.reject(n) {
		http.Error(w, "queue full", http.StatusServiceUnavailable)
		return
	}
	b := &alert.Builder{}
	g, err := b.Build(msg, time.Now())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	render := f.body
	if render == nil {
		render = func(g *alert.Group) ([]byte, error) { return json.Marshal(g.Records) }
	}
	body, err := render(g)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"success"}`)
	if f.drop != nil && f.drop(n) {
		return
	}
	copies := 1
	if f.copies != nil {
		copies = f.copies(n)
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for range copies {
			f.deliver(body)
		}
	}()
}

// deliver posts body to the sink, retrying every 20ms, at most 50 times.
func (f *fakeBridge) deliver(body []byte) {
	for range 50 {
		resp, err := f.client.Post(f.sinkURL, "application/json", bytes.NewReader(body))
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// setup starts a sink listener and a fake bridge delivering to it, and
// returns a small run's config.
func setup(t *testing.T, f *fakeBridge) Config {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.t = t
	f.sinkURL = "http://" + l.Addr().String() + "/sink"
	f.client = &http.Client{Timeout: 2 * time.Second}
	srv := httptest.NewServer(f)
	t.Cleanup(func() {
		f.wg.Wait()
		srv.Close()
	})
	return Config{
		BridgeURL:    srv.URL + "/webhook",
		SinkListener: l,
		Groups:       200,
		Alerts:       3,
		Concurrency:  8,
		Wait:         3 * time.Second,
		Settle:       150 * time.Millisecond,
		PostTimeout:  5 * time.Second,
	}
}

func runOK(t *testing.T, cfg Config) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rep, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	rep.WriteText(&text, rep.Failures(false))
	t.Logf("report:\n%s", text.String())
	return rep
}

func TestRunDeliversEverything(t *testing.T) {
	rep := runOK(t, setup(t, &fakeBridge{}))
	if rep.Posted != 200 || rep.AckedOK != 200 || rep.Delivered != 200 || rep.Lost != 0 || rep.Duplicates != 0 {
		t.Errorf("posted %d, acked %d, delivered %d, lost %d, duplicates %d; want 200, 200, 200, 0, 0",
			rep.Posted, rep.AckedOK, rep.Delivered, rep.Lost, rep.Duplicates)
	}
	if rep.AckLatency.Count != 200 || rep.E2ELatency.Count != 200 {
		t.Errorf("latency samples: ack %d, e2e %d; want 200 each", rep.AckLatency.Count, rep.E2ELatency.Count)
	}
	if rep.AckLatency.P50 <= 0 || rep.AckLatency.P50 > rep.AckLatency.P99 || rep.AckLatency.P99 > rep.AckLatency.Max {
		t.Errorf("ack latency not ordered: %+v", rep.AckLatency)
	}
	if rep.PostRate <= 0 || rep.E2ERate <= 0 || rep.WaitTimedOut || rep.SinkUnrecognized != 0 {
		t.Errorf("post rate %.0f, e2e rate %.0f, timed out %v, unrecognized %d",
			rep.PostRate, rep.E2ERate, rep.WaitTimedOut, rep.SinkUnrecognized)
	}
	if f := rep.Failures(false); len(f) != 0 {
		t.Errorf("failures: %v", f)
	}
}

func TestRunCountsLostGroups(t *testing.T) {
	cfg := setup(t, &fakeBridge{drop: func(n int) bool { return n%10 == 0 }})
	cfg.Wait = 500 * time.Millisecond
	rep := runOK(t, cfg)
	if rep.AckedOK != 200 || rep.Delivered != 180 || rep.Lost != 20 || rep.Duplicates != 0 || !rep.WaitTimedOut {
		t.Errorf("acked %d, delivered %d, lost %d, duplicates %d, timed out %v; want 200, 180, 20, 0, true",
			rep.AckedOK, rep.Delivered, rep.Lost, rep.Duplicates, rep.WaitTimedOut)
	}
	if f := rep.Failures(false); len(f) != 1 || !strings.Contains(f[0], "20 acknowledged groups") {
		t.Errorf("failures = %v; want the 20 lost groups", f)
	}
	if f := rep.Failures(true); len(f) != 0 {
		t.Errorf("failures with -allow-loss = %v; want none", f)
	}
}

func TestRunCountsDuplicates(t *testing.T) {
	cfg := setup(t, &fakeBridge{copies: func(n int) int {
		if n%25 == 0 {
			return 2
		}
		return 1
	}})
	rep := runOK(t, cfg)
	if rep.Delivered != 200 || rep.Lost != 0 || rep.Duplicates != 8 || rep.ExtraDeliveries != 8 {
		t.Errorf("delivered %d, lost %d, duplicates %d, extra %d; want 200, 0, 8, 8",
			rep.Delivered, rep.Lost, rep.Duplicates, rep.ExtraDeliveries)
	}
	if f := rep.Failures(false); len(f) != 1 || !strings.Contains(f[0], "8 groups were delivered more than once") {
		t.Errorf("failures = %v; want the 8 duplicates", f)
	}
}

func TestRunCountsNon200Acks(t *testing.T) {
	cfg := setup(t, &fakeBridge{reject: func(n int) bool { return n%50 == 0 }})
	rep := runOK(t, cfg)
	if rep.AckedOK != 196 || rep.AckStatus["503"] != 4 || rep.Lost != 0 || rep.Delivered != 196 || rep.WaitTimedOut {
		t.Errorf("acked %d, 503s %d, lost %d, delivered %d, timed out %v; want 196, 4, 0, 196, false",
			rep.AckedOK, rep.AckStatus["503"], rep.Lost, rep.Delivered, rep.WaitTimedOut)
	}
	if f := rep.Failures(false); len(f) != 0 {
		t.Errorf("failures = %v; a rejected group is not lost", f)
	}
}

func TestRunSinkDownThenBack(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.Groups = 50
	cfg.SinkFailFor = 200 * time.Millisecond
	rep := runOK(t, cfg)
	if rep.Delivered != 50 || rep.Lost != 0 || rep.Duplicates != 0 || rep.SinkRejected == 0 {
		t.Errorf("delivered %d, lost %d, duplicates %d, rejected %d; want 50, 0, 0, >0",
			rep.Delivered, rep.Lost, rep.Duplicates, rep.SinkRejected)
	}
	if rep.E2ELatency.Max < 150 {
		t.Errorf("e2e max %.0fms; want at least the outage", rep.E2ELatency.Max)
	}
}

func TestRunCustomTemplateBody(t *testing.T) {
	// A custom template that renders only the group key and a count.
	cfg := setup(t, &fakeBridge{body: func(g *alert.Group) ([]byte, error) {
		return json.Marshal(map[string]any{"groupKey": g.GroupKey, "n": len(g.Alerts)})
	}})
	cfg.Groups = 50
	rep := runOK(t, cfg)
	if rep.Delivered != 50 || rep.Lost != 0 || rep.SinkUnrecognized != 0 {
		t.Errorf("delivered %d, lost %d, unrecognized %d; want 50, 0, 0", rep.Delivered, rep.Lost, rep.SinkUnrecognized)
	}
}

func TestRunWithoutBridge(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close()
	rep := runOK(t, Config{BridgeURL: "http://" + addr + "/webhook", SinkListener: l, Groups: 10, Alerts: 1,
		Concurrency: 2, Wait: time.Second, PostTimeout: time.Second})
	if rep.AckErrors != 10 || rep.AckedOK != 0 || rep.Lost != 0 {
		t.Errorf("errors %d, acked %d, lost %d; want 10, 0, 0", rep.AckErrors, rep.AckedOK, rep.Lost)
	}
	if f := rep.Failures(true); len(f) != 1 {
		t.Errorf("failures = %v; want 'no group was acknowledged' even with -allow-loss", f)
	}
}

func TestPayloadsAreValidNotifications(t *testing.T) {
	payloads, err := buildPayloads("abcd1234", 0x0123456789abcdef, 30, 4, DefaultShape, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	fingerprints := map[string]bool{}
	keys := map[string]bool{}
	for n, p := range payloads {
		msg, err := alert.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatalf("group %d: the bridge rejects the payload: %v", n, err)
		}
		if msg.Version != "4" || msg.Status != "firing" || msg.Receiver == "" || msg.ExternalURL == "" || len(msg.Alerts) != 4 {
			t.Fatalf("group %d: %+v", n, msg)
		}
		if keys[msg.GroupKey] {
			t.Errorf("group %d: groupKey %q repeats", n, msg.GroupKey)
		}
		keys[msg.GroupKey] = true
		if want := `{}:{alertname="LoadTest", loadtest_group="` + strconv.Itoa(n) + `", loadtest_run="abcd1234"}`; msg.GroupKey != want {
			t.Errorf("group %d: groupKey %q, want %q", n, msg.GroupKey, want)
		}
		for _, a := range msg.Alerts {
			if !hex16.MatchString(a.Fingerprint) || fingerprints[a.Fingerprint] {
				t.Errorf("group %d: fingerprint %q is not 16 hex digits or repeats", n, a.Fingerprint)
			}
			fingerprints[a.Fingerprint] = true
			for _, l := range []string{"alertname", "instance", "job", "severity"} {
				if a.Labels[l] == "" {
					t.Errorf("group %d: label %s missing", n, l)
				}
			}
			if a.Labels["loadtest_group"] != strconv.Itoa(n) || a.Labels["loadtest_run"] != "abcd1234" {
				t.Errorf("group %d: load-test labels %v", n, a.Labels)
			}
			if a.Annotations["summary"] == "" || a.Annotations["description"] == "" || a.StartsAt.IsZero() ||
				!a.EndsAt.IsZero() || a.GeneratorURL == "" {
				t.Errorf("group %d: alert %+v", n, a)
			}
		}
		for k, v := range msg.CommonLabels {
			for _, a := range msg.Alerts {
				if a.Labels[k] != v {
					t.Errorf("group %d: common label %s=%q differs on an alert", n, k, v)
				}
			}
		}
	}
}

func TestExtractGroups(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want []groupID
	}{
		{"records", `[{"id":1,"tags":{"loadtest_group":"7","loadtest_run":"r1"}},{"id":2,"tags":{"loadtest_group":"7","loadtest_run":"r1"}}]`,
			[]groupID{{"r1", 7}}},
		{"group key only", `{"groupKey":"{}:{alertname=\"LoadTest\", loadtest_group=\"12\", loadtest_run=\"r2\"}","n":5}`,
			[]groupID{{"r2", 12}}},
		{"nested labels, run elsewhere", `{"msg":{"labels":{"loadtest_group":"3"}},"meta":{"loadtest_run":"r3"}}`,
			[]groupID{{"r3", 3}}},
		{"number value", `{"loadtest_group":4}`, []groupID{{"", 4}}},
		{"two groups", `[{"tags":{"loadtest_group":"1","loadtest_run":"r"}},{"tags":{"loadtest_group":"2","loadtest_run":"r"}}]`,
			[]groupID{{"r", 1}, {"r", 2}}},
		{"no group", `{"text":"hello"}`, nil},
		{"not json", `hello`, nil},
		{"bad group", `{"loadtest_group":"x"}`, nil},
		{"two runs", `[{"tags":{"loadtest_group":"1","loadtest_run":"a"}},{"tags":{"loadtest_group":"2","loadtest_run":"b"}}]`,
			[]groupID{{"a", 1}, {"b", 2}}},
		{"key inside a string", `{"text":"say \"loadtest_group\":9","loadtest_group":"3 "}`, nil},
		{"escaped run", `{"loadtest_group":5,"loadtest_run":"r\u0031"}`, []groupID{{"r1", 5}}},
		{"spaces", `{ "loadtest_group" : 6 , "loadtest_run" : "s" }`, []groupID{{"s", 6}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The scan, where it applies, must agree with the walk.
			if fast, ok := scanGroups([]byte(tc.body)); ok {
				slow := walkGroups([]byte(tc.body))
				if fmt.Sprint(sortedIDs(fast)) != fmt.Sprint(sortedIDs(slow)) {
					t.Errorf("scan %v, walk %v", fast, slow)
				}
			}
			got := sortedIDs(extractGroups([]byte(tc.body), false))
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func sortedIDs(ids []groupID) []groupID {
	return slices.SortedFunc(slices.Values(ids), func(a, b groupID) int {
		return cmp.Or(strings.Compare(a.run, b.run), a.group-b.group)
	})
}

func TestSinkIgnoresOtherRuns(t *testing.T) {
	s := newSink("mine", sinkOptions{})
	for _, body := range []string{
		`[{"tags":{"loadtest_group":"1","loadtest_run":"mine"}}]`,
		`[{"tags":{"loadtest_group":"2","loadtest_run":"old"}}]`,
		`{"text":"unrelated"}`,
	} {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/sink", strings.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d for %s", rec.Code, body)
		}
	}
	st := s.stats()
	if st.Groups != 1 || st.Foreign != 1 || st.Unrecognized != 1 || st.Deliveries != 1 {
		t.Errorf("stats %s; want 1 group, 1 foreign, 1 unrecognized, 1 delivery", st)
	}
	if _, ok := s.lookup(1); !ok {
		t.Error("group 1 of this run not recorded")
	}
}

func TestSinkFailsThenRecovers(t *testing.T) {
	s := newSink("", sinkOptions{Outage: 100 * time.Millisecond})
	post := func() int {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"loadtest_group":"1"}`)))
		return rec.Code
	}
	if code := post(); code != http.StatusServiceUnavailable {
		t.Fatalf("during fail-for: %d, want 503", code)
	}
	time.Sleep(120 * time.Millisecond)
	if code := post(); code != http.StatusOK {
		t.Fatalf("after fail-for: %d, want 200", code)
	}
	if st := s.stats(); st.Rejected != 1 || st.Groups != 1 {
		t.Errorf("stats %s", st)
	}
}

func TestUsageErrors(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := realMain([]string{"-groups", "0", "-sink.listen", "127.0.0.1:0"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d, want 2; stderr: %s", code, errOut.String())
	}
	if code := realMain([]string{"-nope"}, &out, &errOut); code != 2 {
		t.Errorf("exit %d for an unknown flag, want 2", code)
	}
}

// -cpuprofile writes the tool's own profile, also when the run fails, and
// an unwritable path is a usage error.
func TestCPUProfileFlag(t *testing.T) {
	var out, errOut bytes.Buffer
	path := t.TempDir() + "/cpu.prof"
	realMain([]string{"-cpuprofile", path, "-groups", "0", "-sink.listen", "127.0.0.1:0"}, &out, &errOut)
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Errorf("profile not written: %v", err)
	}
	errOut.Reset()
	if code := realMain([]string{"-cpuprofile", t.TempDir() + "/missing/cpu.prof"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-cpuprofile") {
		t.Errorf("unwritable profile: exit %d, stderr %q", code, errOut.String())
	}
}

func TestReadProcMem(t *testing.T) {
	m, err := readProcMem(os.Getpid())
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	if m.peak <= 0 || m.rss <= 0 || m.peak < m.rss || m.anon <= 0 {
		t.Errorf("%+v", m)
	}
	if _, err := readProcMem(-1); err == nil {
		t.Error("pid -1: no error")
	}
}
