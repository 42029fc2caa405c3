package notifytest

import (
	"slices"
	"testing"
)

func TestMessageLog(t *testing.T) {
	var l MessageLog[string]
	a, b, c := "a", "b", "c"
	if n := l.Next(); n != 0 {
		t.Fatalf("Next on an empty log: %d", n)
	}
	for i, m := range []*string{&a, &b, &c} {
		if n := l.Add(m); n != i {
			t.Fatalf("Add %d numbered %d", i, n)
		}
	}
	l.Delete(1)
	l.Delete(7)
	l.Delete(-1)
	if got := l.Live(); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("Live = %q", got)
	}
	if l.Get(1) != nil || l.Get(3) != nil || l.Get(-1) != nil || l.Get(2) != &c {
		t.Error("Get: deleted, unknown or live message wrong")
	}
	if n := l.Next(); n != 3 {
		t.Errorf("Next after a delete: %d, want 3 (numbers are not reused)", n)
	}
}
