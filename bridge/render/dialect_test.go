package render

import (
	"encoding/json"
	"testing"
)

// TestMultiLineJSONStrings: a JSON string spread over lines (Coroot's
// style) renders valid JSON whose string keeps the line breaks, while
// line breaks between JSON tokens stay as they are.
func TestMultiLineJSONStrings(t *testing.T) {
	text := "{\n  \"text\": \"first {{ .X }}\n\tsecond\r\nthird\",\n  \"n\": 1\n}"
	s, err := New(Options{Inline: []Inline{{Name: "m", Text: text, JSON: true}}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Execute("m", map[string]string{"X": "a\"b\nc"})
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Text string
		N    int
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", out, err)
	}
	if want := "first a\"b\nc\n\tsecond\r\nthird"; v.Text != want || v.N != 1 {
		t.Errorf("decoded %q, %d; want %q, 1", v.Text, v.N, want)
	}
	if out[1] != '\n' {
		t.Errorf("the line break outside the string was changed: %q", out)
	}
}

// TestEscapeIsNotEscapedTwice: API7's escape is a JSON escaper, so the
// JSON pass adds nothing after it.
func TestEscapeIsNotEscapedTwice(t *testing.T) {
	s, err := New(Options{Inline: []Inline{{Name: "e", Text: `{"a": "{{ escape .X }}", "b": "{{ .X | escape }}", "c": "{{ .X }}"}`, JSON: true}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hostile {
		out, err := s.Execute("e", map[string]string{"X": h.value})
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]string
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("%s: invalid JSON %q: %v", h.name, out, err)
		}
		want := wantDecoded(h.value)
		if v["a"] != want || v["b"] != want || v["c"] != want {
			t.Errorf("%s: decoded %q, want %q in a, b and c", h.name, v, want)
		}
	}
}
