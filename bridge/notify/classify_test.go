package notify

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// fixedNow is the clock of every classification test.
var fixedNow = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)

func TestClassifyHTTP(t *testing.T) {
	httpDate := fixedNow.Add(90 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name       string
		code       int
		header     http.Header
		body       string
		verdict    Verdict
		reason     Reason
		retryAfter time.Duration
	}{
		{name: "200", code: 200, body: `{"ok":true}`, verdict: Delivered},
		{name: "201", code: 201, body: `created`, verdict: Delivered},
		{name: "204", code: 204, verdict: Delivered},
		{name: "429 seconds", code: 429, header: http.Header{"Retry-After": {"7"}}, body: "slow down",
			verdict: Retry, reason: ReasonRateLimited, retryAfter: 7 * time.Second},
		{name: "429 http-date", code: 429, header: http.Header{"Retry-After": {httpDate}}, body: "slow down",
			verdict: Retry, reason: ReasonRateLimited, retryAfter: 90 * time.Second},
		{name: "429 without Retry-After", code: 429, body: "slow down",
			verdict: Retry, reason: ReasonRateLimited},
		{name: "500", code: 500, body: "internal error", verdict: Retry, reason: ReasonServerError},
		{name: "502", code: 502, body: "bad gateway", verdict: Retry, reason: ReasonServerError},
		{name: "503", code: 503, body: "unavailable", verdict: Retry, reason: ReasonServerError},
		{name: "503 Retry-After", code: 503, header: http.Header{"Retry-After": {"120"}}, body: "maintenance",
			verdict: Retry, reason: ReasonServerError, retryAfter: 2 * time.Minute},
		{name: "401", code: 401, body: "invalid token", verdict: Permanent, reason: ReasonAuthError},
		{name: "403", code: 403, body: "forbidden channel", verdict: Permanent, reason: ReasonAuthError},
		{name: "413", code: 413, body: "payload too large", verdict: Permanent, reason: ReasonTooLarge},
		{name: "400", code: 400, body: `{"error":"bad field"}`, verdict: Permanent, reason: ReasonClientError},
		{name: "404", code: 404, body: "no such hook", verdict: Permanent, reason: ReasonClientError},
		{name: "410", code: 410, body: "hook deleted", verdict: Permanent, reason: ReasonClientError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.header
			if h == nil {
				h = http.Header{}
			}
			r := ClassifyHTTP(&Response{StatusCode: tc.code, Header: h, Body: []byte(tc.body)}, fixedNow)
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.retryAfter {
				t.Fatalf("ClassifyHTTP(%d) = {%v %q %v}, want {%v %q %v}",
					tc.code, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.retryAfter)
			}
			if tc.verdict == Delivered {
				if r.Message != "" {
					t.Errorf("delivered result has message %q, want none", r.Message)
				}
				return
			}
			if want := "HTTP " + strconv.Itoa(tc.code) + ": "; !strings.HasPrefix(r.Message, want) {
				t.Errorf("message %q does not start with %q", r.Message, want)
			}
			if !strings.Contains(r.Message, tc.body) {
				t.Errorf("message %q does not include the body snippet %q", r.Message, tc.body)
			}
		})
	}
}

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name  string
		value string // "" means no header at all
		want  time.Duration
	}{
		{"absent", "", 0},
		{"seconds", "30", 30 * time.Second},
		{"seconds with spaces", "  5 ", 5 * time.Second},
		{"fractional", "1.5", 1500 * time.Millisecond},
		{"zero", "0", 0},
		{"negative", "-10", 0},
		{"future date", fixedNow.Add(time.Hour).Format(http.TimeFormat), time.Hour},
		{"date now", fixedNow.Format(http.TimeFormat), 0},
		{"past date", fixedNow.Add(-time.Hour).Format(http.TimeFormat), 0},
		{"garbage", "soon", 0},
		{"garbage date", "Mon, 99 Foo 2026 25:61:61 GMT", 0},
		{"unit suffix", "10s", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.value != "" {
				h.Set("Retry-After", tc.value)
			}
			if got := RetryAfter(h, fixedNow); got != tc.want {
				t.Errorf("RetryAfter(%q) = %v, want %v", tc.value, got, tc.want)
			}
		})
	}
}

// TestRetryAfterNonFinite shows that values strconv.ParseFloat accepts but
// that are not delay-seconds (NaN, Inf) or that overflow time.Duration come
// back as a huge negative duration (on amd64) instead of zero; on arm64 the
// conversion saturates instead, so a hostile or buggy target could park a
// job for ~292 years.
func TestRetryAfterNonFinite(t *testing.T) {
	for _, v := range []string{"NaN", "Inf", "+Inf", "1e300", "99999999999"} {
		got := RetryAfter(http.Header{"Retry-After": {v}}, fixedNow)
		if got < 0 {
			t.Errorf("RetryAfter(%q) = %v, want >= 0", v, got)
		}
		if (v == "NaN" || strings.HasSuffix(v, "Inf")) && got != 0 {
			t.Errorf("RetryAfter(%q) = %v, want 0 (not delay-seconds)", v, got)
		}
	}
}

func TestSnippetShort(t *testing.T) {
	if got := Snippet([]byte("  hello\r\n")); got != "hello" {
		t.Errorf("Snippet trims: got %q", got)
	}
	if got := Snippet(nil); got != "" {
		t.Errorf("Snippet(nil) = %q", got)
	}
	if got, want := Snippet([]byte(strings.Repeat("a", snippetLimit))), strings.Repeat("a", snippetLimit); got != want {
		t.Errorf("body of exactly the limit must not be cut: got %d bytes", len(got))
	}
}

func TestSnippetCutsOnRuneBoundary(t *testing.T) {
	bodies := map[string]string{
		// 3-byte runes: the limit falls inside a rune.
		"cjk": strings.Repeat("告警", 200),
		// 4-byte runes shifted by one byte so the limit falls inside one.
		"emoji": "x" + strings.Repeat("🔥", 200),
		// Shifted by two and mixed.
		"mixed": "ab" + strings.Repeat("é告🔥", 100),
	}
	for name, body := range bodies {
		t.Run(name, func(t *testing.T) {
			got := Snippet([]byte(body))
			if !utf8.ValidString(got) {
				t.Fatalf("Snippet produced invalid UTF-8: %q", got)
			}
			if !strings.HasSuffix(got, "…") {
				t.Errorf("long body not marked with …: %q", got)
			}
			cut := strings.TrimSuffix(got, "…")
			if len(cut) > snippetLimit {
				t.Errorf("snippet keeps %d bytes of the body, limit %d", len(cut), snippetLimit)
			}
			if len(cut) < snippetLimit-utf8.UTFMax {
				t.Errorf("snippet keeps only %d bytes, expected close to %d", len(cut), snippetLimit)
			}
			if !strings.HasPrefix(body, cut) {
				t.Errorf("snippet is not a prefix of the body")
			}
		})
	}
}

func TestSnippetFoldsControlCharacters(t *testing.T) {
	body := "line1\nline2\r\n\x1b[31mred\x1b[0m\ttab\x7fdel\x07nul\x00end"
	got := Snippet([]byte(body))
	for i := 0; i < len(got); i++ {
		if c := got[i]; c < 0x20 || c == 0x7f {
			t.Fatalf("Snippet kept control byte %#x: %q", c, got)
		}
	}
	if want := "line1 line2   [31mred [0m tab del nul end"; got != want {
		t.Errorf("Snippet = %q, want %q", got, want)
	}
	// Long bodies are folded too, after the cut.
	long := strings.Repeat("a\n", snippetLimit)
	got = Snippet([]byte(long))
	if strings.ContainsAny(got, "\n\r") {
		t.Errorf("long snippet kept a newline: %q", got)
	}
}

// TestSnippetFoldsC1Controls: Unicode's C1 control characters (U+0080 to
// U+009F, including NEL U+0085 and CSI U+009B) are control characters too,
// and some log viewers and terminals act on them.
func TestSnippetFoldsC1Controls(t *testing.T) {
	got := Snippet([]byte("a\u0085b\u009b31mc"))
	if strings.ContainsAny(got, "\u0085\u009b") {
		t.Errorf("Snippet kept a C1 control character: %q", got)
	}
}
