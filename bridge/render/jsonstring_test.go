package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// encodingJSONContent is the reference: what encoding/json writes between
// the quotes, without HTML escaping.
func encodingJSONContent(s string) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	q := strings.TrimSuffix(buf.String(), "\n")
	return q[1 : len(q)-1]
}

var jsonStringCases = []string{
	"", "plain ascii", `quote " and backslash \`, "line\nfeed\r\ttab\b\f",
	"\x00\x01\x1f\x7f", "<html> & 'apos'", "告警 🔥 磁盘", "\u2028 and \u2029",
	"bad utf8 \xff\xfe end", "\xc3", "trailing \\", strings.Repeat(`{{ .X }} "q" `, 50),
}

func TestJSONStringContentMatchesEncodingJSON(t *testing.T) {
	for _, s := range jsonStringCases {
		if got, want := JSONStringContent(s), encodingJSONContent(s); got != want {
			t.Errorf("JSONStringContent(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestJSONStringContentDoesNotAllocateForSafeText(t *testing.T) {
	s := strings.Repeat("safe text 告警 ", 20)
	if n := testing.AllocsPerRun(100, func() { _ = JSONStringContent(s) }); n != 0 {
		t.Errorf("%v allocations for text that needs no escaping", n)
	}
}

func FuzzJSONStringContent(f *testing.F) {
	for _, s := range jsonStringCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := JSONStringContent(s), encodingJSONContent(s); got != want {
			t.Fatalf("JSONStringContent(%q) = %q, want %q", s, got, want)
		}
	})
}
