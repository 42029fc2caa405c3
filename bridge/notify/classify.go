package notify

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// ClassifyHTTP applies the status-code rules that hold for every platform:
// 2xx delivered; 429 retry after Retry-After; 5xx retry; 401 and 403
// permanent auth errors; 413 permanent too large; any other code permanent.
// Integrations whose platforms report errors in a 200 body check the body
// first and fall back to this.
func ClassifyHTTP(resp *Response, now time.Time) Result {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return OK()
	case code == http.StatusTooManyRequests:
		return Retryable(ReasonRateLimited, RetryAfter(resp.Header, now), "HTTP 429: %s", Snippet(resp.Body))
	case code >= 500:
		return Retryable(ReasonServerError, RetryAfter(resp.Header, now), "HTTP %d: %s", code, Snippet(resp.Body))
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Failed(ReasonAuthError, "HTTP %d: %s", code, Snippet(resp.Body))
	case code == http.StatusRequestEntityTooLarge:
		return Failed(ReasonTooLarge, "HTTP 413: %s", Snippet(resp.Body))
	default:
		return Failed(ReasonClientError, "HTTP %d: %s", code, Snippet(resp.Body))
	}
}

// RetryAfter parses a Retry-After header given as delay-seconds or an
// HTTP-date. It returns zero when the header is absent or unparsable.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		// NaN and ±Inf parse as floats but are not delay-seconds; huge
		// values would overflow time.Duration.
		if math.IsNaN(secs) || math.IsInf(secs, 0) || secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, maxRetryAfterSeconds) * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// maxRetryAfterSeconds bounds a parsed Retry-After (one day).
const maxRetryAfterSeconds = 86400

// snippetLimit bounds how much of a response body goes into a log line.
const snippetLimit = 256

// Snippet returns a response body shortened for logs, cut on a rune
// boundary, with control characters folded to spaces.
func Snippet(body []byte) string {
	s := string(body)
	if len(s) > snippetLimit {
		cut := snippetLimit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s))
}
