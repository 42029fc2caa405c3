package bridge

import (
	"fmt"
	"slices"
	"time"

	"github.com/alertbridge/alertbridge/bridge/config"
)

// buildRuntimeSkipping is buildRuntime for a configuration with target
// files: when the whole does not build, the main file's targets are
// built alone (their failure is the error), then the target files are
// added one at a time, and each file that breaks the build is skipped
// (config.SkipTargetFile) with the error, so a team's file that
// validates but does not build cannot keep the others from loading.
func buildRuntimeSkipping(cfg *config.Config, userAgent string, now func() time.Time) (*runtime, error) {
	rt, err := buildRuntime(cfg, userAgent, now)
	if err == nil || !slices.ContainsFunc(cfg.TargetFileStates, func(f config.TargetFile) bool { return len(f.Targets) > 0 }) {
		return rt, err
	}
	fromFile := map[string]bool{}
	for _, f := range cfg.TargetFileStates {
		for _, name := range f.Targets {
			fromFile[name] = true
		}
	}
	byName := map[string]*config.Target{}
	var kept []*config.Target
	for _, t := range cfg.Targets {
		byName[t.Name] = t
		if !fromFile[t.Name] {
			kept = append(kept, t)
		}
	}
	try := func(targets []*config.Target) error {
		c := *cfg
		c.Targets = targets
		rt, err := buildRuntime(&c, userAgent, now)
		if err == nil {
			rt.close()
		}
		return err
	}
	if err := try(kept); err != nil {
		return nil, err
	}
	for i, f := range cfg.TargetFileStates {
		if len(f.Targets) == 0 {
			continue
		}
		with := slices.Clone(kept)
		for _, name := range f.Targets {
			with = append(with, byName[name])
		}
		if err := try(with); err != nil {
			cfg.SkipTargetFile(i, fmt.Errorf("%s: %w", f.Path, err))
			continue
		}
		kept = with
	}
	return buildRuntime(cfg, userAgent, now)
}
