package config

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Target files (target_files): self-service targets, one YAML list of
// targets per file, with the schema of the targets: entries. A bad file
// is reported and skipped; it never fails the load of the main file or of
// the other target files. See docs/configuration.md, "Target files".

// TargetFile is the outcome of loading one target file.
type TargetFile struct {
	// Path is the file's path as shown in errors: relative to the main
	// configuration file's folder when it is under it, else absolute.
	Path string
	// Targets are the names of the file's targets; empty when Err is set.
	Targets []string
	// Err is every problem of the file (nil: loaded); each error names
	// the file, the key path and a line.
	Err error
}

// targetFileBytes is one file a target_files glob matched, as read.
type targetFileBytes struct {
	abs, shown string
	data       []byte
	err        error
}

// readTargetFiles reads the files c.TargetFiles match, sorted and without
// duplicates (a file two globs match is read once).
func (c *Config) readTargetFiles() ([]targetFileBytes, []error) {
	var errs []error
	seen := map[string]bool{}
	var paths []string
	for i, g := range c.TargetFiles {
		matches, err := filepath.Glob(resolve(c.Dir, g))
		if err != nil {
			errs = append(errs, fmt.Errorf("target_files[%d]: %w", i, err))
			continue
		}
		for _, m := range matches {
			if !seen[m] {
				seen[m] = true
				paths = append(paths, m)
			}
		}
	}
	slices.Sort(paths)
	out := make([]targetFileBytes, 0, len(paths))
	for _, p := range paths {
		f := targetFileBytes{abs: p, shown: p}
		if rel, err := filepath.Rel(c.Dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			f.shown = rel
		}
		f.data, f.err = os.ReadFile(p)
		out = append(out, f)
	}
	return out, errs
}

// targetFilesDigest identifies the set of files and their contents.
func targetFilesDigest(files []targetFileBytes) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%d\x00", f.abs, len(f.data))
		h.Write(f.data)
		if f.err != nil {
			fmt.Fprintf(h, "\x00error")
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TargetFilesDigest reads the files the configuration's target_files
// match now and returns their digest, to compare with the one the
// configuration was loaded from (c.TargetFilesLoaded): they differ when a
// file was added, removed or changed since.
func (c *Config) TargetFilesDigest() string {
	files, _ := c.readTargetFiles()
	return targetFilesDigest(files)
}

// TargetFileErrors are the problems of the target files: bad globs and
// bad files, each error naming its file; nil when all loaded.
func (c *Config) TargetFileErrors() []error {
	errs := slices.Clone(c.targetGlobErrors)
	for _, f := range c.TargetFileStates {
		if f.Err != nil {
			errs = append(errs, split(f.Err)...)
		}
	}
	return errs
}

// loadTargetFiles loads every file target_files matches and appends the
// targets of the good ones to c.Targets; the outcome of each file is in
// c.TargetFileStates. It runs after the main file's targets are loaded,
// so their names are taken.
func (c *Config) loadTargetFiles() {
	files, errs := c.readTargetFiles()
	c.targetGlobErrors = errs
	c.TargetFilesLoaded = targetFilesDigest(files)
	names := map[string]string{}
	for _, t := range c.Targets {
		if t != nil && t.Name != "" {
			names[t.Name] = "the main configuration file"
		}
	}
	for _, f := range files {
		st := TargetFile{Path: f.shown}
		var targets []*Target
		if f.err != nil {
			st.Err = fmt.Errorf("%s: %w", f.shown, f.err)
		} else {
			targets, st.Err = c.parseTargetFile(f.shown, f.data, names)
		}
		if st.Err == nil {
			for _, t := range targets {
				names[t.Name] = f.shown
				st.Targets = append(st.Targets, t.Name)
			}
			c.Targets = append(c.Targets, targets...)
		}
		c.TargetFileStates = append(c.TargetFileStates, st)
	}
}

// parseTargetFile decodes and validates one target file. names are the
// target names already taken, with where. Every error is prefixed with
// the file's name and carries a line.
func (c *Config) parseTargetFile(file string, data []byte, names map[string]string) ([]*Target, error) {
	wrap := func(errs []error) error {
		for i, e := range errs {
			errs[i] = fmt.Errorf("%s: %w", file, e)
		}
		return errors.Join(errs...)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, wrap([]error{err})
	}
	if len(doc.Content) == 0 {
		return nil, nil // an empty file: no targets
	}
	root := doc.Content[0]
	if root.Kind != yaml.SequenceNode {
		return nil, wrap([]error{fmt.Errorf("must be a list of targets, as under targets: (line %d)", root.Line)})
	}
	var targets []*Target
	errs := unknownKeys(root, reflect.TypeOf(targets), "")
	errs = append(errs, badValues(root, reflect.TypeOf(targets), "")...)
	for i, n := range root.Content {
		errs = append(errs, refusedKeys(n, fmt.Sprintf("[%d]", i))...)
	}
	if len(errs) > 0 {
		return nil, wrap(errs)
	}
	if err := root.Decode(&targets); err != nil {
		return nil, wrap([]error{err})
	}
	seen := map[string]int{}
	for i, t := range targets {
		n := root.Content[i]
		path := fmt.Sprintf("[%d]", i)
		if t == nil {
			errs = append(errs, fmt.Errorf("%s: empty target (line %d)", path, n.Line))
			continue
		}
		if t.Name != "" {
			path = fmt.Sprintf("[%d] (%s)", i, t.Name)
			if j, dup := seen[t.Name]; dup {
				errs = append(errs, fmt.Errorf("%s.name: %q is already used by [%d] (line %d)", path, t.Name, j, valueLine(n, "name")))
			} else if where, taken := names[t.Name]; taken {
				errs = append(errs, fmt.Errorf("%s.name: %q is already used by a target of %s (line %d)", path, t.Name, where, valueLine(n, "name")))
			}
			seen[t.Name] = i
		}
		var terrs []error
		terrs = append(terrs, c.TargetFileRules.check(path, t, n)...)
		terrs = append(terrs, checkTargetFileTemplates(path, t, n.Line)...)
		if err := t.load(path, c, n); err != nil {
			terrs = append(terrs, split(err)...)
		}
		for _, e := range terrs {
			errs = append(errs, withLine(e, n.Line))
		}
	}
	if len(errs) > 0 {
		return nil, wrap(errs)
	}
	return targets, nil
}

// withLine adds the line of the target to an error that names none.
func withLine(err error, line int) error {
	if strings.Contains(err.Error(), "line ") {
		return err
	}
	return fmt.Errorf("%w (target at line %d)", err, line)
}

// SkipTargetFile marks the i-th target file bad with err (which should
// name the file) and removes its targets from c.Targets. The bridge calls
// it when a file's targets pass validation but cannot be built (a
// template that fails to render the samples, say).
func (c *Config) SkipTargetFile(i int, err error) {
	f := &c.TargetFileStates[i]
	drop := map[string]bool{}
	for _, name := range f.Targets {
		drop[name] = true
	}
	c.Targets = slices.DeleteFunc(c.Targets, func(t *Target) bool { return t != nil && drop[t.Name] })
	f.Targets, f.Err = nil, err
}
