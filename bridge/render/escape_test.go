package render

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// hostile are label/annotation values chosen to break a naively rendered
// JSON body.
var hostile = []struct {
	name  string
	value string
}{
	{"quote", `say "hi"`},
	{"lone quote", `"`},
	{"backslash", `C:\data\new`},
	{"trailing backslash", `ends with \`},
	{"newline", "line1\nline2"},
	{"crlf", "line1\r\nline2"},
	{"tab", "a\tb"},
	{"template braces", "{{ .X }} and {{ not a template }}"},
	{"script", `</script><script>alert("x")</script>`},
	{"html specials", `<a href="x?a=1&b=2">`},
	{"cjk", "告警：CPU 过高"},
	{"emoji", "🔥 fire 🚒"},
	{"nul", "a\x00b"},
	{"control chars", "\x01\x02\x1b[31m\x1f\x7f"},
	{"line separators", "a\u2028b\u2029c"},
	{"invalid utf8", "a\xffb\xc0\xafc"},
	{"truncated utf8", "告"[:2]},
	{"json lookalike", `{"a": [1, "b"]}`},
}

// wantDecoded is what a JSON string carrying s decodes to: s itself, with
// each byte that is not valid UTF-8 replaced by U+FFFD (the conversion to
// []rune applies exactly that rule).
func wantDecoded(s string) string { return string([]rune(s)) }

// escData is the struct flavour of the template data.
type escData struct {
	X   string
	N   float64
	L   []string
	Obj map[string]string
}

func (d escData) asMap() map[string]any {
	return map[string]any{"X": d.X, "N": d.N, "L": d.L, "Obj": d.Obj}
}

func newJSONSet(t *testing.T, name, text string) *Set {
	t.Helper()
	s, err := New(Options{Inline: []Inline{{Name: name, Text: text, JSON: true}}})
	if err != nil {
		t.Fatalf("New(%q): %v", text, err)
	}
	return s
}

func TestJSONEscapeHostileValues(t *testing.T) {
	// Each case is an inline JSON template and a check of the decoded
	// document against the data it was rendered from.
	cases := []struct {
		name  string
		text  string
		check func(t *testing.T, doc map[string]any, d escData)
	}{
		{
			name: "action is the whole string",
			text: `{"v": "{{ .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "action between literal text",
			text: `{"v": "prefix {{ .X }} suffix"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", "prefix "+wantDecoded(d.X)+" suffix")
			},
		},
		{
			name: "two actions in one string",
			text: `{"v": "{{ .X }}|{{ .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X)+"|"+wantDecoded(d.X))
			},
		},
		{
			name: "escaped quote in literal keeps the action inside the string",
			text: `{"v": "a\"{{ .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", `a"`+wantDecoded(d.X))
			},
		},
		{
			name: "escaped backslash before the action",
			text: `{"v": "a\\{{ .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", `a\`+wantDecoded(d.X))
			},
		},
		{
			name: "action in an object key",
			text: `{"{{ .X }}": 1}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				if _, ok := doc[wantDecoded(d.X)]; !ok || len(doc) != 1 {
					t.Errorf("keys = %v, want only %q", keys(doc), wantDecoded(d.X))
				}
			},
		},
		{
			name: "number outside a string is left alone",
			text: `{"n": {{ .N }}, "v": "{{ .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				if doc["n"] != d.N {
					t.Errorf("n = %#v, want %v", doc["n"], d.N)
				}
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "already escaped with jsonString is not escaped twice",
			text: `{"v": "{{ .X | jsonString }}", "w": "{{ jsonString .X }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
				wantField(t, doc, "w", wantDecoded(d.X))
			},
		},
		{
			name: "pipeline ending in another function is escaped",
			text: `{"v": "{{ .X | printf "%q" }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", fmt.Sprintf("%q", d.X))
			},
		},
		{
			name: "declaration inside a string is untouched",
			text: `{"v": "{{ $x := .X }}{{ $x }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "declaration outside, use inside",
			text: `{{ $x := .X }}{"v": "{{ $x }}", "u": {{ $x = "plain" }}"{{ $x }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
				wantField(t, doc, "u", "plain")
			},
		},
		{
			name: "json outside a string builds a value",
			text: `{"v": {{ json .X }}}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "json outside a string builds a nested object",
			text: `{"o": {{ json .Obj }}}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				o, ok := doc["o"].(map[string]any)
				if !ok {
					t.Fatalf("o = %#v, want an object", doc["o"])
				}
				want := map[string]any{}
				for k, v := range d.Obj {
					want[wantDecoded(k)] = wantDecoded(v)
				}
				if !reflect.DeepEqual(o, want) {
					t.Errorf("o = %#v, want %#v", o, want)
				}
			},
		},
		{
			name: "range with balanced quotes",
			text: `{"l": [{{ range $i, $e := .L }}{{ if $i }},{{ end }}"{{ $e }}"{{ end }}]}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				var want []any
				for _, e := range d.L {
					want = append(want, wantDecoded(e))
				}
				if !reflect.DeepEqual(doc["l"], want) {
					t.Errorf("l = %#v, want %#v", doc["l"], want)
				}
			},
		},
		{
			name: "range with else",
			text: `{"l": [{{ range .L }}"{{ . }}",{{ else }}"none",{{ end }}"end"]}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				want := []any{}
				for _, e := range d.L {
					want = append(want, wantDecoded(e))
				}
				want = append(want, "end")
				if !reflect.DeepEqual(doc["l"], want) {
					t.Errorf("l = %#v, want %#v", doc["l"], want)
				}
			},
		},
		{
			name: "if/else each with balanced quotes",
			text: `{"v": {{ if .X }}"{{ .X }}"{{ else }}null{{ end }}}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "if/else inside a string",
			text: `{"v": "<{{ if .X }}{{ .X }}{{ else }}none{{ end }}>"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", "<"+wantDecoded(d.X)+">")
			},
		},
		{
			name: "with inside a string",
			text: `{"v": "{{ with .X }}{{ . }}{{ end }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "trim markers and comments",
			text: "{\n  \"v\": \"{{- /* c */ -}} {{- .X -}} \"\n}",
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.X))
			},
		},
		{
			name: "non-string value inside a string",
			text: `{"v": "{{ .L }}", "o": "{{ .Obj }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(fmt.Sprint(d.L)))
				wantField(t, doc, "o", wantDecoded(fmt.Sprint(d.Obj)))
			},
		},
		{
			name: "index into map inside a string",
			text: `{"v": "{{ index .Obj "k" }}"}`,
			check: func(t *testing.T, doc map[string]any, d escData) {
				wantField(t, doc, "v", wantDecoded(d.Obj["k"]))
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newJSONSet(t, "body", c.text)
			for _, h := range hostile {
				d := escData{
					X:   h.value,
					N:   -12.5,
					L:   []string{h.value, "second " + h.value},
					Obj: map[string]string{"k": h.value, h.value: "key is hostile"},
				}
				for _, data := range []struct {
					kind string
					v    any
				}{{"struct", d}, {"map", d.asMap()}} {
					t.Run(h.name+"/"+data.kind, func(t *testing.T) {
						out, err := s.Execute("body", data.v)
						if err != nil {
							t.Fatalf("Execute: %v", err)
						}
						if !json.Valid(out) {
							t.Fatalf("output is not valid JSON: %q", out)
						}
						var doc map[string]any
						if err := json.Unmarshal(out, &doc); err != nil {
							t.Fatalf("decode %q: %v", out, err)
						}
						c.check(t, doc, d)
					})
				}
			}
		})
	}
}

func wantField(t *testing.T, doc map[string]any, key, want string) {
	t.Helper()
	got, ok := doc[key].(string)
	if !ok || got != want {
		t.Errorf("%s = %#v, want %q", key, doc[key], want)
	}
}

func keys(m map[string]any) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

// TestJSONEscapePrintsLikeTextTemplate checks that the escaper only escapes:
// for values without JSON-special characters, a JSON template prints inside
// a string exactly what the same template prints without the pass.
func TestJSONEscapePrintsLikeTextTemplate(t *testing.T) {
	str := "pointee"
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		value any
	}{
		{name: "int", value: 42},
		{name: "negative float", value: -1.5},
		{name: "bool", value: true},
		{name: "string slice", value: []string{"a", "b"}},
		{name: "map", value: map[string]string{"a": "b"}},
		{name: "time (Stringer)", value: ts},
		{name: "error", value: fmt.Errorf("boom")},
		{
			name:  "pointer to string",
			value: &str,
		},
		{
			name:  "nil",
			value: nil,
		},
	}
	text := `{"v": "{{ .V }}"}`
	s, err := New(Options{Inline: []Inline{
		{Name: "escaped", Text: text, JSON: true},
		{Name: "plain", Text: text},
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			data := map[string]any{"V": c.value}
			plain, err := s.ExecuteString("plain", data)
			if err != nil {
				t.Fatal(err)
			}
			escaped, err := s.ExecuteString("escaped", data)
			if err != nil {
				t.Fatal(err)
			}
			if escaped != plain {
				t.Errorf("JSON template printed %q, text/template prints %q", escaped, plain)
			}
			if !json.Valid([]byte(escaped)) {
				t.Errorf("not valid JSON: %q", escaped)
			}
		})
	}
}

func TestJSONEscapeErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		want []string // substrings of the error
	}{
		{
			name: "if opens a string, no else",
			text: `{"v": {{ if .X }}"{{ end }}x"}`,
			want: []string{"branch", "if"},
		},
		{
			name: "if and else leave different states",
			text: `{"v": {{ if .X }}"a{{ else }}"b"{{ end }}}`,
			want: []string{"branch", "if"},
		},
		{
			name: "else closes a string the if branch does not",
			text: `{"v": "{{ if .X }}a{{ else }}b"{{ end }}}`,
			want: []string{"branch", "if"},
		},
		{
			name: "with opens a string",
			text: `{"v": {{ with .X }}"{{ . }}{{ end }}}`,
			want: []string{"branch", "with"},
		},
		{
			name: "range body opens a string",
			text: `[{{ range .L }}"{{ . }}{{ end }}]`,
			want: []string{"branch", "range"},
		},
		{
			name: "nested if inside range",
			text: `[{{ range .L }}{{ if . }}"{{ . }}{{ end }}"{{ end }}]`,
			want: []string{"branch", "if"},
		},
		{
			name: "range body and else both open a string",
			text: `[{{ range .L }}"{{ . }}{{ else }}"{{ end }}"]`,
			want: []string{"branch", "range"},
		},
		{
			name: "unterminated string",
			text: `{"v": "abc}`,
			want: []string{"unterminated"},
		},
		{
			name: "unterminated string after an action",
			text: `{"v": "{{ .X }}}`,
			want: []string{"unterminated"},
		},
		{
			name: "escaped quote does not close the string",
			text: `{"v": "a\"}`,
			want: []string{"unterminated"},
		},
		{
			name: "template syntax error",
			text: `{"v": "{{ .X }"}`,
			want: []string{"body"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(Options{Inline: []Inline{{Name: "body", Text: c.text, JSON: true}}})
			if err == nil {
				t.Fatalf("New(%q) succeeded, want an error", c.text)
			}
			for _, w := range append(c.want, "body") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

// TestJSONEscapeBreakBug demonstrates the {{break}} hole end to end.
func TestJSONEscapeBreakBug(t *testing.T) {
	text := `[{{ range $i, $v := .L }}{{ if $i }},{{ end }}"{{ $v }}{{ if eq $v "x" }}{{ break }}{{ end }}"{{ end }}]`
	s, err := New(Options{Inline: []Inline{{Name: "body", Text: text, JSON: true}}})
	if err != nil {
		return // rejecting the template is a fine fix
	}
	out, err := s.Execute("body", map[string]any{"L": []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if !json.Valid(out) {
		t.Errorf("New accepted the template but it renders invalid JSON: %q", out)
	}
}

// TestJSONEscapeDefineInInline: a {{define}} inside a JSON inline template
// is part of the same document and must be escaped (or rejected) too.
func TestJSONEscapeDefineInInline(t *testing.T) {
	text := `{{ define "sub" }}"{{ .X }}"{{ end }}{"a": {{ template "sub" . }}}`
	s, err := New(Options{Inline: []Inline{{Name: "body", Text: text, JSON: true}}})
	if err != nil {
		return // rejecting the template is a fine fix
	}
	for _, h := range hostile {
		out, err := s.Execute("body", map[string]any{"X": h.value})
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(out, &doc); err != nil {
			t.Errorf("%s: invalid JSON %q: %v", h.name, out, err)
			continue
		}
		wantField(t, doc, "a", wantDecoded(h.value))
	}
}

func TestNonJSONInlineIsNotEscaped(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			text := `{"v": "{{ .X }}"}`
			s, err := New(Options{Inline: []Inline{{Name: "plain", Text: text, JSON: false}}})
			if err != nil {
				t.Fatal(err)
			}
			out, err := s.ExecuteString("plain", map[string]any{"X": h.value})
			if err != nil {
				t.Fatal(err)
			}
			if want := `{"v": "` + h.value + `"}`; out != want {
				t.Errorf("got %q, want the value verbatim: %q", out, want)
			}
		})
	}
	// Unbalanced quotes are no error outside JSON mode.
	if _, err := New(Options{Inline: []Inline{{Name: "plain", Text: `say "{{ if .X }}hi{{ end }}`}}}); err != nil {
		t.Errorf("non-JSON template with an open quote: %v", err)
	}
}

// TestJSONEscapeOnlyMarkedTemplate: the pass rewrites the JSON template and
// nothing else in the Set.
func TestJSONEscapeOnlyMarkedTemplate(t *testing.T) {
	s, err := New(Options{Inline: []Inline{
		{Name: "json", Text: `{"v": "{{ .X }}"}`, JSON: true},
		{Name: "text", Text: `"{{ .X }}"`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	data := map[string]any{"X": `a"b\c`}
	text, err := s.ExecuteString("text", data)
	if err != nil {
		t.Fatal(err)
	}
	if want := `"a"b\c"`; text != want {
		t.Errorf("text template = %q, want %q", text, want)
	}
	out, err := s.Execute("json", data)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("%q: %v", out, err)
	}
	wantField(t, doc, "v", `a"b\c`)
}
