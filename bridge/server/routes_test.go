package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/metrics"
)

// TestRoutePrefix: under a prefix every endpoint and added route moves,
// the root and the bare prefix redirect, and other paths are 404.
func TestRoutePrefix(t *testing.T) {
	page := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("page")) })
	h := New(&fakeAll{ready: true}, nil, 0, metrics.New(func() []metrics.LaneStats { return nil }), WithRoutePrefix("/ab/"),
		WithRoutes(Route{Path: "/page", Class: ClassRead, Handler: page, Methods: []string{http.MethodGet}}))
	for _, tc := range []struct {
		path     string
		code     int
		location string
	}{
		{"/ab/-/healthy", http.StatusOK, ""},
		{"/ab/page", http.StatusOK, ""},
		{"/ab/api/v1/targets", http.StatusOK, ""},
		{"/", http.StatusFound, "/ab/"},
		{"/ab", http.StatusFound, "/ab/"},
		{"/-/healthy", http.StatusNotFound, ""},
		{"/page", http.StatusNotFound, ""},
		{"/abc/page", http.StatusNotFound, ""},
		{"/ab/nothing", http.StatusNotFound, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, tc.path, nil))
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.location {
			t.Errorf("GET %s: %d %q, want %d %q", tc.path, rec.Code, rec.Header().Get("Location"), tc.code, tc.location)
		}
	}
}
