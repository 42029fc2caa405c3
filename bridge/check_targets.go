package bridge

import (
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// checkTemplatesAndTargets is check-config's second half: the template
// files one by one (each parse error with its file and line), then each
// valid target on its own runtime (its template parsed and escaped, its
// notifier and HTTP client built, its samples rendered), so a problem in
// one template or target does not hide the others'.
func checkTemplatesAndTargets(cfg *config.Config, now time.Time) []error {
	var errs []error
	// The targets are checked with the template files that parse, so a
	// broken file does not hide their own problems; a target that needs a
	// definition from the broken file reports it as missing, after the
	// file's own error.
	var good []string
	for i, g := range cfg.Templates {
		files, _ := filepath.Glob(g) // a bad pattern was reported by validation
		for _, f := range files {
			if _, err := render.New(render.Options{Globs: []string{f}, Location: cfg.Location}); err != nil {
				errs = append(errs, fmt.Errorf("templates[%d]: %w", i, err))
				continue
			}
			good = append(good, f)
		}
	}
	for i, t := range cfg.Targets {
		if t == nil || t.Invalid() {
			continue
		}
		one := *cfg
		if len(errs) > 0 {
			one.Templates = good
		}
		one.Targets = []*config.Target{t}
		rt, err := buildRuntime(&one, "alertbridge/check-config", func() time.Time { return now })
		if err != nil {
			for _, e := range splitErrors(err) {
				errs = append(errs, targetError(i, t, e))
			}
			continue
		}
		rt.close()
	}
	return errs
}

// targetError names a problem of target i by its key path: a template
// error by the template's key and line (see templatePath), a build error
// by the target. Sample errors come named already.
func targetError(i int, t *config.Target, err error) error {
	msg := err.Error()
	if rest, ok := strings.CutPrefix(msg, fmt.Sprintf("targets[0] (%s)", t.Name)); ok {
		// Named in the one-target runtime: give its index in the file.
		return fmt.Errorf("targets[%d] (%s)%s", i, t.Name, rest)
	}
	if rest, ok := strings.CutPrefix(msg, "templates: "); ok {
		return fmt.Errorf("%s: %s", templatePath(i, t, err), rest)
	}
	if rest, ok := strings.CutPrefix(msg, "target "+t.Name+": "); ok {
		return fmt.Errorf("targets[%d] (%s): %s", i, t.Name, rest)
	}
	return fmt.Errorf("targets[%d] (%s): %w", i, t.Name, err)
}

// splitErrors undoes errors.Join.
func splitErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, splitErrors(e)...)
		}
		return out
	}
	return []error{err}
}
