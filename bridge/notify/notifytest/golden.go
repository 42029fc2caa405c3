package notifytest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/notify"
)

var update = flag.Bool("update", false, "rewrite golden files")

// Golden compares got with testdata/<name>.golden.json (in the test's
// package folder) byte for byte. With -update it rewrites the file instead.
func Golden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v\nto create it, run: go test ./bridge/notify/... -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s does not match the rendered body:\n%s\nif the change is intended, run: go test ./bridge/notify/... -update", path, firstDiff(want, got))
	}
}

// firstDiff describes the first difference between want and got: the line
// with two lines of context, and for long lines (one-line JSON) a window
// around the first differing byte.
func firstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d lines)\n", i+1, len(wl), len(gl))
	const ctx = 2
	for j := max(0, i-ctx); j < i; j++ {
		fmt.Fprintf(&b, "  %4d   %s\n", j+1, clip(wl[j], 0))
	}
	w, g := "<end of file>", "<end of file>"
	col := 0
	if i < len(wl) && i < len(gl) {
		for col < len(wl[i]) && col < len(gl[i]) && wl[i][col] == gl[i][col] {
			col++
		}
	}
	if i < len(wl) {
		w = clip(wl[i], col)
	}
	if i < len(gl) {
		g = clip(gl[i], col)
	}
	fmt.Fprintf(&b, "- %4d   %s\n+ %4d   %s\n", i+1, w, i+1, g)
	if i < len(wl) && i < len(gl) {
		fmt.Fprintf(&b, "         (first differing byte at column %d)\n", col+1)
	}
	for j := i + 1; j < min(len(gl), i+1+ctx); j++ {
		fmt.Fprintf(&b, "+ %4d   %s\n", j+1, clip(gl[j], 0))
	}
	return b.String()
}

// clip shows a line whole when short, else a window around col, with
// invisible characters escaped.
func clip(line string, col int) string {
	const width = 60
	from, to := 0, len(line)
	if len(line) > 2*width {
		from, to = max(0, col-width), min(len(line), col+width)
	}
	s := visible(line[from:to])
	if from > 0 {
		s = "…" + s
	}
	if to < len(line) {
		s += "…"
	}
	return s
}

// visible escapes what a terminal would not show (control characters,
// invalid UTF-8) and leaves the rest, JSON quotes included, readable.
func visible(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// GoldenBodies compares the bodies of a notification's requests, one per
// line, with testdata/<name>.golden.json.
func GoldenBodies(t testing.TB, name string, bodies [][]byte) {
	t.Helper()
	Golden(t, name, bytes.Join(bodies, []byte("\n")))
}

// GoldenRequests is GoldenBodies of the requests' bodies, in order.
func GoldenRequests(t testing.TB, name string, reqs []*notify.Request) {
	t.Helper()
	bodies := make([][]byte, 0, len(reqs))
	for _, r := range reqs {
		bodies = append(bodies, r.Body)
	}
	GoldenBodies(t, name, bodies)
}
