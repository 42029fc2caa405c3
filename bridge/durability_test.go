package bridge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// groupPayload returns a distinct single-alert notification for group n.
func groupPayload(n int, status string) []byte {
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = "2026-11-23T11:00:00Z"
	}
	return []byte(fmt.Sprintf(`{"version":"4","groupKey":"{}:{g=\"%d\"}","status":%q,"receiver":"r",
	"groupLabels":{"g":"%d"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
	"alerts":[{"status":%q,"labels":{"alertname":"A","g":"%d"},"annotations":{},
	"startsAt":"2026-11-23T10:00:00Z","endsAt":%q,"generatorURL":"","fingerprint":"%016x"}]}`, n, status, n, status, n, ends, n))
}

// groupsIn returns how often each group label arrived at the fake.
func groupsIn(got []notifytest.Received) map[string]int {
	out := map[string]int{}
	for _, r := range got {
		var recs []struct {
			Tags map[string]string `json:"tags"`
		}
		if json.Unmarshal(r.Body, &recs) == nil {
			for _, rec := range recs {
				out[rec.Tags["g"]]++
			}
		}
	}
	return out
}

func TestServerErrorsThenOKDeliversEveryGroupOnce(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	var fails []notifytest.Reply
	for i := 0; i < 8; i++ {
		fails = append(fails, notifytest.Reply{Status: 500 + i%4})
	}
	sink.Script(fails...)
	b := startBridge(t, webhookConfig(`
  - name: flaky
    type: webhook
    url: `+sink.URL+`
    retry: {attempts: 20, interval: 5ms, max_interval: 20ms}
`), "")
	const groups = 20
	for i := 0; i < groups; i++ {
		if code, ans := b.post(t, "/webhook", groupPayload(i, "firing")); code != 200 {
			t.Fatalf("group %d: %d %v", i, code, ans)
		}
	}
	got := sink.WaitFor(groups, 20*time.Second)
	seen := groupsIn(got)
	for i := 0; i < groups; i++ {
		if n := seen[fmt.Sprint(i)]; n != 1 {
			t.Errorf("group %d delivered %d times, want exactly once", i, n)
		}
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "2"}})
	b := startBridge(t, webhookConfig(`
  - name: throttled
    type: webhook
    url: `+sink.URL+`
    retry: {attempts: 5, interval: 10ms, max_interval: 20ms}
`), "")
	start := time.Now()
	if code, _ := b.post(t, "/webhook", groupPayload(1, "firing")); code != 200 {
		t.Fatal(code)
	}
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 {
		t.Fatal("not delivered after 429")
	}
	// A lower bound only: the retry must not come before the target's wait.
	if d := got[0].At.Sub(start); d < 2*time.Second {
		t.Errorf("retried %v after the 429, want no sooner than Retry-After: 2 s", d)
	}
}

func TestIdenticalPostsDeliverOnce(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: once
    type: webhook
    url: `+sink.URL+`
`), "")
	p := groupPayload(7, "firing")
	_, first := b.post(t, "/webhook", p)
	code, second := b.post(t, "/webhook", p)
	if code != 200 || second["duplicate"] != true || first["duplicate"] == true {
		t.Fatalf("second post: %d %v (first %v)", code, second, first)
	}
	// An HA peer sends the same group with its own externalURL.
	peer := bytes.Replace(p, []byte(`"externalURL":"http://am"`), []byte(`"externalURL":"http://am-2"`), 1)
	if _, ans := b.post(t, "/webhook", peer); ans["duplicate"] != true {
		t.Errorf("HA peer copy not recognised: %v", ans)
	}
	// The resolved notification is a new one.
	if _, ans := b.post(t, "/webhook", groupPayload(7, "resolved")); ans["duplicate"] == true {
		t.Errorf("resolved notification treated as duplicate")
	}
	got := sink.WaitFor(2, 10*time.Second)
	if len(got) != 2 {
		t.Fatalf("received %d, want 2 (firing once, resolved once)", len(got))
	}
}

func TestStoreUnavailableAnswers503(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: a
    type: webhook
    url: `+sink.URL+`
`), "")
	if err := b.app.db.Close(); err != nil {
		t.Fatal(err)
	}
	code, ans := b.post(t, "/webhook", groupPayload(1, "firing"))
	if code != http.StatusServiceUnavailable {
		t.Errorf("closed store: %d %v, want 503 so Alertmanager retries", code, ans)
	}
}

func TestDeadLettersListRetryDelete(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 400, Body: `{"error":"bad"}`}, notifytest.Reply{Status: 400})
	b := startBridge(t, webhookConfig(`
  - name: strict
    type: webhook
    url: `+sink.URL+`/token/SECRETTOKEN
`), "")
	b.post(t, "/webhook", groupPayload(1, "firing"))
	b.post(t, "/webhook", groupPayload(2, "firing"))
	var dead []map[string]any
	eventually(10*time.Second, func() bool { dead = b.list(t, "dead"); return len(dead) == 2 })
	if len(dead) != 2 {
		t.Fatalf("dead letters: %v", dead)
	}
	if dead[0]["reason"] != "clientError" || dead[0]["target"] != "strict" {
		t.Errorf("dead letter = %v", dead[0])
	}
	raw, _ := json.Marshal(dead)
	if bytes.Contains(raw, []byte("SECRETTOKEN")) {
		t.Errorf("API answer leaks the URL token: %s", raw)
	}
	id := fmt.Sprint(int64(dead[0]["id"].(float64)))
	resp, err := http.Post(b.url+"/api/v1/deliveries/"+id+"/retry", "", nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("retry: %v %v", err, resp)
	}
	resp.Body.Close()
	if got := sink.WaitFor(1, 10*time.Second); len(got) != 1 {
		t.Fatalf("retried dead letter not delivered")
	}
	other := fmt.Sprint(int64(dead[1]["id"].(float64)))
	req, _ := http.NewRequest(http.MethodDelete, b.url+"/api/v1/deliveries/"+other, nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("delete: %v %v", err, resp)
	}
	resp.Body.Close()
	if d := b.list(t, "dead"); len(d) != 0 {
		t.Errorf("dead letters after retry and delete: %v", d)
	}
	// The sink has the request before the outcome is written: wait for it.
	var delivered []map[string]any
	eventually(5*time.Second, func() bool { delivered = b.list(t, "delivered"); return len(delivered) == 1 })
	if len(delivered) != 1 {
		t.Errorf("delivered history: %v", delivered)
	}
	resp, _ = http.Get(b.url + "/api/v1/deliveries?state=bogus")
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("bad state: %d", resp.StatusCode)
	}
	resp, _ = http.Post(b.url+"/api/v1/deliveries/999999/retry", "", nil)
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("retry unknown: %d", resp.StatusCode)
	}
}

func (b *testBridge) list(t *testing.T, state string) []map[string]any {
	t.Helper()
	return b.data(t, "/api/v1/deliveries?state="+state)
}

// data GETs an API path and returns the "data" list of its answer.
func (b *testBridge) data(t *testing.T, path string) []map[string]any {
	t.Helper()
	resp, err := http.Get(b.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Data []map[string]any `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Data
}

func TestSignedWebhookIDStableAcrossRetries(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 503})
	b := startBridge(t, webhookConfig(`
  - name: signed
    type: webhook
    url: `+sink.URL+`
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
`), "")
	b.post(t, "/webhook", groupPayload(3, "firing"))
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 {
		t.Fatal("not delivered")
	}
	h := got[0].Header
	key, _ := base64.StdEncoding.DecodeString("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(h.Get("webhook-id") + "." + h.Get("webhook-timestamp") + "." + string(got[0].Body)))
	if want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)); h.Get("webhook-signature") != want {
		t.Errorf("signature %q does not verify (want %q)", h.Get("webhook-signature"), want)
	}
	if !strings.HasPrefix(h.Get("webhook-id"), "msg_") || strings.Contains(h.Get("webhook-id"), ".") {
		t.Errorf("webhook-id %q", h.Get("webhook-id"))
	}
	if sink.Rejected() != 1 {
		t.Fatalf("first attempt was not rejected: %d", sink.Rejected())
	}
	if ids := sink.AttemptIDs("webhook-id"); len(ids) != 2 || ids[0] != ids[1] {
		t.Errorf("webhook-id across the retry: %v, want the same id twice", ids)
	}
}

func TestNewerNotificationSupersedesWaitingOne(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 429, Header: map[string]string{"Retry-After": "1"}})
	b := startBridge(t, webhookConfig(`
  - name: throttled
    type: webhook
    url: `+sink.URL+`
`), "")
	b.post(t, "/webhook", groupPayload(5, "firing"))
	eventually(10*time.Second, func() bool { return sink.Rejected() > 0 })
	// The firing job now waits out the 429; the resolved state replaces it.
	b.post(t, "/webhook", groupPayload(5, "resolved"))
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("received %d", len(got))
	}
	if !bytes.Contains(got[0].Body, []byte(`"status":2`)) {
		t.Errorf("delivered body is not the resolved state: %s", got[0].Body)
	}
	if n := testutil.ToFloat64(b.app.metrics.Superseded.WithLabelValues("throttled")); n != 1 {
		t.Errorf("superseded = %v, want 1", n)
	}
	var hist []map[string]any
	eventually(5*time.Second, func() bool { hist = b.list(t, "delivered"); return len(hist) == 2 })
	if len(hist) != 2 || hist[1]["superseded"] != true {
		t.Errorf("history = %v, want the resolved delivery and the superseded firing one", hist)
	}
	// Nothing more arrives: the firing job is gone.
	if more := sink.WaitFor(2, 1500*time.Millisecond); len(more) != 1 {
		t.Errorf("superseded job delivered too: %d requests", len(more))
	}
}

// TestFailedOlderStateNeverFollowsNewer: the firing notification is being
// attempted when the resolved one arrives; the attempt fails. The resolved
// state must be the last (and only) thing the channel gets.
func TestFailedOlderStateNeverFollowsNewer(t *testing.T) {
	inFlight, release := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var bodies [][]byte
	var calls int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls++
		first := calls == 1
		mu.Unlock()
		if first {
			close(inFlight)
			<-release
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
	}))
	defer srv.Close()
	b := startBridge(t, webhookConfig(`
  - name: ordered
    type: webhook
    url: `+srv.URL+`
`), "")
	b.post(t, "/webhook", groupPayload(9, "firing"))
	<-inFlight
	b.post(t, "/webhook", groupPayload(9, "resolved"))
	close(release)
	eventually(10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) >= 1
	})
	time.Sleep(300 * time.Millisecond) // room for a wrongly rescheduled firing retry (interval 10-50ms)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !bytes.Contains(bodies[0], []byte(`"status":2`)) {
		t.Fatalf("channel got %d messages, want only the resolved state: %q", len(bodies), bodies)
	}
}

func TestRemovedTargetJobsBecomeDeadLetters(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 503, Header: map[string]string{"Retry-After": "3600"}})
	cfg := webhookConfig(`
  - name: keep
    type: webhook
    url: ` + sink.URL + `/keep
  - name: gone
    type: webhook
    url: ` + sink.URL + `/gone
    match: ['g="1"']
`)
	b := startBridge(t, cfg, "")
	b.post(t, "/webhook/gone", groupPayload(1, "firing"))
	eventually(10*time.Second, func() bool { return sink.Rejected() > 0 })
	// The job now waits an hour; removing the target must not leave it there.
	writeFile(t, b.app.opts.ConfigFile, webhookConfig(`
  - name: keep
    type: webhook
    url: `+sink.URL+`/keep
`))
	if err := b.app.Reload(); err != nil {
		t.Fatal(err)
	}
	var dead []map[string]any
	eventually(10*time.Second, func() bool { dead = b.list(t, "dead"); return len(dead) == 1 })
	if len(dead) != 1 || dead[0]["reason"] != "targetRemoved" || dead[0]["target"] != "gone" {
		t.Fatalf("dead letters after removing the target: %v", dead)
	}
}

// TestSplitNotificationResumesAfterRestart: a notification sent as one
// request per alert (the hertzbeat dialect) fails after two of its four
// requests; the bridge stops before the retry. After the restart the retry
// sends only the two that were not delivered: what was delivered is kept
// on disk, not only in memory.
func TestSplitNotificationResumesAfterRestart(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: http.StatusOK}, notifytest.Reply{Status: http.StatusOK},
		notifytest.Reply{Status: http.StatusServiceUnavailable, Body: "busy"})
	storage := t.TempDir()
	cfg := webhookConfig(`
  - name: records
    type: webhook
    dialect: hertzbeat
    url: ` + sink.URL + `
    retry: {attempts: 5, interval: 3s, max_interval: 3s}
`)
	first := startBridge(t, cfg, storage)
	if code, ans := first.post(t, "/webhook", notifytest.MixedPayload()); code != http.StatusOK {
		t.Fatalf("status %d: %v", code, ans)
	}
	eventually(10*time.Second, func() bool { return len(sink.Attempts()) >= 3 })
	first.stop()
	if n := len(sink.Attempts()); n != 3 {
		t.Fatalf("%d attempts before the restart, want 3 (the retry came too early for this test)", n)
	}

	startBridge(t, cfg, storage)
	got := sink.WaitFor(4, 15*time.Second)
	if len(got) != 4 {
		t.Fatalf("%d requests delivered, want the 4 alerts once each", len(got))
	}
	seen := map[int64]int{}
	for _, r := range got {
		var rec alert.Record
		if err := json.Unmarshal(r.Body, &rec); err != nil {
			t.Fatal(err)
		}
		seen[rec.ID]++
	}
	if len(seen) != 4 {
		t.Errorf("delivered records %v: want 4 distinct alerts, each once", seen)
	}
	if a := len(sink.Attempts()); a != 5 {
		t.Errorf("%d requests in all, want 5 (2 delivered, 1 failed, then the 2 left)", a)
	}
}
