package console

import (
	"net/http"
	"time"
)

// Status reports the bridge's state for the status page.
type Status interface {
	StatusInfo() StatusInfo
}

// StatusInfo is what the status page shows. Config is the configuration
// as loaded, with every secret redacted.
type StatusInfo struct {
	Version, Revision, Branch, BuildUser, BuildDate, GoVersion string
	Started                                                    time.Time
	ConfigFile                                                 string
	Config                                                     string
	LastReload                                                 time.Time
	ReloadOK                                                   bool
	ReloadError                                                string
	StorageEngine, StoragePath                                 string
	StorageBytes                                               int64
	Targets                                                    int
	Admin, Lifecycle, Pprof                                    bool
	RoutePrefix, ExternalURL                                   string
	// Watchdog describes the heartbeat check in a line (empty: none is
	// configured); WatchdogSilent is set while the heartbeat is overdue.
	Watchdog       string
	WatchdogSilent bool
	// TargetFiles are the target files of the configuration in force,
	// each loaded or skipped with its problem.
	TargetFiles []TargetFile
}

// TargetFile is one target file's state: Targets loaded from it, or the
// Error it was skipped for (which names no URL or secret).
type TargetFile struct {
	Path    string
	Targets int
	Error   string
}

type statusData struct {
	StatusInfo
	Uptime string
}

func (c *Console) statusPage(w http.ResponseWriter, _ *http.Request) {
	st := c.b.StatusInfo()
	c.render(w, http.StatusOK, "status", "Status", statusData{StatusInfo: st, Uptime: c.o.Now().Sub(st.Started).Round(time.Second).String()})
}
