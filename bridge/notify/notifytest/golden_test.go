package notifytest

import (
	"strings"
	"testing"
)

func TestFirstDiffIsReadable(t *testing.T) {
	long := strings.Repeat(`{"id":1,"target":"x"},`, 50)
	want := []byte("a\nb\n" + long + "\nz")
	got := []byte("a\nb\n" + strings.Replace(long, `"id":1,"target":"x"},{"id":1`, `"id":1,"target":"x"},{"id":2`, 1) + "\nz")
	d := firstDiff(want, got)
	for _, s := range []string{"line 3", `"id":2`, `"id":1`, "column 29", "…"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff does not mention %q:\n%s", s, d)
		}
	}
	if len(d) > 1000 {
		t.Errorf("diff of a long line is not clipped (%d bytes):\n%s", len(d), d)
	}
	d = firstDiff([]byte("a\nb"), []byte("a\nb\nc"))
	if !strings.Contains(d, "<end of file>") || !strings.Contains(d, "+    3   c") {
		t.Errorf("diff of an extra line:\n%s", d)
	}
}
