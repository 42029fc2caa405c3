package render

import (
	"slices"
	"testing"
)

func TestRequiredSets(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		want    []string
	}{
		{`\r?\n`, []string{"\n"}},
		{`^https?://\S+$`, []string{"h", ":"}}, // a literal's first character stands for it
		{`x[0-9]+y`, []string{"x", "0123456789", "y"}},
		{`(?i)x`, nil},
		{`a|b`, []string{"ab"}}, // simplified to [ab]
		{`ab|cd`, nil},
		{`\w+`, nil},
		{`a*`, nil},
		{`(`, nil},
	} {
		if got := requiredSets(tc.pattern); !slices.Equal(got, tc.want) {
			t.Errorf("requiredSets(%q) = %q, want %q", tc.pattern, got, tc.want)
		}
	}
}
