package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// Check reads, decodes and validates a configuration file as Load does,
// but does not stop at a phase with problems: it returns the
// configuration as far as it could be built together with every problem
// found (unknown keys, values that do not decode, validation), one error
// each, so check-config can go on to the templates and targets. cfg is
// nil only when the file cannot be read or is not YAML; a target with
// problems reports Invalid. The problems of target files are errors
// here (the bridge itself reports and skips a bad target file).
func Check(path string) (*Config, []error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, []error{err}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, []error{err}
	}
	cfg, errs := parseAll(b, filepath.Dir(abs))
	if cfg != nil {
		errs = append(errs, cfg.TargetFileErrors()...)
	}
	return cfg, errs
}

// Invalid reports whether validation found a problem in the target.
func (t *Target) Invalid() bool { return t.invalid }

// parseAll is Parse without joining the errors: the configuration (nil when
// the bytes are not a YAML document that decodes) and every problem.
func parseAll(b []byte, dir string) (*Config, []error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, []error{err}
	}
	cfg := &Config{Dir: dir}
	if len(doc.Content) == 0 {
		return nil, []error{errors.New("empty configuration")}
	}
	errs := unknownKeys(&doc, reflect.TypeOf(cfg), "")
	errs = append(errs, badValues(&doc, reflect.TypeOf(cfg), "")...)
	if err := doc.Decode(cfg); err != nil {
		return nil, append(errs, err)
	}
	// Validate even after unknown keys, so one run reports every problem.
	if err := cfg.load(targetNodes(&doc)); err != nil {
		errs = append(errs, split(err)...)
	}
	// Target files load after the main file's targets, whose names they
	// may not reuse; their problems are in cfg.TargetFileErrors, not errs.
	cfg.loadTargetFiles()
	return cfg, errs
}

// split undoes errors.Join, recursively, so each problem is one error.
func split(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, split(e)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}
