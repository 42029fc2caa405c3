package bridge

import (
	"net/http"
	"strings"
	"testing"

	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// TestGroupKeyPrefixDoesNotMarkTests: a notification posted to /webhook
// whose group key starts like a test send's is a real alert in the alert
// center and in the deliveries API; only the alerts of a test send (made
// by POST /api/v1/targets/{name}/test) are marked, and the two APIs agree.
func TestGroupKeyPrefixDoesNotMarkTests(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig("  - {name: ops, type: webhook, url: '"+sink.URL+"'}\n"), "")
	payload := strings.Replace(string(readFile(t, "../examples/payload-firing.json")),
		`"groupKey": "{}:{alertname=\"HighCPU\"}"`, `"groupKey": "alertbridge-test:ops:99"`, 1)
	if !strings.Contains(payload, "alertbridge-test:ops:99") {
		t.Fatal("payload not rewritten")
	}
	if code, body := b.request(t, "POST", "/webhook/ops", "", []byte(payload)); code != http.StatusOK {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if code, body := b.request(t, "POST", "/api/v1/targets/ops/test", "", nil); code != http.StatusAccepted {
		t.Fatalf("test send: %d %s", code, body)
	}
	// Jobs only move from pending to delivered or dead: listing in this
	// order misses none.
	var jobs []map[string]any
	for _, state := range []string{"pending", "delivered", "dead"} {
		jobs = append(jobs, b.list(t, state)...)
	}
	for _, c := range []struct {
		api     string
		entries []map[string]any
		name    func(map[string]any) string
	}{
		{"/api/v1/alerts", b.data(t, "/api/v1/alerts"), func(a map[string]any) string { return a["target"].(string) }},
		{"/api/v1/deliveries", jobs, func(j map[string]any) string { return j["groupKey"].(string) }},
	} {
		real, tests := 0, 0
		for _, e := range c.entries {
			spoofed := e["groupKey"] == "alertbridge-test:ops:99"
			switch {
			case spoofed && e["test"] == true:
				t.Errorf("%s: %s from /webhook marked as a test", c.api, c.name(e))
			case spoofed:
				real++
			case e["test"] == true:
				tests++
			default:
				t.Errorf("%s: %s of the test send not marked", c.api, c.name(e))
			}
		}
		if real == 0 || tests == 0 {
			t.Errorf("%s: %d real and %d test entries, want some of each", c.api, real, tests)
		}
	}
}
