package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
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
	// ignoreBody makes every 200 a success, like a bridge that does not
	// read DingTalk's errcode; by default a 200 with a non-zero errcode is
	// a failure.
	ignoreBody bool

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

// deliver posts body to the sink, retrying every 20ms, at most 100 times.
func (f *fakeBridge) deliver(body []byte) {
	for range 100 {
		resp, err := f.client.Post(f.sinkURL, "application/json", bytes.NewReader(body))
		if err == nil {
			ans, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && (f.ignoreBody || !bytes.Contains(ans, []byte(`"errcode":-1`))) {
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

// The default payload weighs about 6 KB with 5 alerts: 4 extra labels of
// 24 bytes, a 200-byte description.
func TestPayloadSize(t *testing.T) {
	payloads, err := buildPayloads("abcd1234", 42, 100, 5, DefaultShape, time.Now().UTC())
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, p := range payloads {
		total += len(p)
	}
	if avg := total / len(payloads); avg < 5500 || avg > 6700 {
		t.Errorf("average payload %d bytes; want about 6 KB", avg)
	}
	msg, err := alert.Decode(bytes.NewReader(payloads[17]))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range msg.Alerts {
		extra := 0
		for k, v := range a.Labels {
			switch k {
			case "alertname", "instance", "job", "severity", "loadtest_group", "loadtest_run":
			default:
				extra++
				if len(v) != 24 {
					t.Errorf("label %s=%q: %d bytes, want 24", k, v, len(v))
				}
				if msg.CommonLabels[k] != v {
					t.Errorf("extra label %s is not a common label", k)
				}
			}
		}
		if extra != 4 {
			t.Errorf("%d extra labels, want 4: %v", extra, a.Labels)
		}
		if d := a.Annotations["description"]; len(d) != 200 || !strings.Contains(d, a.Labels["instance"]) {
			t.Errorf("description %q: %d bytes, want 200 naming the instance", d, len(d))
		}
		if a.Annotations["summary"] == "" {
			t.Error("no summary")
		}
	}
	// The zero shape stays small (the other tests use it).
	small, _ := buildPayloads("abcd1234", 42, 1, 5, Shape{}, time.Now().UTC())
	if len(small[0]) >= len(payloads[0]) {
		t.Errorf("zero shape %d bytes, default %d", len(small[0]), len(payloads[0]))
	}
}

// A failure injected with -sink.fail-rate is not a delivery: the retried
// group is counted once, not as a duplicate.
func TestRunSinkFailRate(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.SinkFailRate = 0.3
	rep := runOK(t, cfg)
	if rep.Delivered != 200 || rep.Lost != 0 || rep.Duplicates != 0 || rep.SinkFailed == 0 || rep.SinkFailStatus != 500 {
		t.Errorf("delivered %d, lost %d, duplicates %d, failed %d, status %d; want 200, 0, 0, >0, 500",
			rep.Delivered, rep.Lost, rep.Duplicates, rep.SinkFailed, rep.SinkFailStatus)
	}
	if rep.SinkRequests != int64(rep.Delivered)+rep.SinkFailed {
		t.Errorf("requests %d != delivered %d + failed %d", rep.SinkRequests, rep.Delivered, rep.SinkFailed)
	}
}

func TestSinkFailStatusAndBodies(t *testing.T) {
	for _, tc := range []struct {
		opt        sinkOptions
		wantStatus int
		wantBody   string
	}{
		{sinkOptions{FailRate: 1, FailStatus: 502}, 502, `"error"`},
		{sinkOptions{Type: sinkDingTalk, FailRate: 1, FailStatus: 200}, 200, `{"errcode":-1,"errmsg":"system busy"}`},
		{sinkOptions{Type: sinkDingTalk}, 200, `{"errcode":0,"errmsg":"ok"}`},
		{sinkOptions{}, 200, `{"ok":true}`},
	} {
		s := newSink("", tc.opt)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"loadtest_group":"1"}`)))
		if rec.Code != tc.wantStatus || !strings.Contains(rec.Body.String(), tc.wantBody) {
			t.Errorf("%+v: %d %s; want %d %s", tc.opt, rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
		}
		failed := tc.opt.FailRate == 1
		if st := s.stats(); (st.Groups == 0) != failed || (st.Failed == 1) != failed {
			t.Errorf("%+v: stats %s", tc.opt, st)
		}
	}
}

// A DingTalk-type sink answers 200 with an error body; a bridge that reads
// the body delivers everything once, one that does not loses groups.
func TestRunDingTalkErrorBody(t *testing.T) {
	markdown := func(g *alert.Group) ([]byte, error) {
		var text strings.Builder
		for _, a := range g.Alerts {
			fmt.Fprintf(&text, "**FIRING** %s\n\n", a.Labels["alertname"])
			for _, k := range []string{"instance", "loadtest_group", "loadtest_run"} {
				fmt.Fprintf(&text, "- %s: %s\n", strings.ReplaceAll(k, "_", `\_`), a.Labels[k])
			}
		}
		return json.Marshal(map[string]any{"msgtype": "markdown", "markdown": map[string]string{"title": "LoadTest", "text": text.String()}})
	}
	cfg := setup(t, &fakeBridge{body: markdown})
	cfg.SinkType, cfg.SinkFailRate, cfg.SinkFailStatus = sinkDingTalk, 0.3, 200
	rep := runOK(t, cfg)
	if rep.Delivered != 200 || rep.Lost != 0 || rep.Duplicates != 0 || rep.SinkFailed == 0 || rep.SinkUnrecognized != 0 {
		t.Errorf("delivered %d, lost %d, duplicates %d, failed %d, unrecognized %d; want 200, 0, 0, >0, 0",
			rep.Delivered, rep.Lost, rep.Duplicates, rep.SinkFailed, rep.SinkUnrecognized)
	}

	cfg = setup(t, &fakeBridge{body: markdown, ignoreBody: true})
	cfg.SinkType, cfg.SinkFailRate, cfg.SinkFailStatus = sinkDingTalk, 0.3, 200
	cfg.Wait = 300 * time.Millisecond
	rep = runOK(t, cfg)
	if rep.Lost == 0 || rep.SinkFailed == 0 || rep.Duplicates != 0 {
		t.Errorf("body-blind bridge: lost %d, failed %d, duplicates %d; want the failed ones lost", rep.Lost, rep.SinkFailed, rep.Duplicates)
	}
}

// The sink finds the group in the bridge's real DingTalk markdown body
// (rendered by the dingtalk preset from a load-test payload of group 7).
func TestExtractGroupsDingTalkMarkdown(t *testing.T) {
	body, err := os.ReadFile("testdata/dingtalk-markdown.json")
	if err != nil {
		t.Fatal(err)
	}
	if got := extractGroups(body, false); len(got) != 0 {
		t.Errorf("webhook sink: %v, want nothing (the group is only in the text)", got)
	}
	if got := extractGroups(body, true); len(got) != 1 || got[0] != (groupID{"abcd1234", 7}) {
		t.Errorf("dingtalk sink: %v, want group 7 of run abcd1234", got)
	}
	for body, want := range map[string][]groupID{
		`{"text":"- loadtest\\_group: 12\n- loadtest\\_run: r9"}`:                              {{"r9", 12}},
		`{"text":"[silence](http://x/#/silences/new?filter=%7Bloadtest_group%3D%2231%22%7D)"}`: {{"", 31}},
		`{"text":"nothing here"}`: nil,
	} {
		if got := extractGroups([]byte(body), true); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", body, got, want)
		}
	}
}

func TestRunSinkLatency(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.Groups, cfg.SinkDelay = 20, 50*time.Millisecond
	rep := runOK(t, cfg)
	if rep.Delivered != 20 || rep.Duplicates != 0 || rep.SinkDelayMS != 50 {
		t.Errorf("delivered %d, duplicates %d, delay %v; want 20, 0, 50", rep.Delivered, rep.Duplicates, rep.SinkDelayMS)
	}
	// A delivery counts when it is answered, after the latency.
	if rep.E2ELatency.P50 < 50 {
		t.Errorf("e2e p50 %.1fms; want at least the 50ms latency", rep.E2ELatency.P50)
	}
}

// An outage from the start: attempts while down are counted, the groups
// acknowledged meanwhile are the backlog, and the time from recovery to
// their first and last delivery is reported. (The window's arithmetic is
// checked without timing in TestOutageReport.)
func TestRunSinkOutage(t *testing.T) {
	for _, mode := range []string{outage503, outageRefuse} {
		t.Run(mode, func(t *testing.T) {
			cfg := setup(t, &fakeBridge{})
			cfg.Groups = 30
			cfg.SinkOutage, cfg.SinkOutageMode = 500*time.Millisecond, mode
			rep := runOK(t, cfg)
			o := rep.Outage
			if rep.Delivered != 30 || rep.Lost != 0 || rep.Duplicates != 0 || o == nil {
				t.Fatalf("delivered %d, lost %d, duplicates %d, outage %+v; want 30, 0, 0, set", rep.Delivered, rep.Lost, rep.Duplicates, o)
			}
			if !o.Reached || !o.Ended || o.Attempts == 0 || o.Attempts != rep.SinkRejected || o.AttemptsPerSec <= 0 || o.AttemptsMaxSec == 0 || o.Mode != mode {
				t.Errorf("outage %+v, rejected %d", o, rep.SinkRejected)
			}
			if o.BacklogAtRecovery == 0 || o.BacklogDelivered != o.BacklogAtRecovery || o.RecoveryFirstMS == nil ||
				*o.RecoveryFirstMS < 0 || *o.RecoveryLastMS < *o.RecoveryFirstMS {
				t.Errorf("backlog %d, delivered %d, first %v, last %v", o.BacklogAtRecovery, o.BacklogDelivered, o.RecoveryFirstMS, o.RecoveryLastMS)
			}
			var text bytes.Buffer
			rep.WriteText(&text, nil)
			if !strings.Contains(text.String(), "after recovery") {
				t.Errorf("report has no recovery line:\n%s", text.String())
			}
		})
	}
}

// The outage window and its report, on a made-up timeline.
func TestOutageReport(t *testing.T) {
	s := newSink("r", sinkOptions{OutageStart: time.Second, Outage: 2 * time.Second})
	t0 := time.Now().Add(-1500 * time.Millisecond)
	s.start = t0 // 0.5s into the outage now
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader(`{"loadtest_group":"1"}`)))
	if rec.Code != http.StatusServiceUnavailable || s.outageHits[0].Load() != 1 || s.delivered() != 0 {
		t.Fatalf("inside the window: %d, hits %d, delivered %d", rec.Code, s.outageHits[0].Load(), s.delivered())
	}
	for _, c := range []struct {
		at   time.Duration
		want int
	}{{999 * time.Millisecond, -1}, {time.Second, 0}, {2500 * time.Millisecond, 1}, {2999 * time.Millisecond, 1}, {3 * time.Second, -1}} {
		if got := s.outageSecond(t0.Add(c.at)); got != c.want {
			t.Errorf("outage second at %v: %d, want %d", c.at, got, c.want)
		}
	}
	s.outageHits[1].Store(3)

	at := func(d float64) time.Time { return t0.Add(time.Duration(d * float64(time.Second))) }
	pl := &postLog{
		start: []time.Time{at(0.5), at(1.5), at(2.5), at(3.5), at(1.2), at(1.1)},
		code:  []int{200, 200, 200, 200, 200, 503},
	}
	arr := []arrival{
		{count: 1, first: at(0.6)}, // delivered before the outage
		{count: 1, first: at(3.2)}, // backlog, first
		{count: 2, first: at(4.0)}, // backlog, last
		{count: 1, first: at(3.6)}, // posted after the recovery
		{},                         // backlog, never delivered
		{},                         // not acknowledged
	}
	o := &OutageReport{}
	o.fill(pl, s, arr, at(5))
	if !o.Reached || !o.Ended || o.Attempts != 4 || o.AttemptsMaxSec != 3 || o.AttemptsPerSec != 2 {
		t.Errorf("attempts: %+v", o)
	}
	if o.BacklogAtRecovery != 3 || o.BacklogDelivered != 2 || o.RecoveryFirstMS == nil ||
		math.Abs(*o.RecoveryFirstMS-200) > 0.01 || math.Abs(*o.RecoveryLastMS-1000) > 0.01 {
		t.Errorf("backlog %d, delivered %d, first %v, last %v", o.BacklogAtRecovery, o.BacklogDelivered, *o.RecoveryFirstMS, *o.RecoveryLastMS)
	}
	o = &OutageReport{}
	o.fill(pl, s, arr, at(2)) // the phase ended during the outage
	if !o.Reached || o.Ended || o.AttemptsPerSec != 4 || o.RecoveryFirstMS != nil {
		t.Errorf("ended during the outage: %+v", o)
	}
}

// An outage the phase never reaches is reported as such.
func TestRunSinkOutageNotReached(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.Groups = 10
	cfg.SinkOutageStart, cfg.SinkOutage = time.Hour, time.Minute
	rep := runOK(t, cfg)
	if rep.Outage == nil || rep.Outage.Reached || rep.Outage.Attempts != 0 || rep.Delivered != 10 {
		t.Errorf("outage %+v, delivered %d", rep.Outage, rep.Delivered)
	}
}

// -compare-forwarder runs a bare forwarder phase first, then the bridge's.
func TestRunCompareForwarder(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.CompareForwarder = true
	rep := runOK(t, cfg)
	f := rep.Forwarder
	if f == nil {
		t.Fatal("no forwarder phase")
	}
	if f.Phase != "forwarder" || rep.Phase != "bridge" || f.RunID == rep.RunID {
		t.Errorf("phases %q (run %s), %q (run %s)", f.Phase, f.RunID, rep.Phase, rep.RunID)
	}
	if f.AckedOK != 200 || f.Delivered != 200 || f.Lost != 0 || f.Duplicates != 0 || rep.Delivered != 200 || rep.Duplicates != 0 {
		t.Errorf("forwarder acked %d delivered %d lost %d dup %d; bridge delivered %d dup %d",
			f.AckedOK, f.Delivered, f.Lost, f.Duplicates, rep.Delivered, rep.Duplicates)
	}
	if f.E2ERate <= 0 || rep.E2ERatioToForwarder <= 0 {
		t.Errorf("forwarder rate %v, ratio %v", f.E2ERate, rep.E2ERatioToForwarder)
	}
	if fails := rep.Failures(false); len(fails) != 0 {
		t.Errorf("failures %v", fails)
	}
	var js bytes.Buffer
	if err := json.NewEncoder(&js).Encode(rep); err != nil || !strings.Contains(js.String(), `"e2e_ratio_to_forwarder"`) {
		t.Errorf("json: %v %s", err, js.String())
	}
}

// The forwarder answers 200 only when the sink took the body: a failed
// delivery (status, or errcode in a 200) is a 502 to the sender, and it
// does not retry.
func TestForwarderPassesFailuresBack(t *testing.T) {
	for _, opt := range []sinkOptions{
		{FailRate: 1, FailStatus: 500},
		{Type: sinkDingTalk, FailRate: 1, FailStatus: 200},
		{Outage: time.Hour, OutageMode: outageRefuse},
	} {
		s := newSink("", opt)
		sinkSrv := httptest.NewServer(s)
		fwd := newForwarder(sinkSrv.URL+"/forwarder", 2, 2*time.Second)
		rec := httptest.NewRecorder()
		fwd.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/webhook", strings.NewReader(`{"groupKey":"{}:{loadtest_group=\"3\"}"}`)))
		sinkSrv.Close()
		if rec.Code != http.StatusBadGateway || fwd.failed.Load() != 1 || s.requests.Load() != 1 {
			t.Errorf("%+v: forwarder answered %d, failed %d, sink requests %d; want 502, 1, 1", opt, rec.Code, fwd.failed.Load(), s.requests.Load())
		}
	}
	cfg := setup(t, &fakeBridge{})
	cfg.CompareForwarder, cfg.SinkFailRate = true, 0.3
	rep := runOK(t, cfg)
	f := rep.Forwarder
	if f.AckStatus["502"] == 0 || f.AckStatus["502"] != int(f.SinkFailed) || f.Lost != 0 || f.Delivered != f.AckedOK {
		t.Errorf("forwarder: 502s %d, sink failed %d, lost %d, delivered %d, acked %d", f.AckStatus["502"], f.SinkFailed, f.Lost, f.Delivered, f.AckedOK)
	}
}

// -rate spreads the posts: 20 at 100/s take at least 190ms.
func TestRunRate(t *testing.T) {
	cfg := setup(t, &fakeBridge{})
	cfg.Groups, cfg.Rate = 20, 100
	rep := runOK(t, cfg)
	if rep.Delivered != 20 || rep.PostSeconds < 0.19 {
		t.Errorf("delivered %d in a post phase of %.3fs; want 20 in at least 0.19s", rep.Delivered, rep.PostSeconds)
	}
}

func TestSinkUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-sink.fail-status", "200"}, // a webhook target takes any 200
		{"-sink.fail-rate", "1.5"},
		{"-sink.fail-status", "99"},
		{"-sink.type", "slack"},
		{"-sink.outage-mode", "drop"},
		{"-sink.fail-for", "1s", "-sink.outage", "2s"},
		{"-sink.outage-start", "1s"},
		{"-rate", "-1"},
		{"-payload.label-bytes", "-1"},
	} {
		var out, errOut bytes.Buffer
		if code := realMain(append(args, "-sink.listen", "127.0.0.1:0"), &out, &errOut); code != 2 {
			t.Errorf("%v: exit %d, want 2; stderr: %s", args, code, errOut.String())
		}
	}
}

func TestReadProcCPU(t *testing.T) {
	if _, err := readProcCPU(os.Getpid()); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	deadline := time.Now().Add(50 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	if d, err := readProcCPU(os.Getpid()); err != nil || d <= 0 {
		t.Errorf("cpu %v, %v", d, err)
	}
	if _, err := readProcCPU(-1); err == nil {
		t.Error("pid -1: no error")
	}
}

// alertbridge-defaults.yml is alertbridge.yml without the retry settings.
func TestDefaultsConfigMatches(t *testing.T) {
	fast, err1 := os.ReadFile("alertbridge.yml")
	defaults, err2 := os.ReadFile("alertbridge-defaults.yml")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	targets := func(b []byte) string { _, after, _ := strings.Cut(string(b), "\ntargets:\n"); return after }
	if targets(fast) == "" || targets(fast) != targets(defaults) {
		t.Error("the targets of alertbridge.yml and alertbridge-defaults.yml differ")
	}
	if !strings.Contains(string(fast), "retry:") || strings.Contains(string(defaults), "retry:") || strings.Contains(string(defaults), "global:") {
		t.Error("alertbridge-defaults.yml must leave global settings at their defaults")
	}
}

// -bridge.url splits at commas; -bridge.pid takes one pid, a list, or 0
// for none; anything else is a usage error.
func TestBridgeLists(t *testing.T) {
	for _, tc := range []struct {
		name    string
		url     string
		pids    string
		urls    []string
		wantPID []int
		bad     string // part of the error; "" when valid
	}{
		{name: "one bridge", url: "http://127.0.0.1:9097/webhook", pids: "123",
			urls: []string{"http://127.0.0.1:9097/webhook"}, wantPID: []int{123}},
		{name: "no pid", url: "http://a:1/webhook", pids: "0", urls: []string{"http://a:1/webhook"}},
		{name: "two bridges", url: "http://a:1/webhook,http://b:2/webhook/dingtalk", pids: "10,20",
			urls: []string{"http://a:1/webhook", "http://b:2/webhook/dingtalk"}, wantPID: []int{10, 20}},
		{name: "spaces and a trailing comma", url: " http://a:1/webhook , http://b:2/webhook,", pids: "10, 20,",
			urls: []string{"http://a:1/webhook", "http://b:2/webhook"}, wantPID: []int{10, 20}},
		{name: "one bad URL of two", url: "http://a:1/webhook,b:2/webhook", pids: "0", bad: `"b:2/webhook"`},
		{name: "empty list", url: " , ", pids: "0", bad: "-bridge.url"},
		{name: "pid not a number", url: "http://a:1/webhook", pids: "12,x", bad: "-bridge.pid"},
		{name: "negative pid", url: "http://a:1/webhook", pids: "-3", bad: "-bridge.pid"},
		{name: "zero in a list", url: "http://a:1/webhook", pids: "12,0", bad: "-bridge.pid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pids pidList
			err := pids.Set(tc.pids)
			cfg := Config{BridgeURL: tc.url, BridgePIDs: pids, Groups: 1, Alerts: 1, Concurrency: 1, PostTimeout: time.Second}
			if err == nil {
				err = cfg.check()
			} else {
				err = fmt.Errorf("-bridge.pid: %w", err)
			}
			if tc.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tc.bad) {
					t.Fatalf("error %v, want one naming %s", err, tc.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.bridgeURLs(); !slices.Equal(got, tc.urls) {
				t.Errorf("urls %q, want %q", got, tc.urls)
			}
			if !slices.Equal([]int(pids), tc.wantPID) {
				t.Errorf("pids %v, want %v", pids, tc.wantPID)
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := realMain([]string{"-bridge.pid", "1,nope", "-sink.listen", "127.0.0.1:0"}, &out, &errOut); code != 2 {
		t.Errorf("-bridge.pid 1,nope: exit %d, want 2", code)
	}
}

// Posts go round-robin over the bridges; a post that fails on one (a
// transport error or a 5xx) is retried on the next, and only a post every
// bridge refused is lost to the generator.
func TestRunSeveralBridges(t *testing.T) {
	down := func() string { // a URL where nothing listens
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		return "http://" + addr + "/webhook"
	}
	for _, tc := range []struct {
		name string
		// bridges: a fake bridge's reject function, or nil for a URL
		// where nothing listens.
		bridges     []func(n int) bool
		acked       int
		retries     int
		retryStatus map[string]int
		non200      map[string]int
	}{
		{name: "two healthy", bridges: []func(int) bool{func(int) bool { return false }, func(int) bool { return false }},
			acked: 60},
		{name: "three healthy", bridges: []func(int) bool{func(int) bool { return false }, func(int) bool { return false }, func(int) bool { return false }},
			acked: 60},
		{name: "one of two down", bridges: []func(int) bool{func(int) bool { return false }, nil},
			acked: 60, retries: 30, retryStatus: map[string]int{"0": 30}},
		{name: "one of two answers 503", bridges: []func(int) bool{func(int) bool { return true }, func(int) bool { return false }},
			acked: 60, retries: 30, retryStatus: map[string]int{"503": 30}},
		{name: "both refuse group 7", bridges: []func(int) bool{func(n int) bool { return n == 7 }, func(n int) bool { return n == 7 }},
			acked: 59, retries: 1, retryStatus: map[string]int{"503": 1}, non200: map[string]int{"503": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The first fake's setup gives the sink and the config.
			fakes := make([]*fakeBridge, len(tc.bridges))
			var cfg Config
			var urls []string
			for i, reject := range tc.bridges {
				if reject == nil {
					urls = append(urls, down())
					continue
				}
				fakes[i] = &fakeBridge{reject: reject}
				if cfg.SinkListener == nil {
					cfg = setup(t, fakes[i])
					urls = append(urls, cfg.BridgeURL)
					continue
				}
				f := fakes[i]
				f.t, f.sinkURL, f.client = t, fakes[slices.IndexFunc(fakes, func(f *fakeBridge) bool { return f != nil })].sinkURL, &http.Client{Timeout: 2 * time.Second}
				srv := httptest.NewServer(f)
				t.Cleanup(func() { f.wg.Wait(); srv.Close() })
				urls = append(urls, srv.URL+"/webhook")
			}
			cfg.BridgeURL = strings.Join(urls, ",")
			cfg.Groups, cfg.Concurrency = 60, 4
			rep := runOK(t, cfg)
			if rep.AckedOK != tc.acked || rep.Delivered != tc.acked || rep.Lost != 0 || rep.Duplicates != 0 {
				t.Errorf("acked %d, delivered %d, lost %d, duplicates %d; want %d, %d, 0, 0",
					rep.AckedOK, rep.Delivered, rep.Lost, rep.Duplicates, tc.acked, tc.acked)
			}
			if rep.Retries != tc.retries || !mapsEqual(rep.RetryStatus, tc.retryStatus) || !mapsEqual(rep.AckStatus, tc.non200) {
				t.Errorf("retries %d %v, non-200 %v; want %d %v, %v", rep.Retries, rep.RetryStatus, rep.AckStatus, tc.retries, tc.retryStatus, tc.non200)
			}
			if rep.BridgeCount != len(tc.bridges) || rep.BridgeURL != cfg.BridgeURL {
				t.Errorf("bridge count %d, url %q", rep.BridgeCount, rep.BridgeURL)
			}
		})
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// One pid fills the single-process fields as before; several fill
// Bridges and sum their CPU; an unreadable process leaves the sum out.
func TestSetBridges(t *testing.T) {
	a := BridgeProcess{PID: 1, PeakRSSBytes: 30 << 20, RSSBytes: 20 << 20, CPUSeconds: 2, CPUPerGroupMS: 2, cpuOK: true}
	b := BridgeProcess{PID: 2, PeakRSSBytes: 40 << 20, RSSBytes: 25 << 20, CPUSeconds: 1, CPUPerGroupMS: 1, cpuOK: true}
	gone := BridgeProcess{PID: 3, Error: "open /proc/3/status: no such file or directory"}
	for _, tc := range []struct {
		name     string
		procs    []BridgeProcess
		pid      int
		peak     int64
		cpu      float64
		perGroup float64
		list     int
		text     []string
		notText  []string
	}{
		{name: "none", notText: []string{"bridge process"}},
		{name: "one", procs: []BridgeProcess{a}, pid: 1, peak: 30 << 20, cpu: 2, perGroup: 2,
			text:    []string{"bridge process  pid 1: peak RSS (VmHWM) 30.0 MiB", "CPU 2.00s in its phase = 2.000 ms per delivered group"},
			notText: []string{"bridge processes"}},
		{name: "one gone", procs: []BridgeProcess{gone}, pid: 3, text: []string{"bridge process  pid 3: open /proc/3/status"}},
		{name: "two", procs: []BridgeProcess{a, b}, cpu: 3, perGroup: 3, list: 2,
			text: []string{"bridge processes 2: CPU 3.00s in their phase together = 3.000 ms per delivered group",
				"  pid 1: peak RSS (VmHWM) 30.0 MiB", "  pid 2: peak RSS (VmHWM) 40.0 MiB"}},
		{name: "two, one gone", procs: []BridgeProcess{a, gone}, list: 2,
			text: []string{"bridge processes 2: CPU not known for every process", "  pid 3: open /proc/3/status"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Report{Delivered: 1000, Groups: 1000, AckedOK: 1000}
			r.setBridges(tc.procs)
			if r.BridgePID != tc.pid || r.BridgePeakRSSBytes != tc.peak || r.BridgeCPUSeconds != tc.cpu ||
				math.Abs(r.BridgeCPUPerGroupMS-tc.perGroup) > 1e-9 || len(r.Bridges) != tc.list {
				t.Errorf("pid %d peak %d cpu %v per group %v bridges %d", r.BridgePID, r.BridgePeakRSSBytes, r.BridgeCPUSeconds, r.BridgeCPUPerGroupMS, len(r.Bridges))
			}
			var w bytes.Buffer
			r.WriteText(&w, nil)
			for _, s := range tc.text {
				if !strings.Contains(w.String(), s) {
					t.Errorf("text lacks %q:\n%s", s, w.String())
				}
			}
			for _, s := range tc.notText {
				if strings.Contains(w.String(), s) {
					t.Errorf("text has %q:\n%s", s, w.String())
				}
			}
		})
	}
}

// The tool measures two live processes (itself twice) and reports both.
func TestRunMeasuresSeveralPIDs(t *testing.T) {
	if _, err := readProcCPU(os.Getpid()); err != nil {
		t.Skipf("no /proc: %v", err)
	}
	cfg := setup(t, &fakeBridge{})
	cfg.BridgePIDs = []int{os.Getpid(), os.Getpid()}
	rep := runOK(t, cfg)
	if len(rep.Bridges) != 2 || rep.BridgePID != 0 || rep.Bridges[0].PeakRSSBytes <= 0 || rep.BridgeCPUSeconds <= 0 {
		t.Fatalf("bridges %+v, pid %d, cpu %v", rep.Bridges, rep.BridgePID, rep.BridgeCPUSeconds)
	}
	if got, want := rep.BridgeCPUSeconds, rep.Bridges[0].CPUSeconds+rep.Bridges[1].CPUSeconds; math.Abs(got-want) > 1e-9 {
		t.Errorf("cpu %v, want the sum %v", got, want)
	}
	b, err := json.Marshal(rep)
	if err != nil || !strings.Contains(string(b), `"bridges":[{"pid":`) || strings.Contains(string(b), `"bridge_pid"`) {
		t.Errorf("json %s, %v", b, err)
	}
}

// With one bridge, the report has none of the several-bridges fields.
func TestRunOneBridgeUnchanged(t *testing.T) {
	rep := runOK(t, setup(t, &fakeBridge{}))
	b, _ := json.Marshal(rep)
	var w bytes.Buffer
	rep.WriteText(&w, nil)
	for _, s := range []string{`"bridge_count"`, `"retries"`, `"retry_status"`, `"bridges"`} {
		if strings.Contains(string(b), s) {
			t.Errorf("json has %s: %s", s, b)
		}
	}
	if strings.Contains(w.String(), "retried") || strings.Contains(w.String(), "bridge processes") {
		t.Errorf("text:\n%s", w.String())
	}
}
