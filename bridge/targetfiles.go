package bridge

import (
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/console"
)

// DefaultTargetFilesPollInterval is how often the target_files globs are
// checked for added, removed or changed files.
const DefaultTargetFilesPollInterval = 5 * time.Second

// reportTargetFiles logs and counts the target files of cfg, a
// configuration that was just put in force: one error line per skipped
// file (the error names the file, key path and line, never a URL or
// secret).
func (a *App) reportTargetFiles(cfg *config.Config) {
	var loaded, skipped float64
	for _, f := range cfg.TargetFileStates {
		if f.Err != nil {
			skipped++
			a.log.Error("target file skipped; its targets are not loaded, the other files' are", zap.String("target_file", f.Path), zap.Error(f.Err))
			continue
		}
		loaded++
	}
	a.metrics.TargetFiles.WithLabelValues("loaded").Set(loaded)
	a.metrics.TargetFiles.WithLabelValues("skipped").Set(skipped)
	a.metrics.TargetFileErrors.Add(skipped)
}

// targetFilesStatus is the target files' state for the status page.
func targetFilesStatus(cfg *config.Config) []console.TargetFile {
	var out []console.TargetFile
	for _, f := range cfg.TargetFileStates {
		s := console.TargetFile{Path: f.Path, Targets: len(f.Targets)}
		if f.Err != nil {
			s.Error = f.Err.Error()
		}
		out = append(out, s)
	}
	return out
}

// watchTargetFiles reloads the configuration when the files the
// target_files globs match change (added, removed or edited), checking
// every opts.TargetFilesPollInterval until stop is closed. A change whose
// reload failed (the main file is broken, say) is not tried again until
// the files change once more; SIGHUP and /-/reload still are.
func (a *App) watchTargetFiles(stop <-chan struct{}) {
	every := a.opts.TargetFilesPollInterval
	if every == 0 {
		every = DefaultTargetFilesPollInterval
	}
	if every < 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	var tried string
	for {
		select {
		case <-stop:
			return
		case <-t.C:
		}
		cfg := a.rt.Load().cfg
		if len(cfg.TargetFiles) == 0 {
			continue
		}
		now := cfg.TargetFilesDigest()
		if now == cfg.TargetFilesLoaded || now == tried {
			continue
		}
		tried = now
		a.log.Info("target files changed; reloading the configuration")
		_ = a.Reload() // logs and records its outcome
	}
}
