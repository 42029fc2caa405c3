package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func fixedClock() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }

func TestPrintsJSONBodyAndAnswersOK(t *testing.T) {
	var out bytes.Buffer
	srv := httptest.NewServer(&sink{out: &out, status: http.StatusOK, now: fixedClock})
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL+"/alerts?x=1",
		strings.NewReader(`[{"content":"CPU \"high\"","priority":0}]`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Alert-Group", "HighCPU")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Errorf("status = %d, want 200", resp.StatusCode)
	}
	if strings.TrimSpace(string(answer)) != `{"ok":true}` {
		t.Errorf("answer = %q, want {\"ok\":true}", answer)
	}
	got := out.String()
	for _, want := range []string{
		"2026-11-23T10:00:00.000Z POST /alerts?x=1 -> 200",
		`Content-Type="application/json"`,
		`X-Alert-Group="HighCPU"`,
		"\n    {\n",                        // pretty-printed, indented
		`      "content": "CPU \"high\"",`, // key and escaped value intact
		`      "priority": 0`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q; got:\n%s", want, got)
		}
	}
}

func TestStatusFlagAndRawBody(t *testing.T) {
	var out bytes.Buffer
	s := &sink{out: &out, status: http.StatusServiceUnavailable, now: fixedClock}

	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/x", strings.NewReader("not json\nsecond line")))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", rec.Code)
	}
	if !strings.Contains(rec.Body.String(), `"ok":false`) {
		t.Errorf("answer = %q, want ok false", rec.Body.String())
	}
	if want := "  not json\n  second line\n"; !strings.Contains(out.String(), want) {
		t.Errorf("output lacks the raw body %q; got:\n%s", want, out.String())
	}

	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/x", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET status = %d, want 405", rec.Code)
	}
}

func TestRawBodyIsCapped(t *testing.T) {
	body := strings.Repeat("a", maxRaw+10)
	got := formatBody([]byte(body))
	if !strings.Contains(got, "(10 more bytes not shown)") {
		t.Errorf("no truncation note in %q", got[len(got)-60:])
	}
	if len(got) > maxRaw+100 {
		t.Errorf("printed %d bytes, want about %d", len(got), maxRaw)
	}
}

func TestDelayWaitsBeforeAnswering(t *testing.T) {
	s := &sink{out: io.Discard, status: http.StatusOK, delay: 50 * time.Millisecond}
	start := time.Now()
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}")))
	if d := time.Since(start); d < 50*time.Millisecond {
		t.Errorf("answered after %s, want at least 50ms", d)
	}
	if rec.Code != http.StatusOK {
		t.Errorf("status = %d, want 200", rec.Code)
	}
}
