package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream/jstest"
)

// groupSink is a webhook receiver that records the deliveries of each
// target (the URL path) and group label, in arrival order, answering
// after delay.
type groupSink struct {
	url   string
	delay atomic.Int64
	mu    sync.Mutex
	got   map[string][]string // "path|group" -> statuses in arrival order
	total int
}

func newGroupSink(t *testing.T) *groupSink {
	t.Helper()
	s := &groupSink{got: map[string][]string{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		time.Sleep(time.Duration(s.delay.Load()))
		var recs []struct {
			Status int               `json:"status"`
			Tags   map[string]string `json:"tags"`
		}
		if err := json.Unmarshal(body, &recs); err != nil {
			http.Error(w, "not records", http.StatusBadRequest)
			return
		}
		s.mu.Lock()
		for _, rec := range recs {
			st := "firing"
			if rec.Status != 0 {
				st = "resolved"
			}
			k := r.URL.Path + "|" + rec.Tags["g"]
			s.got[k] = append(s.got[k], st)
		}
		s.total++
		s.mu.Unlock()
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	s.url = "http://" + l.Addr().String()
	return s
}

// waitGroups waits until n distinct (target, group) pairs arrived and
// returns what arrived.
func (s *groupSink) waitGroups(n int, timeout time.Duration) map[string][]string {
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		done := len(s.got) >= n
		s.mu.Unlock()
		if done || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]string, len(s.got))
	for k, v := range s.got {
		out[k] = append([]string(nil), v...)
	}
	return out
}

// natsConfig is a bridge configuration on the replicated engine.
func natsConfig(c *jstest.Cluster, prefix string, replicas int, targets string) string {
	return fmt.Sprintf(`global:
  timeout: 1s
  retry: {attempts: 0, interval: 20ms, max_interval: 200ms, max_age: 10m}
storage:
  engine: nats
  nats:
    urls: [%s]
    prefix: %s
    replicas: %d
    claim_ttl: 1500ms
    publish_timeout: 2s
targets:
%s`, c.URLs(), prefix, replicas, targets)
}

func webhookTarget(name, url string) string {
	return fmt.Sprintf("  - name: %s\n    type: webhook\n    url: %s\n", name, url)
}

func postStatus(t *testing.T, url string, body []byte) int {
	t.Helper()
	resp, err := http.Post(url+"/webhook", "application/json", bytes.NewReader(body))
	if err != nil {
		return 0
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// startReplica starts one bridge on the replicated engine.
func startReplica(t *testing.T, cfg string) *testBridge {
	t.Helper()
	return serveTestApp(t, newTestApp(t, cfg, Options{Logger: replicaLogger(t), EnableAdminAPI: true}))
}

// TestNATSReplicasDeliverHADuplicatesOnce: two bridges on one three-node
// cluster each receive every notification (as from two Alertmanager HA
// peers); every group reaches the chat once, whichever bridge holds the
// target, and both bridges list the same deliveries.
func TestNATSReplicasDeliverHADuplicatesOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers and two bridges")
	}
	c := jstest.Start(t, 3)
	sink := newGroupSink(t)
	cfg := natsConfig(c, "HA", 3, webhookTarget("a", sink.url+"/a")+webhookTarget("b", sink.url+"/b"))
	b1, b2 := startReplica(t, cfg), startReplica(t, cfg)
	const groups = 40
	var wg sync.WaitGroup
	for i := range groups {
		for _, b := range []*testBridge{b1, b2} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if code := postStatus(t, b.url, groupPayload(i, "firing")); code != http.StatusOK {
					t.Errorf("group %d: status %d", i, code)
				}
			}()
		}
	}
	wg.Wait()
	// Each group goes to both targets: two deliveries per group.
	sink.waitGroups(2*groups, 30*time.Second)
	time.Sleep(500 * time.Millisecond) // a duplicate would arrive now
	got := sink.waitGroups(2*groups, 0)
	for i := range groups {
		for _, target := range []string{"/a", "/b"} {
			if n := len(got[fmt.Sprintf("%s|%d", target, i)]); n != 1 {
				t.Errorf("group %d delivered %d times to %s, want once", i, n, target)
			}
		}
	}
	// The view of both bridges is the same log.
	for _, b := range []*testBridge{b1, b2} {
		if err := b.app.repl.engine.Sync(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if a, b := b1.app.repl.engine.Applied(), b2.app.repl.engine.Applied(); a != b {
		t.Errorf("views at log positions %d and %d after Sync", a, b)
	}
	// Claims move while the second bridge joins: wait until they settle.
	var h1, h2 int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		h1, _ = b1.app.claimsHeld()
		h2, _ = b2.app.claimsHeld()
		if h1+h2 == 3 {
			break
		}
	}
	if h1+h2 != 3 { // two targets and the leader's claim
		t.Errorf("claims held: %d and %d, want 3 in all", h1, h2)
	}
	// The engine's metrics: both bridges connected, the two targets
	// claimed between them, publishes timed.
	claimed := 0.0
	for _, b := range []*testBridge{b1, b2} {
		resp, err := http.Get(b.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{"alertbridge_nats_connected 1", "alertbridge_nats_publish_duration_seconds_count ", "alertbridge_nats_stream_lag "} {
			if !strings.Contains(string(body), want) {
				t.Errorf("%s/metrics lacks %q", b.url, want)
			}
		}
		for _, line := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(line, "alertbridge_nats_claimed_targets "); ok {
				var f float64
				fmt.Sscan(v, &f)
				claimed += f
			}
		}
	}
	if claimed != 2 {
		t.Errorf("alertbridge_nats_claimed_targets sums to %v over the bridges, want 2", claimed)
	}
}

// TestNATSOrderPerGroupAcrossReplicas: a group's firing notification
// accepted by one bridge and its resolved one by the other arrive in
// that order (or the resolved alone, when it superseded the firing).
func TestNATSOrderPerGroupAcrossReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers and two bridges")
	}
	c := jstest.Start(t, 3)
	sink := newGroupSink(t)
	sink.delay.Store(int64(20 * time.Millisecond))
	cfg := natsConfig(c, "ORDER", 3, webhookTarget("a", sink.url+"/a"))
	b1, b2 := startReplica(t, cfg), startReplica(t, cfg)
	const groups = 30
	for i := range groups {
		if code := postStatus(t, b1.url, groupPayload(i, "firing")); code != http.StatusOK {
			t.Fatalf("firing %d: %d", i, code)
		}
		if code := postStatus(t, b2.url, groupPayload(i, "resolved")); code != http.StatusOK {
			t.Fatalf("resolved %d: %d", i, code)
		}
	}
	got := sink.waitGroups(groups, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		done := true
		for i := range groups {
			s := got[fmt.Sprintf("/a|%d", i)]
			if len(s) == 0 || s[len(s)-1] != "resolved" {
				done = false
			}
		}
		if done {
			break
		}
		time.Sleep(50 * time.Millisecond)
		got = sink.waitGroups(groups, 0)
	}
	for i := range groups {
		s := got[fmt.Sprintf("/a|%d", i)]
		if len(s) == 0 || s[len(s)-1] != "resolved" {
			t.Errorf("group %d: arrivals %v, want the resolved one last", i, s)
		}
		for k := 1; k < len(s); k++ {
			if s[k-1] == "resolved" && s[k] == "firing" {
				t.Errorf("group %d: firing after resolved: %v", i, s)
			}
		}
	}
}

// TestNATSOutageAnswers503: with every NATS server down, or with two of
// three down while the bridge stays connected to the third (no write is
// acknowledged), a notification gets 503 and the bridge is not ready;
// with the servers back it is ready again, and Alertmanager's retry of
// the refused notification is accepted and delivered once.
func TestNATSOutageAnswers503(t *testing.T) {
	for _, tc := range []struct {
		name    string
		servers int
		stop    []int
	}{
		{"NATS down", 1, []int{0}},
		{"quorum lost", 3, []int{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.servers > 1 {
				t.Skip("three NATS servers")
			}
			c := jstest.Start(t, tc.servers)
			sink := newGroupSink(t)
			b := startReplica(t, natsConfig(c, "OUTAGE", tc.servers, webhookTarget("a", sink.url+"/a")))
			if code := postStatus(t, b.url, groupPayload(1, "firing")); code != http.StatusOK {
				t.Fatalf("before: status %d", code)
			}
			for _, i := range tc.stop {
				c.Stop(i)
			}
			if code := postStatus(t, b.url, groupPayload(2, "firing")); code != http.StatusServiceUnavailable {
				t.Errorf("during the outage: status %d, want 503", code)
			}
			time.Sleep(readinessTTL)
			if b.app.Ready() {
				t.Error("ready during the outage")
			}
			for _, i := range tc.stop {
				c.Restart(i)
			}
			deadline := time.Now().Add(30 * time.Second)
			for !b.app.Ready() && time.Now().Before(deadline) {
				time.Sleep(200 * time.Millisecond)
			}
			if !b.app.Ready() {
				t.Fatal("not ready after the outage")
			}
			code := 0
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
				if code = postStatus(t, b.url, groupPayload(2, "firing")); code == http.StatusOK {
					break
				}
			}
			if code != http.StatusOK {
				t.Fatalf("Alertmanager's retry after the outage: status %d", code)
			}
			if code := postStatus(t, b.url, groupPayload(3, "firing")); code != http.StatusOK {
				t.Fatalf("after the outage: status %d", code)
			}
			sink.waitGroups(3, 20*time.Second)
			time.Sleep(300 * time.Millisecond)
			got := sink.waitGroups(3, 0)
			for _, g := range []string{"/a|1", "/a|2", "/a|3"} {
				if len(got[g]) != 1 {
					t.Errorf("group %s delivered %d times, want once: %v", g, len(got[g]), got)
				}
			}
		})
	}
}

// crash stops a bridge as a crash would: its NATS connection goes at
// once, so it can neither write an outcome nor renew a claim, its
// attempts in flight are cut off and its HTTP listener closes. It
// returns how many attempts were in flight.
func crash(b *testBridge) int {
	inFlight := 0
	for name := range b.app.rt.Load().targets {
		inFlight += b.app.queue.Lane(name).InFlight
	}
	b.app.repl.nc.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = b.app.queue.Close(ctx)
	b.stop()
	return inFlight
}

// TestNATSFailoverLosesNothing: under load with a slow target, one NATS
// node is killed, then one bridge crashes with deliveries in flight.
// Every acknowledged group reaches every target (the crashed bridge's
// targets through the other bridge, once their claims expired);
// duplicates are bounded by the attempts in flight at the crash.
func TestNATSFailoverLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers and two bridges")
	}
	failover(t, 300)
}

func failover(t *testing.T, groups int) (acked, dups int) {
	c := jstest.Start(t, 3)
	sink := newGroupSink(t)
	sink.delay.Store(int64(150 * time.Millisecond))
	const targets = 4
	var cfgTargets string
	for i := range targets {
		cfgTargets += webhookTarget(fmt.Sprintf("t%d", i), fmt.Sprintf("%s/t%d", sink.url, i))
	}
	cfg := natsConfig(c, "FAIL", 3, cfgTargets)
	b1, b2 := startReplica(t, cfg), startReplica(t, cfg)
	// Both bridges hold targets before the load starts.
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		h1, _ := b1.app.claimsHeld()
		h2, _ := b2.app.claimsHeld()
		owned := 0
		for i := range targets {
			if b1.app.repl.owns(fmt.Sprintf("t%d", i)) {
				owned++
			}
		}
		if h1+h2 == targets+1 && owned > 0 && owned < targets { // and the watchdog's claim
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	var ok sync.Map
	var wg sync.WaitGroup
	post := func(from, to int, bs ...*testBridge) {
		for i := from; i < to; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				// As Alertmanager behind a load balancer: a failed post
				// is retried, on the other bridge.
				for k := range 2 * len(bs) {
					b := bs[(i+k)%len(bs)]
					if postStatus(t, b.url, groupPayload(i, "firing")) == http.StatusOK {
						ok.Store(i, true)
						return
					}
				}
			}()
			time.Sleep(3 * time.Millisecond)
		}
		wg.Wait()
	}
	third := groups / 3
	post(0, third, b1, b2)
	c.Stop(1) // a NATS node dies
	done := make(chan struct{})
	go func() { post(third, 2*third, b1, b2); close(done) }()
	// The crash comes while the first bridge has attempts in flight.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		n := 0
		for i := range targets {
			n += b1.app.queue.Lane(fmt.Sprintf("t%d", i)).InFlight
		}
		if n >= 4 {
			break
		}
	}
	inFlight := crash(b1) // a bridge dies, with attempts in flight
	<-done
	post(2*third, groups, b2)
	ok.Range(func(_, _ any) bool { acked++; return true })
	if acked < groups {
		t.Errorf("only %d of %d groups acknowledged", acked, groups)
	}
	sink.waitGroups(acked*targets, 90*time.Second)
	time.Sleep(500 * time.Millisecond)
	got := sink.waitGroups(acked*targets, 0)
	var lost []string
	ok.Range(func(k, _ any) bool {
		for tg := range targets {
			key := fmt.Sprintf("/t%d|%d", tg, k.(int))
			switch n := len(got[key]); {
			case n == 0:
				lost = append(lost, key)
			case n > 1:
				dups += n - 1
			}
		}
		return true
	})
	if len(lost) > 0 {
		t.Errorf("%d acknowledged deliveries never made: %v", len(lost), lost)
	}
	// A duplicate is an attempt the crashed bridge had in flight (or
	// started in the moment of the crash) that reached the target before
	// it died.
	if dups > inFlight+16 {
		t.Errorf("%d duplicates, %d attempts were in flight at the crash", dups, inFlight)
	}
	t.Logf("%d of %d groups acknowledged, %d deliveries, %d duplicates, %d attempts in flight at the crash", acked, groups, sink.total, dups, inFlight)
	return acked, dups
}

// replicaLogger is the replicas' logger (quiet: two bridges under load
// log a lot).
var replicaLogger = func(t *testing.T) *zap.Logger { return zap.NewNop() }

// TestNATSWatchdogOneNoticeForTheFleet: heartbeats reach only one of two
// bridges, yet neither reports a silence; when they stop, the fleet sends
// one notice, not one per bridge.
func TestNATSWatchdogOneNoticeForTheFleet(t *testing.T) {
	if testing.Short() {
		t.Skip("three NATS servers and two bridges")
	}
	c := jstest.Start(t, 3)
	sink := newGroupSink(t)
	// The pager takes no notification (its matcher selects none): only
	// the watchdog's notices, which go to it whatever its matchers.
	pager := webhookTarget("pager", sink.url+"/pager") + "    match: ['team=\"nobody\"']\n"
	cfg := natsConfig(c, "WD", 3, webhookTarget("a", sink.url+"/a")+pager) +
		"watchdog:\n  match: ['alertname=\"Watchdog\"']\n  timeout: 2s\n  repeat_interval: 1h\n  targets: [pager]\n"
	// Each heartbeat is a notification of its own (Alertmanager repeats
	// it every repeat_interval, longer than the dedup window).
	cfg = strings.Replace(cfg, "global:\n", "global:\n  dedup_window: 100ms\n", 1)
	start := func() *testBridge {
		return serveTestApp(t, newTestApp(t, cfg, Options{Logger: replicaLogger(t), WatchdogInterval: 100 * time.Millisecond}))
	}
	b1, b2 := start(), start()
	heartbeat := []byte(`{"version":"4","groupKey":"{}:{alertname=\"Watchdog\"}","status":"firing","receiver":"r",
	"groupLabels":{"alertname":"Watchdog"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
	"alerts":[{"status":"firing","labels":{"alertname":"Watchdog"},"annotations":{},
	"startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","generatorURL":"","fingerprint":"00000000000000aa"}]}`)
	// Heartbeats for 4 s (twice the timeout), to the first bridge only.
	for range 8 {
		if code := postStatus(t, b1.url, heartbeat); code != http.StatusOK {
			t.Fatalf("heartbeat: status %d", code)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if got := sink.pathTotal("/pager"); got != 0 {
		t.Fatalf("%d watchdog notices while the heartbeat was arriving at one bridge of two", got)
	}
	// Silence: one notice for the fleet.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && sink.pathTotal("/pager") == 0 {
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(time.Second) // a second bridge's notice would arrive now
	if got := sink.pathTotal("/pager"); got != 1 {
		t.Errorf("%d watchdog notices for one silence, want 1", got)
	}
	_ = b2
}

// pathTotal counts the deliveries to one target (URL path).
func (s *groupSink) pathTotal(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, v := range s.got {
		if p, _, _ := strings.Cut(k, "|"); p == path {
			n += len(v)
		}
	}
	return n
}

// TestNATSTooLargeFor413: a notification whose stored form exceeds the
// NATS servers' max_payload is refused with 413 (a retry cannot help),
// not 503; smaller ones are accepted.
func TestNATSTooLargeFor413(t *testing.T) {
	c := jstest.StartWith(t, 1, func(o *server.Options) { o.MaxPayload = 64 << 10 })
	sink := newGroupSink(t)
	b := startReplica(t, natsConfig(c, "BIG", 1, webhookTarget("a", sink.url+"/a")))
	if code := postStatus(t, b.url, groupPayload(1, "firing")); code != http.StatusOK {
		t.Fatalf("small notification: status %d", code)
	}
	var alerts []notifytest.Alert
	for i := range 40 {
		alerts = append(alerts, notifytest.Alert{Status: "firing", StartsAt: "2026-11-23T10:00:00Z", EndsAt: "0001-01-01T00:00:00Z", Labels: map[string]string{"alertname": "Big", "i": fmt.Sprint(i)},
			Annotations: map[string]string{"description": strings.Repeat("d", 2000)}})
	}
	if code := postStatus(t, b.url, notifytest.NewPayload("alertname", alerts)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("notification over max_payload: status %d, want 413", code)
	}
	if code := postStatus(t, b.url, groupPayload(2, "firing")); code != http.StatusOK {
		t.Errorf("after it: status %d", code)
	}
}
