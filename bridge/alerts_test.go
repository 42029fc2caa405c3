package bridge

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// alertCenterEntry is an alert center entry as the API answers it.
type alertCenterEntry struct {
	alert.Record
	UpdatedAt       time.Time         `json:"updatedAt"`
	Fingerprint     string            `json:"fingerprint"`
	Annotations     map[string]string `json:"annotations"`
	GeneratorURL    string            `json:"generatorURL"`
	Receiver        string            `json:"receiver"`
	GroupKey        string            `json:"groupKey"`
	DeliveryTargets []string          `json:"deliveryTargets"`
	Deliveries      []struct {
		ID       uint64 `json:"id"`
		Target   string `json:"target"`
		State    string `json:"state"`
		Attempts int    `json:"attempts"`
		Reason   string `json:"reason"`
		Error    string `json:"error"`
	} `json:"deliveries"`
}

func (b *testBridge) getAlertCenter(t *testing.T, path string, out any) int {
	t.Helper()
	resp, err := http.Get(b.url + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatalf("GET %s: answer is not JSON: %v\n%s", path, err, raw)
	}
	return resp.StatusCode
}

type alertCenterPage struct {
	Data []alertCenterEntry `json:"data"`
	Next string             `json:"next"`
}

type alertCenterDetail struct {
	Data  alertCenterEntry `json:"data"`
	Error string           `json:"error"`
}

// TestAlertCenter: notifications through /webhook, then the alert center
// answers where each alert went: delivered, dead, or nowhere.
func TestAlertCenter(t *testing.T) {
	sink := webhookfake.NewWebhook(t)
	b := startBridge(t, webhookConfig(`
  - name: critical
    type: webhook
    url: `+sink.URL+`/critical/SECRETTOKEN
    match: ['severity="critical"']
  - name: db
    type: webhook
    url: `+sink.URL+`/db
    match: ['team="db"']
`), "")

	// 1. The firing HighCPU group: only "critical" matches.
	if code, ans := b.post(t, "/webhook", readFile(t, "../examples/payload-firing.json")); code != 200 || fmt.Sprint(ans["targets"]) != "[critical]" {
		t.Fatalf("firing: %d %v", code, ans)
	}
	got := sink.WaitFor(1, 10*time.Second)
	if len(got) != 1 {
		t.Fatalf("sink received %d, want 1", len(got))
	}
	var sent []alert.Record
	if err := json.Unmarshal(got[0].Body, &sent); err != nil || len(sent) != 2 {
		t.Fatalf("sent records: %v %s", err, got[0].Body)
	}
	web1 := fmt.Sprint("/api/v1/alerts/", sent[0].ID)
	var d alertCenterDetail
	if !eventually(5*time.Second, func() bool {
		b.getAlertCenter(t, web1, &d)
		return len(d.Data.Deliveries) == 1 && d.Data.Deliveries[0].State == "delivered"
	}) {
		t.Fatalf("web-1 deliveries: %+v", d.Data.Deliveries)
	}
	if dl := d.Data.Deliveries[0]; dl.Target != "critical" || dl.Attempts != 1 {
		t.Errorf("web-1 delivery %+v", dl)
	}

	// 2. A group no target takes: recorded, with no deliveries.
	disk := `{"version":"4","groupKey":"{}:{alertname=\"DiskFull\"}","status":"firing","receiver":"alertbridge",
"alerts":[{"status":"firing","labels":{"alertname":"DiskFull","job":"node","severity":"warning"},
"annotations":{"summary":"disk 95% full"},"startsAt":"2026-11-23T11:00:00Z"}]}`
	if code, ans := b.post(t, "/webhook", []byte(disk)); code != 200 || fmt.Sprint(ans["targets"]) != "[]" {
		t.Fatalf("unrouted: %d %v", code, ans)
	}

	var list alertCenterPage
	if code := b.getAlertCenter(t, "/api/v1/alerts", &list); code != 200 || len(list.Data) != 3 || list.Next != "" {
		t.Fatalf("list: %d %+v", code, list)
	}
	if list.Data[0].Target != "node/DiskFull" || len(list.Data[0].DeliveryTargets) != 0 || list.Data[0].Annotations["summary"] != "disk 95% full" {
		t.Errorf("newest entry: %+v", list.Data[0])
	}
	// The alert center keeps the records exactly as they were sent.
	for _, r := range sent {
		i := slices.IndexFunc(list.Data, func(e alertCenterEntry) bool { return e.ID == r.ID })
		if i < 0 {
			t.Fatalf("record %d not listed", r.ID)
		}
		e := list.Data[i]
		if fmt.Sprint(e.Record) != fmt.Sprint(r) || !slices.Equal(e.DeliveryTargets, []string{"critical"}) ||
			e.Receiver != "alertbridge" || e.GroupKey != `{}:{alertname="HighCPU"}` || e.Fingerprint == "" ||
			!strings.Contains(e.GeneratorURL, "g0.expr") {
			t.Errorf("entry %+v\nsent %+v", e, r)
		}
	}
	diskID := list.Data[0].ID
	d = alertCenterDetail{}
	if code := b.getAlertCenter(t, fmt.Sprint("/api/v1/alerts/", diskID), &d); code != 200 || d.Data.Deliveries == nil || len(d.Data.Deliveries) != 0 {
		t.Errorf("unrouted alert: %d %+v", code, d.Data)
	}

	// 3. The resolved group fails permanently at the receiver: a dead
	// letter, listed before the earlier delivery.
	sink.Script(notifytest.Reply{Status: 400, Body: "bad request"})
	if code, ans := b.post(t, "/webhook", readFile(t, "../examples/payload-resolved.json")); code != 200 {
		t.Fatalf("resolved: %d %v", code, ans)
	}
	d = alertCenterDetail{}
	if !eventually(5*time.Second, func() bool {
		b.getAlertCenter(t, web1, &d)
		return len(d.Data.Deliveries) == 2 && d.Data.Deliveries[0].State == "dead"
	}) {
		t.Fatalf("web-1 deliveries after the failed resolve: %+v", d.Data.Deliveries)
	}
	if dl := d.Data.Deliveries; dl[0].Reason != "clientError" || !strings.Contains(dl[0].Error, "400") || dl[1].State != "delivered" || dl[0].ID <= dl[1].ID {
		t.Errorf("deliveries %+v", dl)
	}
	if d.Data.Status != alert.StatusResolved || d.Data.Times != 2 || d.Data.GmtCreate != sent[0].GmtCreate {
		t.Errorf("web-1 after resolve: %+v", d.Data.Record)
	}

	// 4. Filters and paging over HTTP.
	cases := []struct {
		query string
		want  []string // record targets, newest first
	}{
		{"?status=firing", []string{"node/DiskFull"}},
		{"?status=2", []string{"node/HighCPU", "node/HighCPU"}},
		{"?priority=2", []string{"node/DiskFull"}},
		{"?target=node%2FHighCPU", []string{"node/HighCPU", "node/HighCPU"}},
		{"?delivery_target=critical", []string{"node/HighCPU", "node/HighCPU"}},
		{"?delivery_target=db", []string{}},
		{"?since=1h", []string{"node/HighCPU", "node/HighCPU", "node/DiskFull"}},
		{"?since=2999-01-01T00:00:00Z", []string{}},
	}
	for _, tc := range cases {
		var l alertCenterPage
		if code := b.getAlertCenter(t, "/api/v1/alerts"+tc.query, &l); code != 200 {
			t.Errorf("%s: %d", tc.query, code)
		}
		gotTargets := []string{}
		for _, e := range l.Data {
			gotTargets = append(gotTargets, e.Target)
		}
		if !slices.Equal(gotTargets, tc.want) {
			t.Errorf("%s: %v, want %v", tc.query, gotTargets, tc.want)
		}
	}
	var ids []int64
	next := ""
	for range 3 {
		var l alertCenterPage
		b.getAlertCenter(t, "/api/v1/alerts?limit=1"+next, &l)
		for _, e := range l.Data {
			ids = append(ids, e.ID)
		}
		if l.Next == "" {
			break
		}
		next = "&before=" + l.Next
	}
	var all alertCenterPage
	b.getAlertCenter(t, "/api/v1/alerts", &all)
	var want []int64
	for _, e := range all.Data {
		want = append(want, e.ID)
	}
	if !slices.Equal(ids, want) || len(ids) != 3 {
		t.Errorf("pages of 1: %v, want %v", ids, want)
	}

	// 5. Errors.
	d = alertCenterDetail{}
	if code := b.getAlertCenter(t, "/api/v1/alerts/12345", &d); code != 404 || d.Error == "" {
		t.Errorf("unknown id: %d %q", code, d.Error)
	}
	if code := b.getAlertCenter(t, "/api/v1/alerts/web-1", &d); code != 400 {
		t.Errorf("non-numeric id: %d", code)
	}
	var e struct{ Error string }
	if code := b.getAlertCenter(t, "/api/v1/alerts?status=burning", &e); code != 400 || !strings.Contains(e.Error, "status") {
		t.Errorf("bad status: %d %q", code, e.Error)
	}
	// No target URL in the answers.
	for _, p := range []string{"/api/v1/alerts", web1} {
		resp, err := http.Get(b.url + p)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(raw), "SECRETTOKEN") || strings.Contains(string(raw), sink.URL) {
			t.Errorf("%s leaks the target URL: %s", p, raw)
		}
	}
}
