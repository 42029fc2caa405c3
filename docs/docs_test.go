// Package docs_test checks the documentation: the README and the pages in
// this folder link only to files and headings that exist, the README stays
// a short front page, and what the pages tell a reader to run exists and
// works.
package docs_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/alertbridge/alertbridge/bridge"
)

// root is the repository root, relative to this package.
const root = ".."

// pages returns the Markdown files of the documentation, relative to root.
func pages(t *testing.T) []string {
	t.Helper()
	files := []string{"README.md", "CHANGELOG.md"}
	docs, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil || len(docs) < 8 {
		t.Fatalf("docs/*.md: %d pages, %v", len(docs), err)
	}
	for _, d := range docs {
		rel, _ := filepath.Rel(root, d)
		files = append(files, rel)
	}
	return files
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var (
	fence    = regexp.MustCompile("(?ms)^```.*?^```[^\n]*$")
	codeSpan = regexp.MustCompile("``[^`].*?``|`[^`\n]+`")
	link     = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	heading  = regexp.MustCompile(`(?m)^#{1,6} (.+)$`)
)

// prose is the text with code blocks and code spans removed: what a
// Markdown renderer turns into links.
func prose(text string) string {
	return codeSpan.ReplaceAllString(fence.ReplaceAllString(text, ""), "")
}

// slug is the anchor GitHub gives a heading.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// anchors lists the anchors of a Markdown file's headings, with GitHub's
// -1, -2 suffixes for repeated ones.
func anchors(text string) map[string]bool {
	seen := map[string]int{}
	out := map[string]bool{}
	for _, m := range heading.FindAllStringSubmatch(fence.ReplaceAllString(text, ""), -1) {
		s := slug(m[1])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// TestLinks: every relative link in the README and the docs names a file
// or folder of the repository, and every #anchor a heading of its page.
func TestLinks(t *testing.T) {
	for _, page := range pages(t) {
		text := read(t, page)
		for _, m := range link.FindAllStringSubmatch(prose(text), -1) {
			target := m[1]
			if regexp.MustCompile(`^[a-z]+:`).MatchString(target) {
				continue
			}
			file, anchor, _ := strings.Cut(target, "#")
			rel := page
			if file != "" {
				rel = filepath.Join(filepath.Dir(page), file)
				if _, err := os.Stat(filepath.Join(root, rel)); err != nil {
					t.Errorf("%s: link %s: no such file", page, target)
					continue
				}
			}
			if anchor != "" && strings.HasSuffix(rel, ".md") && !anchors(read(t, rel))[anchor] {
				t.Errorf("%s: link %s: %s has no heading with that anchor", page, target, rel)
			}
		}
	}
}

// TestReadmeIsAFrontPage: the README stays short, says what to run, and
// leaves the details to the pages it links.
func TestReadmeIsAFrontPage(t *testing.T) {
	text := read(t, "README.md")
	if n := strings.Count(text, "\n"); n > 250 {
		t.Errorf("README.md has %d lines; keep it under 250 and move details to docs/", n)
	}
	for _, want := range []string{
		"go install github.com/alertbridge/alertbridge@latest",
		"go run . --config.file=examples/alertbridge.yml",
		"go test ./...",
		"LICENSE",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("README.md does not contain %q", want)
		}
	}
	for _, page := range pages(t) {
		if strings.HasPrefix(page, "docs") && !strings.Contains(text, "("+filepath.ToSlash(page)+")") {
			t.Errorf("README.md does not link %s", page)
		}
	}
}

// TestCommandsInDocs: the configuration files and packages the docs tell a
// reader to run exist, and the configuration files pass check-config (those
// that need ${VARIABLES} set are checked by the tests next to them).
func TestCommandsInDocs(t *testing.T) {
	configFlag := regexp.MustCompile(`(?:--config\.file[= ]|check-config )((?:examples|charts)/[\w./-]+\.ya?ml)`)
	goRun := regexp.MustCompile(`go (?:run|test|build)(?: -[\w.=-]+)* (\./[\w./-]*)`)
	checked := map[string]bool{}
	for _, page := range pages(t) {
		text := read(t, page)
		for _, m := range configFlag.FindAllStringSubmatch(text, -1) {
			file := m[1]
			if checked[file] {
				continue
			}
			checked[file] = true
			raw, err := os.ReadFile(filepath.Join(root, file))
			if err != nil {
				t.Errorf("%s runs the bridge with %s: %v", page, file, err)
				continue
			}
			if strings.Contains(string(raw), "${") {
				continue
			}
			if errs := bridge.CheckConfig(filepath.Join(root, file)); len(errs) != 0 {
				t.Errorf("%s runs the bridge with %s, which fails check-config: %v", page, file, errs)
			}
		}
		for _, m := range goRun.FindAllStringSubmatch(text, -1) {
			pkg := strings.TrimSuffix(strings.TrimSuffix(m[1], "..."), "/")
			if fi, err := os.Stat(filepath.Join(root, pkg)); err != nil || !fi.IsDir() {
				t.Errorf("%s: %q: no such package folder", page, m[0])
			}
		}
	}
	if !checked["examples/alertbridge.yml"] {
		t.Errorf("no page runs examples/alertbridge.yml; checked %v", slices.Sorted(maps.Keys(checked)))
	}
}
