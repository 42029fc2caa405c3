package tgmarkdown_test

import (
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify/telegram/tgmarkdown"
)

// The vectors are the Bot API's own examples of each mode ("Formatting
// options") and the failures it documents or Telegram is known to answer.

func TestLegacy(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*bold text*", "bold text"},
		{"_italic text_", "italic text"},
		{"[inline URL](http://www.example.com/)", "inline URL"},
		{"[inline mention of a user](tg://user?id=123456789)", "inline mention of a user"},
		{"`inline fixed-width code`", "inline fixed-width code"},
		{"```\npre-formatted fixed-width code block\n```", "pre-formatted fixed-width code block\n"},
		{"```python\npre-formatted code block written in Python\n```", "pre-formatted code block written in Python\n"},
		// The docs' own escapes: snake_case in italic, 2*2=4 in bold.
		{`_snake_\__case_`, "snake_case"},
		{`*2*\**2=4*`, "2*2=4"},
		{`\_ \* \` + "`" + ` \[ \a \\`, "_ * ` [ \\a \\\\"},
		// Inside an entity nothing nests and nothing is escaped.
		{"*a_b `c` [d]*", "a_b `c` [d]"},
		{`_a\_`, `a\`},
		{"[text] no url", "text no url"},
		{"[](http://x.example) after", "(http://x.example) after"},
		{"web-1.example (99.5%) #tag !", "web-1.example (99.5%) #tag !"},
	}
	for _, tc := range tests {
		got, err := tgmarkdown.Legacy(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Legacy(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"*bold", "db_1", "a ` b", "[x", "[x](http://x.example", "```\ncode``", `*2\**`} {
		if got, err := tgmarkdown.Legacy(bad); err == nil {
			t.Errorf("Legacy(%q) = %q, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "byte offset") {
			t.Errorf("Legacy(%q): error %q names no byte offset", bad, err)
		}
	}
}

func TestV2(t *testing.T) {
	tests := []struct{ in, want string }{
		{"*bold \\*text*", "bold *text"},
		{"_italic \\*text_", "italic *text"},
		{"__underline__", "underline"},
		{"~strikethrough~", "strikethrough"},
		{"||spoiler||", "spoiler"},
		{"*bold _italic bold ~italic bold strikethrough ||italic bold strikethrough spoiler||~ __underline italic bold___ bold*",
			"bold italic bold italic bold strikethrough italic bold strikethrough spoiler underline italic bold bold"},
		{"[inline URL](http://www.example.com/)", "inline URL"},
		{"[inline mention of a user](tg://user?id=123456789)", "inline mention of a user"},
		{"![👍](tg://emoji?id=5368324170671202286)", "👍"},
		{"`inline fixed-width code`", "inline fixed-width code"},
		{"```\npre-formatted fixed-width code block\n```", "pre-formatted fixed-width code block\n"},
		{"```python\npre-formatted fixed-width code block written in the Python programming language\n```",
			"pre-formatted fixed-width code block written in the Python programming language\n"},
		{">Block quotation started\n>Block quotation continued", "Block quotation started\nBlock quotation continued"},
		{"**>The expandable block quotation started\n>It is hidden by default||", "The expandable block quotation started\nIt is hidden by default"},
		// Inside code and pre only ` is special; escapes work everywhere.
		{"`a.b-c!` ```\nx_y*z\n```", "a.b-c! x_y*z\n"},
		{"`a\\`b`", "a`b"},
		{`[a](http://x.example/\(1\))`, "a"},
		{`web\-1\.example \(99\.5%\) \#tag \! \\`, `web-1.example (99.5%) #tag ! \`},
	}
	for _, tc := range tests {
		got, err := tgmarkdown.V2(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("V2(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"web-1", "99.5%.", "a!", "#tag", "(x)", "a > b", "x]", "*bold", "_it", "||sp", "`code", "[x](http://x.example", "![e]", "a|b", "{x}"} {
		if got, err := tgmarkdown.V2(bad); err == nil {
			t.Errorf("V2(%q) = %q, want an error", bad, got)
		}
	}
}
