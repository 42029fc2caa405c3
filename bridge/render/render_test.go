package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// exampleGroup builds a Group from the shipped example payload.
func exampleGroup(t testing.TB) *alert.Group {
	t.Helper()
	f, err := os.Open("../../examples/payload-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m, err := alert.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	b := &alert.Builder{}
	g, err := b.Build(m, time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestPresetWebhookBody(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Has("webhook.default.body") {
		t.Fatal(`preset "webhook.default.body" is missing`)
	}
	if s.Has("no.such.template") {
		t.Error(`Has reports an undefined template`)
	}
	g := exampleGroup(t)
	out, err := s.Execute("webhook.default.body", g)
	if err != nil {
		t.Fatal(err)
	}
	var got []alert.Record
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("preset body is not a JSON array of records: %q: %v", out, err)
	}
	if !reflect.DeepEqual(got, g.Records) {
		t.Errorf("preset body records = %+v, want %+v", got, g.Records)
	}
	// The hostile annotation of the example must survive as-is: the preset
	// renders through json, which must not HTML-escape.
	if strings.Contains(string(out), `\u003c`) || strings.Contains(string(out), `\u0026`) {
		t.Errorf("preset body is HTML-escaped: %s", out)
	}
}

func TestExecuteUndefinedTemplate(t *testing.T) {
	s, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Execute("no.such.template", nil); err == nil {
		t.Error("Execute of an undefined template succeeded")
	}
}

func TestUserTemplates(t *testing.T) {
	const body = "webhook.default.body"
	cases := []struct {
		name  string
		files map[string]string // relative path -> content
		globs []string          // relative to the temp dir
		// inline is parsed after the files.
		inline []Inline
		// want is the rendered "webhook.default.body", or "" to expect the
		// preset.
		want string
	}{
		{
			name:  "user file overrides the preset",
			files: map[string]string{"a.tmpl": `{{ define "webhook.default.body" }}{"custom":true}{{ end }}`},
			globs: []string{"*.tmpl"},
			want:  `{"custom":true}`,
		},
		{
			name: "later file in one glob wins",
			files: map[string]string{
				"a.tmpl": `{{ define "webhook.default.body" }}A{{ end }}`,
				"b.tmpl": `{{ define "webhook.default.body" }}B{{ end }}`,
			},
			globs: []string{"*.tmpl"},
			want:  "B",
		},
		{
			name: "later glob wins",
			files: map[string]string{
				"one/x.tmpl": `{{ define "webhook.default.body" }}ONE{{ end }}`,
				"two/x.tmpl": `{{ define "webhook.default.body" }}TWO{{ end }}`,
			},
			globs: []string{"two/*.tmpl", "one/*.tmpl"},
			want:  "ONE",
		},
		{
			name:   "inline overrides user files",
			files:  map[string]string{"a.tmpl": `{{ define "webhook.default.body" }}FILE{{ end }}`},
			globs:  []string{"*.tmpl"},
			inline: []Inline{{Name: body, Text: "INLINE"}},
			want:   "INLINE",
		},
		{
			name:  "glob matching nothing keeps the preset",
			globs: []string{"missing/*.tmpl", "nothing-*.tmpl"},
		},
		{
			name:  "file defining other templates keeps the preset",
			files: map[string]string{"a.tmpl": `{{ define "mine" }}x{{ end }}`},
			globs: []string{"*.tmpl"},
		},
	}
	data := exampleGroup(t)
	preset, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	presetOut, err := preset.ExecuteString(body, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, text := range c.files {
				writeFile(t, dir, name, text)
			}
			var globs []string
			for _, g := range c.globs {
				globs = append(globs, filepath.Join(dir, g))
			}
			s, err := New(Options{Globs: globs, Inline: c.inline})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := s.ExecuteString(body, data)
			if err != nil {
				t.Fatal(err)
			}
			want := c.want
			if want == "" {
				want = presetOut
			}
			if got != want {
				t.Errorf("%s = %q, want %q", body, got, want)
			}
		})
	}
}

func TestUserTemplateErrors(t *testing.T) {
	cases := []struct {
		name string
		text string
		line int
	}{
		{"bad action", "{{ define \"a\" }}\nok\n{{ .X } }}\n{{ end }}", 3},
		{"unknown function", "\n\n\n{{ define \"a\" }}{{ nosuchfunc .X }}{{ end }}", 4},
		{"missing end", "{{ define \"a\" }}\n{{ if .X }}", 2},
		{"unexpected end", "line1\n{{ end }}", 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			good := writeFile(t, dir, "a-good.tmpl", `{{ define "good" }}fine{{ end }}`)
			bad := writeFile(t, dir, "b-bad.tmpl", c.text)
			_, err := New(Options{Globs: []string{filepath.Join(dir, "*.tmpl")}})
			if err == nil {
				t.Fatal("New succeeded on a broken template file")
			}
			msg := err.Error()
			if !strings.Contains(msg, bad) {
				t.Errorf("error %q does not name the file %s", msg, bad)
			}
			if strings.Contains(msg, good) {
				t.Errorf("error %q blames the good file", msg)
			}
			if !strings.Contains(msg, fmt.Sprintf("%s:%d", bad, c.line)) {
				t.Errorf("error %q does not give line %d", msg, c.line)
			}
		})
	}
}

func TestBadGlob(t *testing.T) {
	_, err := New(Options{Globs: []string{"[unclosed"}})
	if err == nil {
		t.Fatal("New accepted a malformed glob")
	}
	if !errors.Is(err, filepath.ErrBadPattern) || !strings.Contains(err.Error(), "[unclosed") {
		t.Errorf("error %q: want ErrBadPattern naming the glob", err)
	}
}

func TestInlineErrorNamesTemplate(t *testing.T) {
	_, err := New(Options{Inline: []Inline{
		{Name: "target.ok.body", Text: "fine"},
		{Name: "target.broken.body", Text: "line1\n{{ .X"},
	}})
	if err == nil {
		t.Fatal("New accepted a broken inline template")
	}
	if !strings.Contains(err.Error(), "target.broken.body:2") {
		t.Errorf("error %q does not name the inline template and line", err)
	}
}

// TestConcurrentExecute runs one Set from several goroutines; run with
// -race.
func TestConcurrentExecute(t *testing.T) {
	s, err := New(Options{
		Location: time.FixedZone("X", 3600),
		Inline: []Inline{
			{Name: "body", JSON: true, Text: `{"v": "{{ .X }}", "t": "{{ timeFormat "15:04" .T }}", "l": {{ json .L }}}`},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	const workers, iterations = 8, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range iterations {
				h := hostile[(w+i)%len(hostile)].value
				x := fmt.Sprintf("%d/%d %s", w, i, h)
				data := map[string]any{
					"X": x,
					"T": time.Date(2026, 1, 1, w, i%60, 0, 0, time.UTC),
					"L": []string{h, x},
				}
				out, err := s.Execute("body", data)
				if err != nil {
					errs <- err
					return
				}
				var doc struct {
					V string
					T string
					L []string
				}
				if err := json.Unmarshal(out, &doc); err != nil {
					errs <- fmt.Errorf("%q: %w", out, err)
					return
				}
				wantT := fmt.Sprintf("%02d:%02d", w+1, i%60)
				if doc.V != wantDecoded(x) || doc.T != wantT || len(doc.L) != 2 || doc.L[1] != wantDecoded(x) {
					errs <- fmt.Errorf("worker %d iteration %d: got %+v from %q", w, i, doc, out)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestIncludeEscapesInsideJSONStringsAndStopsRecursion(t *testing.T) {
	set, err := New(Options{Inline: []Inline{
		{Name: "text", Text: `{{ define "line" }}say "{{ . }}"{{ end }}`},
		{Name: "body", Text: `{"text": "{{ include "line" .Labels.x }}"}`, JSON: true},
		{Name: "loop", Text: `{{ define "self" }}{{ include "self" . }}{{ end }}{{ include "self" . }}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	out, err := set.Execute("body", map[string]any{"Labels": map[string]string{"x": "a\\b\n"}})
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Text string }
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("body %s is not JSON: %v", out, err)
	}
	if got.Text != "say \"a\\b\n\"" {
		t.Errorf("text = %q", got.Text)
	}
	if _, err := set.Execute("loop", nil); err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("self-including template: err = %v, want the depth error", err)
	}
}
