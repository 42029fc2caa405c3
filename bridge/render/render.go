// Package render loads templates (the embedded presets, then the user's
// files, which may override them) and executes them. One Set is built per
// configuration load and never changes afterwards, so executions are safe
// to run concurrently and a reload simply builds a new Set.
package render

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"github.com/alertbridge/alertbridge/templates"
)

// Set is a frozen collection of named templates. Presets named
// "*.body" render JSON documents and are escaped for JSON contexts like
// inline JSON bodies; so are presets named "*.body.alert", the per-alert
// fragments of those bodies (the JSON of one alert, printed by the body
// outside any string).
type Set struct {
	root *template.Template
	// including counts include calls in progress (see maxIncludeDepth).
	including atomic.Int64
}

// Options configure a Set.
type Options struct {
	// Globs are user template files, loaded after the presets in order.
	// Globs matching nothing are skipped, as in Alertmanager.
	Globs []string
	// Inline are extra templates (for example a target's body), parsed last.
	Inline []Inline
	// Location is the time zone of the time helpers; nil means UTC.
	Location *time.Location
}

// Inline is a named template given as text.
type Inline struct {
	Name string
	Text string
	// JSON marks a template whose output is a JSON document: actions inside
	// its string literals are escaped automatically.
	JSON bool
	// Markup, for a JSON template, also escapes the actions inside its
	// message text for the markup the body declares (see MarkupRule).
	Markup *MarkupRule
}

// New parses presets, user files and inline templates into one Set. Errors
// name the file (or inline template) and line. Presets whose name ends in
// ".body" or ".body.alert" are escaped for JSON (see Set).
func New(opts Options) (*Set, error) {
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	set := &Set{}
	root := template.New("").Option("missingkey=zero").Funcs(funcs(loc)).Funcs(template.FuncMap{"include": set.include})
	if err := parsePresets(root); err != nil {
		return nil, err
	}
	// Preset bodies are JSON documents, and their per-alert fragments
	// pieces of them: escape them like inline JSON bodies.
	for _, t := range root.Templates() {
		if strings.HasSuffix(t.Name(), ".body") || strings.HasSuffix(t.Name(), ".body.alert") {
			if err := escapeJSONStrings(t.Tree); err != nil {
				return nil, fmt.Errorf("preset %s: %w", t.Name(), err)
			}
		}
	}
	for _, g := range opts.Globs {
		files, err := filepath.Glob(g)
		if err != nil {
			return nil, fmt.Errorf("template glob %q: %w", g, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("template file: %w", err)
			}
			if _, err := root.New(f).Parse(string(b)); err != nil {
				return nil, err
			}
		}
	}
	for _, in := range opts.Inline {
		before := map[*template.Template]bool{}
		for _, t := range root.Templates() {
			before[t] = true
		}
		if _, err := root.New(in.Name).Parse(in.Text); err != nil {
			return nil, err
		}
		if !in.JSON {
			continue
		}
		// Escape the inline body and every template it {{define}}d.
		for _, t := range root.Templates() {
			if before[t] {
				continue
			}
			if t.Name() == in.Name {
				if err := escapeMarkup(t.Tree, in.Markup); err != nil {
					return nil, err
				}
			}
			if err := escapeJSONStrings(t.Tree); err != nil {
				return nil, err
			}
		}
	}
	set.root = root
	return set, nil
}

// presetSource is one folder of preset templates: its *.tmpl files are
// parsed under prefix + file name.
type presetSource struct {
	prefix string
	fsys   fs.FS
}

var (
	presetsMu sync.Mutex
	// presets are the target types' preset folders, by type name.
	presets = map[string]fs.FS{}
)

// AddPresets adds a target type's preset templates (the *.tmpl files at
// the root of fsys) to every Set built afterwards. The registry calls it
// when a type registers itself.
func AddPresets(typ string, fsys fs.FS) {
	presetsMu.Lock()
	defer presetsMu.Unlock()
	if _, dup := presets[typ]; dup {
		panic(fmt.Sprintf("render: presets of %s added twice", typ))
	}
	presets[typ] = fsys
}

// presetSources lists the shared presets (templates/) first, then each
// type's in the order of their names: the same order on every load.
func presetSources() []presetSource {
	presetsMu.Lock()
	defer presetsMu.Unlock()
	out := []presetSource{{prefix: "templates/", fsys: templates.FS}}
	for _, typ := range slices.Sorted(maps.Keys(presets)) {
		out = append(out, presetSource{prefix: "notify/" + typ + "/", fsys: presets[typ]})
	}
	return out
}

// EachPreset calls fn with the name and text of every preset file, the
// shared ones first, then each registered type's, in the order a Set
// loads them.
func EachPreset(fn func(name, text string) error) error {
	for _, src := range presetSources() {
		files, err := fs.Glob(src.fsys, "*.tmpl")
		if err != nil {
			return err
		}
		sort.Strings(files)
		for _, name := range files {
			b, err := fs.ReadFile(src.fsys, name)
			if err != nil {
				return err
			}
			if err := fn(src.prefix+name, string(b)); err != nil {
				return err
			}
		}
	}
	return nil
}

// parsePresets parses every preset file into root.
func parsePresets(root *template.Template) error {
	return EachPreset(func(name, text string) error {
		if _, err := root.New(name).Parse(text); err != nil {
			return fmt.Errorf("preset %s: %w", path.Base(name), err)
		}
		return nil
	})
}

// maxIncludeDepth bounds include calls in progress at once, so a template
// that includes itself fails with an error instead of exhausting the stack.
// Legitimate nesting is a handful of levels per render.
const maxIncludeDepth = 1000

// include runs the named template and returns its output as a string, so
// a template's output can be piped (and, inside a JSON string, escaped)
// like any value: "text": "{{ include "dingtalk.default.text" . }}".
func (s *Set) include(name string, data any) (string, error) {
	memo, _ := data.(IncludeMemo)
	if memo != nil {
		if out, ok := memo.Included(name); ok {
			return out, nil
		}
	}
	if s.including.Add(1) > maxIncludeDepth {
		s.including.Add(-1)
		return "", fmt.Errorf("include %q: nested more than %d deep (does a template include itself?)", name, maxIncludeDepth)
	}
	defer s.including.Add(-1)
	buf := getBuffer()
	defer putBuffer(buf)
	if err := s.root.ExecuteTemplate(buf, name, data); err != nil {
		return "", err
	}
	out := buf.String()
	if memo != nil {
		memo.Remember(name, out)
	}
	return out, nil
}

// IncludeMemo is data that remembers what include printed for it, for
// data that lives only while one output is rendered and whose includes
// therefore always print the same (the chat fragments' alerts, where the
// summary is included by the fragment and again by the description).
type IncludeMemo interface {
	Included(name string) (string, bool)
	Remember(name, out string)
}

// buffers recycles the buffers templates are executed into; a render's
// output is copied out once, at its final size.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer keeps a storm's rare huge buffer out of the pool.
const maxPooledBuffer = 256 << 10

func getBuffer() *bytes.Buffer { return buffers.Get().(*bytes.Buffer) }

func putBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledBuffer {
		return
	}
	b.Reset()
	buffers.Put(b)
}

// Has reports whether a template of that name is defined.
func (s *Set) Has(name string) bool { return s.root.Lookup(name) != nil }

// Execute runs the named template on data.
func (s *Set) Execute(name string, data any) ([]byte, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := s.root.ExecuteTemplate(buf, name, data); err != nil {
		return nil, err
	}
	return bytes.Clone(buf.Bytes()), nil
}

// ExecuteString runs the named template and returns its output as a string.
func (s *Set) ExecuteString(name string, data any) (string, error) {
	buf := getBuffer()
	defer putBuffer(buf)
	if err := s.root.ExecuteTemplate(buf, name, data); err != nil {
		return "", err
	}
	return buf.String(), nil
}
