package notifytest

import "strings"

// UnescapeMarkdown resolves backslash escapes of ASCII punctuation, as
// Markdown renderers do, to show what a reader sees.
func UnescapeMarkdown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
