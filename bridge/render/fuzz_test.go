package render

import (
	"encoding/json"
	"testing"
)

// FuzzJSONEscape prints any value inside JSON strings of a template body,
// and inside the text of a Telegram body in each parse mode: the body must
// always be valid JSON, and a value printed as it is must come back
// unchanged when the JSON is decoded.
func FuzzJSONEscape(f *testing.F) {
	for _, s := range []string{
		"", "plain", `He said "hi" \o/`, "line\nbreak\r\ttab\x00nul\x1f\x7f", "\u2028\u2029", "{{ .Status }}",
		"</script>&<b>", "*_`[]()~>#+-=|{}.!", "告警 🔥", "\xff\xfe invalid UTF-8", `\u0000 \"`, "\\",
	} {
		f.Add(s)
	}
	set, err := New(Options{Inline: []Inline{
		{Name: "plain", JSON: true, Text: `{"a": "{{ .v }}", "b": "x{{ .v }}y", "c": {{ json .v }}, "d": "{{ .v | jsonString }}"}`},
		{Name: "html", JSON: true, Markup: telegramRule, Text: `{"parse_mode": "HTML", "text": "<b>{{ .v }}</b> {{ .v }}"}`},
		{Name: "v2", JSON: true, Markup: telegramRule, Text: `{"parse_mode": "MarkdownV2", "text": "*{{ .v }}* [l]({{ .v }})"}`},
		{Name: "v1", JSON: true, Markup: telegramRule, Text: "{\"parse_mode\": \"Markdown\", \"text\": \"*{{ .v }}* _{{ .v }}_ `{{ .v }}` [{{ .v }}]({{ .v }}) {{ .v }}\"}"},
	}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, name := range []string{"plain", "html", "v2", "v1"} {
			out, err := set.Execute(name, map[string]string{"v": v})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if !json.Valid(out) {
				t.Fatalf("%s: invalid JSON for %q: %s", name, v, out)
			}
			if name != "plain" {
				continue
			}
			var m map[string]string
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			want := string([]rune(v)) // each invalid byte becomes U+FFFD, as encoding/json writes it
			if m["a"] != want || m["b"] != "x"+want+"y" || m["c"] != want || m["d"] != want {
				t.Fatalf("value %q came back as %q", v, m)
			}
		}
	})
}
