package bridge

import (
	"io/fs"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/version"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/console"
)

// reloadState is the outcome of the last configuration load.
type reloadState struct {
	mu  sync.Mutex
	at  time.Time
	err string
}

func (r *reloadState) set(at time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.at, r.err = at, ""
	if err != nil {
		r.err = err.Error()
	}
}

func (r *reloadState) get() (time.Time, string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.at, r.err
}

// StatusInfo implements console.Status. The configuration is the one in
// force, as loaded, with every secret redacted: Secret values print as
// <secret>, headers named like credentials as <redacted>, and every
// target's URL, secret and http_config credentials are scrubbed by value.
func (a *App) StatusInfo() console.StatusInfo {
	rt := a.rt.Load()
	at, rerr := a.reload.get()
	w := a.watchdog.Status()
	return console.StatusInfo{
		Version: version.Version, Revision: version.Revision, Branch: version.Branch,
		BuildUser: version.BuildUser, BuildDate: version.BuildDate, GoVersion: goruntime.Version(),
		Started: a.started, ConfigFile: a.opts.ConfigFile, Config: redactedConfig(rt),
		LastReload: at, ReloadOK: rerr == "", ReloadError: rerr,
		StorageEngine: "Pebble (embedded)", StoragePath: a.opts.StoragePath, StorageBytes: dirBytes(a.opts.StoragePath),
		Targets: len(rt.cfg.Targets),
		Admin:   a.opts.EnableAdminAPI, Lifecycle: a.opts.EnableLifecycle, Pprof: a.opts.EnablePprof,
		RoutePrefix: a.opts.RoutePrefix, ExternalURL: a.opts.ExternalURL,
		Watchdog: watchdogLine(w), WatchdogSilent: w.Silent,
		TargetFiles: targetFilesStatus(rt.cfg),
	}
}

// credentialName matches header names that carry credentials.
var credentialName = regexp.MustCompile(`(?i)auth|token|key|secret|sign|cookie|password|session`)

// redactedConfig is rt's configuration as YAML without secrets.
func redactedConfig(rt *runtime) string {
	cfg := *rt.cfg
	cfg.Targets = make([]*config.Target, len(rt.cfg.Targets))
	for i, t := range rt.cfg.Targets {
		c := *t
		if len(t.Headers) > 0 {
			c.Headers = map[string]string{}
			for k, v := range t.Headers {
				if credentialName.MatchString(k) {
					v = "<redacted>"
				}
				c.Headers[k] = v
			}
		}
		cfg.Targets[i] = &c
	}
	b, err := yaml.Marshal(&cfg)
	if err != nil {
		return "# the configuration cannot be shown: " + err.Error()
	}
	out := string(b)
	for _, t := range rt.cfg.Targets {
		if tr, ok := rt.targets[t.Name]; ok {
			out = tr.redact.Redact(out)
		}
	}
	return strings.TrimSpace(out)
}

// dirBytes is the size of the files under dir; 0 when it cannot be read.
func dirBytes(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
