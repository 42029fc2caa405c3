package server

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/metrics"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// fakeAlerts is a Backend with only the alert center (and the token); any
// other method panics.
type fakeAlerts struct {
	Backend
	token string

	gotFilter store.AlertFilter
	gotPage   store.AlertPage
	calls     int
	entries   []*store.AlertEntry
	next      store.AlertCursor
	listErr   error

	entry  *store.AlertEntry
	jobs   []*store.Job
	getErr error
	gotID  int64
}

func (f *fakeAlerts) Credentials() Credentials {
	return Credentials{Ingest: Credential{Token: f.token}}
}

func (f *fakeAlerts) ListAlerts(filter store.AlertFilter, page store.AlertPage) ([]*store.AlertEntry, store.AlertCursor, error) {
	f.calls++
	f.gotFilter, f.gotPage = filter, page
	return f.entries, f.next, f.listErr
}

func (f *fakeAlerts) GetAlert(id int64) (*store.AlertEntry, []*store.Job, error) {
	f.gotID = id
	return f.entry, f.jobs, f.getErr
}

func serve(t *testing.T, b Backend, method, target, auth string) (int, map[string]any) {
	t.Helper()
	h := New(b, zap.NewNop(), 0, metrics.New(func() []metrics.LaneStats { return nil }))
	req := httptest.NewRequest(method, target, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, target, ct)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("%s %s: answer is not JSON: %v\n%s", method, target, err, rec.Body)
	}
	return rec.Code, out
}

func TestListAlertsParameters(t *testing.T) {
	ptr := func(n int) *int { return &n }
	since := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		query  string
		filter store.AlertFilter
		page   store.AlertPage
	}{
		{"", store.AlertFilter{}, store.AlertPage{Limit: 100}},
		{"?status=firing", store.AlertFilter{Status: ptr(alert.StatusFiring)}, store.AlertPage{Limit: 100}},
		{"?status=0", store.AlertFilter{Status: ptr(alert.StatusFiring)}, store.AlertPage{Limit: 100}},
		{"?status=resolved", store.AlertFilter{Status: ptr(alert.StatusResolved)}, store.AlertPage{Limit: 100}},
		{"?status=2", store.AlertFilter{Status: ptr(alert.StatusResolved)}, store.AlertPage{Limit: 100}},
		{"?priority=0", store.AlertFilter{Priority: ptr(0)}, store.AlertPage{Limit: 100}},
		{"?priority=2", store.AlertFilter{Priority: ptr(2)}, store.AlertPage{Limit: 100}},
		{"?target=node%2FHighCPU&delivery_target=ops", store.AlertFilter{Target: "node/HighCPU", DeliveryTarget: "ops"}, store.AlertPage{Limit: 100}},
		{"?since=2026-11-23T10:00:00Z", store.AlertFilter{Since: since}, store.AlertPage{Limit: 100}},
		{"?since=2026-11-23T18:00:00%2B08:00", store.AlertFilter{Since: since}, store.AlertPage{Limit: 100}},
		{"?since=2026-11-23T18:00:00+08:00", store.AlertFilter{Since: since}, store.AlertPage{Limit: 100}}, // "+" arrives as a space
		{"?limit=1000&before=1795433078160-3831012153627443", store.AlertFilter{}, store.AlertPage{Limit: 1000, Before: store.AlertCursor{UpdatedAt: 1795433078160, ID: 3831012153627443}}},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			b := &fakeAlerts{}
			code, out := serve(t, b, "GET", "/api/v1/alerts"+tc.query, "")
			if code != 200 || out["status"] != "success" {
				t.Fatalf("%d %v", code, out)
			}
			if !b.gotFilter.Since.Equal(tc.filter.Since) {
				t.Errorf("since %v, want %v", b.gotFilter.Since, tc.filter.Since)
			}
			b.gotFilter.Since, tc.filter.Since = time.Time{}, time.Time{}
			if !reflect.DeepEqual(b.gotFilter, tc.filter) || b.gotPage != tc.page {
				t.Errorf("filter %+v page %+v, want %+v %+v", b.gotFilter, b.gotPage, tc.filter, tc.page)
			}
			if data, ok := out["data"].([]any); !ok || len(data) != 0 {
				t.Errorf("data %v, want []", out["data"])
			}
			if _, ok := out["next"]; ok {
				t.Errorf("next on the last page: %v", out)
			}
		})
	}
}

func TestListAlertsRelativeSince(t *testing.T) {
	b := &fakeAlerts{}
	from := time.Now()
	if code, out := serve(t, b, "GET", "/api/v1/alerts?since=90m", ""); code != 200 {
		t.Fatalf("%d %v", code, out)
	}
	to := time.Now()
	if got := b.gotFilter.Since; got.Before(from.Add(-90*time.Minute)) || got.After(to.Add(-90*time.Minute)) {
		t.Errorf("since=90m gave %v, want within [%v, %v]", got, from.Add(-90*time.Minute), to.Add(-90*time.Minute))
	}
}

func TestListAlertsBadParameters(t *testing.T) {
	cases := []struct{ query, msg string }{
		{"?status=burning", "status must be firing or resolved"},
		{"?status=1", "status must be firing or resolved"},
		{"?priority=3", "priority must be 0 (high), 1 (medium) or 2 (low)"},
		{"?priority=high", "priority must be 0"},
		{"?since=yesterday", "since must be an RFC 3339 time"},
		{"?since=-1h", "since must be an RFC 3339 time"},
		{"?limit=0", "limit must be between 1 and 1000"},
		{"?limit=1001", "limit must be between 1 and 1000"},
		{"?limit=ten", "limit must be between 1 and 1000"},
		{"?before=42", "before must be the next value of a previous answer"},
		{"?statu=firing", `unknown parameter "statu" (known: status, priority`},
		{"?status=firing&status=resolved", `parameter "status" given more than once`},
	}
	for _, tc := range cases {
		t.Run(tc.query, func(t *testing.T) {
			b := &fakeAlerts{}
			code, out := serve(t, b, "GET", "/api/v1/alerts"+tc.query, "")
			if code != http.StatusBadRequest || out["status"] != "error" || !strings.Contains(out["error"].(string), tc.msg) {
				t.Errorf("%d %v, want 400 mentioning %q", code, out, tc.msg)
			}
			if b.calls != 0 {
				t.Errorf("the store was asked despite a bad parameter")
			}
		})
	}
}

func TestListAlertsAnswer(t *testing.T) {
	e := &store.AlertEntry{
		Record:          alert.Record{ID: 7, Target: "node/HighCPU", Status: alert.StatusFiring, Times: 2, Tags: map[string]string{"alertname": "HighCPU"}},
		UpdatedAt:       time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC),
		Fingerprint:     "abc",
		Annotations:     map[string]string{"summary": "hot"},
		Receiver:        "am",
		GroupKey:        "{}:{}",
		DeliveryTargets: []string{"ops"},
	}
	b := &fakeAlerts{entries: []*store.AlertEntry{e}, next: store.AlertCursor{UpdatedAt: 5, ID: 7}}
	code, out := serve(t, b, "GET", "/api/v1/alerts?limit=1", "")
	if code != 200 || out["next"] != "5-7" {
		t.Fatalf("%d %v", code, out)
	}
	got := out["data"].([]any)[0].(map[string]any)
	// The record's fields are inlined, next to the alert center's own.
	want := map[string]any{"id": 7.0, "target": "node/HighCPU", "times": 2.0, "status": 0.0, "updatedAt": "2026-11-23T10:00:00Z",
		"fingerprint": "abc", "receiver": "am", "groupKey": "{}:{}", "deliveryTargets": []any{"ops"}, "annotations": map[string]any{"summary": "hot"}}
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			t.Errorf("%s = %#v, want %#v", k, got[k], v)
		}
	}
	b.listErr = store.ErrClosed
	if code, out := serve(t, b, "GET", "/api/v1/alerts", ""); code != http.StatusServiceUnavailable {
		t.Errorf("store error: %d %v, want 503", code, out)
	}
}

func TestGetAlert(t *testing.T) {
	entry := &store.AlertEntry{Record: alert.Record{ID: 3831012153627443, Target: "node/HighCPU"}, DeliveryTargets: []string{"ops"}}
	job := &store.Job{ID: 9, Target: "ops", State: store.StateDead, Attempts: 3, Reason: "clientError", Error: "HTTP 400"}
	cases := []struct {
		name, path string
		b          *fakeAlerts
		code       int
		check      func(t *testing.T, out map[string]any)
	}{
		{"found", "/api/v1/alerts/3831012153627443", &fakeAlerts{entry: entry, jobs: []*store.Job{job}}, 200, func(t *testing.T, out map[string]any) {
			d := out["data"].(map[string]any)
			if d["id"] != 3831012153627443.0 || d["target"] != "node/HighCPU" {
				t.Errorf("data %v", d)
			}
			dl := d["deliveries"].([]any)
			if len(dl) != 1 || dl[0].(map[string]any)["state"] != "dead" || dl[0].(map[string]any)["reason"] != "clientError" || dl[0].(map[string]any)["attempts"] != 3.0 {
				t.Errorf("deliveries %v", dl)
			}
		}},
		{"no deliveries", "/api/v1/alerts/1", &fakeAlerts{entry: entry}, 200, func(t *testing.T, out map[string]any) {
			if dl, ok := out["data"].(map[string]any)["deliveries"].([]any); !ok || len(dl) != 0 {
				t.Errorf("deliveries %v, want []", out["data"])
			}
		}},
		{"unknown", "/api/v1/alerts/5", &fakeAlerts{getErr: store.ErrNoAlert}, 404, func(t *testing.T, out map[string]any) {
			if out["error"] != "no alert with that id" {
				t.Errorf("answer %v", out)
			}
		}},
		{"not a number", "/api/v1/alerts/HighCPU", &fakeAlerts{}, 400, func(t *testing.T, out map[string]any) {
			if !strings.Contains(out["error"].(string), "id must be an alert id") {
				t.Errorf("answer %v", out)
			}
		}},
		{"too big", "/api/v1/alerts/99999999999999999999", &fakeAlerts{}, 400, nil},
		{"store error", "/api/v1/alerts/5", &fakeAlerts{getErr: errors.New("disk on fire")}, 503, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out := serve(t, tc.b, "GET", tc.path, "")
			if code != tc.code {
				t.Fatalf("%d %v, want %d", code, out, tc.code)
			}
			if tc.check != nil {
				tc.check(t, out)
			}
		})
	}
	b := &fakeAlerts{entry: entry}
	if serve(t, b, "GET", "/api/v1/alerts/42", ""); b.gotID != 42 {
		t.Errorf("asked for id %d, want 42", b.gotID)
	}
	if code, _ := serve(t, b, "POST", "/api/v1/alerts/42", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d, want 405", code)
	}
}

func TestAlertsRequireTheBearerToken(t *testing.T) {
	b := &fakeAlerts{token: "tok", entry: &store.AlertEntry{}}
	for _, path := range []string{"/api/v1/alerts", "/api/v1/alerts/1"} {
		if code, _ := serve(t, b, "GET", path, ""); code != http.StatusUnauthorized {
			t.Errorf("%s without a token: %d, want 401", path, code)
		}
		if code, _ := serve(t, b, "GET", path, "Bearer tok"); code != http.StatusOK {
			t.Errorf("%s with the token: %d, want 200", path, code)
		}
	}
}
