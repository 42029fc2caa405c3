package render

import (
	"encoding/json"
	"strings"
	"testing"
)

// telegramRule is Telegram's rule, written out here so the render package
// is tested on its own.
var telegramRule = &MarkupRule{
	TextKey: "text",
	ModeKey: "parse_mode",
	Modes:   map[string]Markup{"HTML": MarkupHTML, "MarkdownV2": MarkupTelegramMarkdownV2, "Markdown": MarkupTelegramMarkdown},
}

// renderText renders an inline JSON body with the Telegram rule and
// returns its "text".
func renderText(t *testing.T, body string, data any) (string, error) {
	t.Helper()
	set, err := New(Options{Inline: []Inline{{Name: "body", Text: body, JSON: true, Markup: telegramRule}}})
	if err != nil {
		return "", err
	}
	out, err := set.Execute("body", data)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var m struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("invalid JSON %s: %v", out, err)
	}
	return m.Text, nil
}

func TestMarkupEscapesValuesForTheDeclaredMode(t *testing.T) {
	v := map[string]string{
		"x":    `a_b*c` + "`d[e]f(g)h.i-j!k\\l<m>&n\"o",
		"url":  "http://x.example/a_(b)?q=1&r=2",
		"tick": "a`b",
		"bs":   `ends\`,
	}
	tests := []struct {
		name, body, want string
	}{
		{"HTML", `{"text": "<b>{{ .x }}</b>", "parse_mode": "HTML"}`,
			"<b>a_b*c`d[e]f(g)h.i-j!k\\l&lt;m&gt;&amp;n&#34;o</b>"},
		{"HTML mode matched ignoring case, after the text", `{"text": "{{ .x }}", "parse_mode": "html"}`,
			"a_b*c`d[e]f(g)h.i-j!k\\l&lt;m&gt;&amp;n&#34;o"},
		{"HTML: a pipeline ending in html is escaped once", `{"parse_mode": "HTML", "text": "{{ .x | html }}|{{ .x | safeHtml }}"}`,
			"a_b*c`d[e]f(g)h.i-j!k\\l&lt;m&gt;&amp;n&#34;o|a_b*c`d[e]f(g)h.i-j!k\\l<m>&n\"o"},
		{"MarkdownV2", `{"parse_mode": "MarkdownV2", "text": "*{{ .x }}* [link]({{ .url }})"}`,
			"*a\\_b\\*c\\`d\\[e\\]f\\(g\\)h\\.i\\-j\\!k\\\\l<m\\>&n\"o* [link](http://x\\.example/a\\_\\(b\\)?q\\=1&r\\=2)"},
		{"MarkdownV2: a pipeline ending in telegramMarkdownV2 is escaped once", `{"parse_mode": "MarkdownV2", "text": "{{ .url | telegramMarkdownV2 }}"}`,
			"http://x\\.example/a\\_\\(b\\)?q\\=1&r\\=2"},
		{"Markdown outside entities", `{"parse_mode": "Markdown", "text": "{{ .x }} {{ .bs }}"}`,
			"a\\_b\\*c\\`d\\[e]f(g)h.i-j!k\\l<m>&n\"o ends\\\u2060"},
		{"Markdown in bold and italic", `{"parse_mode": "Markdown", "text": "*{{ .x }}* _{{ .x }}_"}`,
			"*a_b*\\**c`d[e]f(g)h.i-j!k\\l<m>&n\"o* _a_\\__b*c`d[e]f(g)h.i-j!k\\l<m>&n\"o_"},
		{"Markdown in code and pre", "{\"parse_mode\": \"Markdown\", \"text\": \"`{{ .tick }}` ```\\n{{ .tick }}```\"}",
			"`a`\\``b` ```\na`\u2060b```"},
		{"Markdown link text and URL", `{"parse_mode": "Markdown", "text": "[{{ .x }}]({{ .url }})"}`,
			"[a_b*c`d[e］f(g)h.i-j!k\\l<m>&n\"o](http://x.example/a_(b%29?q=1&r=2)"},
		{"Markdown: an escape in the literal text is read", `{"parse_mode": "Markdown", "text": "\\*{{ .x }}"}`,
			"\\*a\\_b\\*c\\`d\\[e]f(g)h.i-j!k\\l<m>&n\"o"},
		{"Markdown: a \\u escape in the literal text is read", `{"parse_mode": "Markdown", "text": "\u005f{{ .tick }}_"}`,
			"_a`b_"},
		{"Markdown in a range", `{"parse_mode": "Markdown", "text": "{{ range .list }}*{{ . }}* {{ end }}"}`,
			"*a*\\**b* *c* "},
		{"no parse_mode: plain text", `{"text": "<b>{{ .x }}</b>"}`,
			"<b>a_b*c`d[e]f(g)h.i-j!k\\l<m>&n\"o</b>"},
		{"only the top-level text is escaped", `{"parse_mode": "HTML", "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "{{ .x }}", "url": "{{ .url }}"}]]}}`,
			"t"},
	}
	data := map[string]any{"x": v["x"], "url": v["url"], "tick": v["tick"], "bs": v["bs"], "list": []string{"a*b", "c"}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := renderText(t, tc.body, data)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("text\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestMarkupLeavesOtherFieldsAlone(t *testing.T) {
	set, err := New(Options{Inline: []Inline{{Name: "body", JSON: true, Markup: telegramRule,
		Text: `{"chat_id": "{{ .id }}", "parse_mode": "MarkdownV2", "text": "{{ .id }}", "k": {"text": "{{ .id }}"}}`}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := set.Execute("body", map[string]string{"id": "-100.5"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"chat_id": "-100.5", "parse_mode": "MarkdownV2", "text": "\\-100\\.5", "k": {"text": "-100.5"}}`; string(out) != want {
		t.Errorf("got  %s\nwant %s", out, want)
	}
}

func TestMarkupRefusesWhatItCannotEscape(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"computed mode", `{"text": "x", "parse_mode": "{{ .mode }}"}`, "must be written out"},
		{"two modes", `{"text": "x", {{ if .a }}"parse_mode": "HTML"{{ else }}"parse_mode": "Markdown"{{ end }}}`, "in one place"},
		{"unknown mode", `{"text": "x", "parse_mode": "Markdown3"}`, `"Markdown3" is none of`},
		{"entity opened in one branch", `{"parse_mode": "Markdown", "text": "{{ if .a }}*{{ end }}{{ .x }}*"}`, "one branch only"},
		{"entity opened in a loop", `{"parse_mode": "Markdown", "text": "{{ range .l }}_{{ end }}"}`, "in its body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Options{Inline: []Inline{{Name: "target/x/body", Text: tc.body, JSON: true, Markup: telegramRule}}})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "target/x/body") {
				t.Errorf("error %v, want one naming the template and saying %q", err, tc.want)
			}
		})
	}
}

func TestTelegramMarkdownEscapers(t *testing.T) {
	tests := []struct{ fn, in, want string }{
		{"v2", "web-1.example (99.5%) #1 !x {a|b} ~_*[]`>+=\\", `web\-1\.example \(99\.5%\) \#1 \!x \{a\|b\} \~\_\*\[\]\` + "`" + `\>\+\=\\`},
		{"v2", "告警 🔥", "告警 🔥"},
		{"v1", "*db_1* `x` [y](z)", "\\*db\\_1\\* \\`x\\` \\[y](z)"},
		{"v1", `C:\data\`, "C:\\data\\\u2060"},
	}
	for _, tc := range tests {
		f := TelegramMarkdown
		if tc.fn == "v2" {
			f = TelegramMarkdownV2
		}
		if got := f(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.fn, tc.in, got, tc.want)
		}
	}
}
