package render

import (
	"regexp"
	"strings"
	"testing"
)

func TestCachedRegexpFunctionsMatchAlertmanagers(t *testing.T) {
	var c regexps
	for _, tc := range []struct{ pattern, s, repl string }{
		{`^https?://[^\s()<>]+$`, "http://prom:9090/graph?g0.expr=up", "x"},
		{`^https?://[^\s()<>]+$`, "javascript:alert(1)", "x"},
		{`(\w+)-(\d+)`, "web-1 db-22", "$2:$1"},
		{``, "abc", "-"},
		{`<`, "a<b<<c 告警", "<\u200b"},
		{`<`, "a<b", "$0x"},
		{`\.`, "1.2.3", ""},
		{`(?i)ab`, "AB ab aB", "x"},
		{`aa`, "aaaaa", "b"},
		{`告警`, "告警告警 x", "!"},
		{`\r?\n`, "no line break", "<br>"},
		{`\r?\n`, "a\r\nb\nc", "<br>"},
		{`x[0-9]+y`, "x12y x y", "-"},
		{`(?i)X`, "x", "-"},
		{`[^a]`, "aaa", "-"},
	} {
		for range 2 { // compiled, then cached
			got, err := c.match(tc.pattern, tc.s)
			want, werr := regexp.MatchString(tc.pattern, tc.s)
			if got != want || (err == nil) != (werr == nil) {
				t.Errorf("match(%q, %q) = %v, %v; want %v, %v", tc.pattern, tc.s, got, err, want, werr)
			}
			if got, want := c.reReplaceAll(tc.pattern, tc.repl, tc.s), regexp.MustCompile(tc.pattern).ReplaceAllString(tc.s, tc.repl); got != want {
				t.Errorf("reReplaceAll(%q) = %q, want %q", tc.pattern, got, want)
			}
		}
	}
	if _, err := c.match(`(`, "x"); err == nil {
		t.Error("an invalid pattern matched without an error")
	}
}

func FuzzReReplaceAllMatchesAlertmanagers(f *testing.F) {
	f.Add(`<`, "<\u200b", "a<b<<c")
	f.Add(`\s+`, " ", "a \n\t b")
	f.Add(`aa`, "$1", "aaaaa")
	f.Add(`\r?\n`, "<br>", "no line break 告警")
	f.Add(`(a|b)c+[xyz]{2}`, "-", "acccxy bcz")
	var c regexps
	f.Fuzz(func(t *testing.T, pattern, repl, text string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		if got, want := c.reReplaceAll(pattern, repl, text), re.ReplaceAllString(text, repl); got != want {
			t.Fatalf("reReplaceAll(%q, %q, %q) = %q, want %q", pattern, repl, text, got, want)
		}
		if got, _ := c.match(pattern, text); got != re.MatchString(text) {
			t.Fatalf("match(%q, %q) = %v", pattern, text, got)
		}
	})
}

func TestCachedRegexpsAreBounded(t *testing.T) {
	var c regexps
	for i := range maxCachedRegexps + 50 {
		if _, err := c.match(strings.Repeat("a", i+1), "a"); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.m) != maxCachedRegexps {
		t.Errorf("%d patterns cached, want at most %d", len(c.m), maxCachedRegexps)
	}
}

func TestTemplatesUseTheCachedMatch(t *testing.T) {
	set, err := New(Options{Inline: []Inline{
		{Name: "ok", Text: `{{ match "^a+$" .x }} {{ reReplaceAll "(a)" "[$1]" .x }}`},
		{Name: "bad", Text: `{{ match "(" .x }}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []string{"aa", "ab", "aa"} {
		out, err := set.ExecuteString("ok", map[string]string{"x": x})
		want := map[string]string{"aa": "true [a][a]", "ab": "false [a]b"}[x]
		if err != nil || out != want {
			t.Errorf("x=%s: %q, %v; want %q", x, out, err, want)
		}
	}
	if _, err := set.ExecuteString("bad", map[string]string{"x": "a"}); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Errorf("an invalid pattern: %v", err)
	}
}
