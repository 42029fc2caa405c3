package main

import (
	"math"
	"os"
	"runtime/debug"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"
)

// cgroupMemoryShare is the share of the cgroup memory limit that becomes
// the Go memory limit when GOMEMLIMIT is unset. The rest is headroom for
// memory the Go runtime does not manage (thread stacks, cgo, the page
// cache charged to the cgroup). The AUTOMEMLIMIT environment variable
// replaces it (a ratio such as 0.8), or turns the derivation off ("off").
const cgroupMemoryShare = 0.9

// setMemoryLimit derives the Go memory limit from the cgroup memory limit
// when GOMEMLIMIT is unset, and logs the limit in effect and its source.
// It changes nothing when GOMEMLIMIT is set or no cgroup limit applies; a
// cgroup that cannot be read is logged and ignored.
func setMemoryLimit(log *zap.Logger) { setMemoryLimitFrom(log, memlimit.FromCgroup) }

// setMemoryLimitFrom is setMemoryLimit with the container's memory limit
// read by limit.
func setMemoryLimitFrom(log *zap.Logger, limit memlimit.Provider) {
	_, fromEnv := os.LookupEnv("GOMEMLIMIT")
	set, err := memlimit.SetGoMemLimitWithOpts(
		memlimit.WithRatio(cgroupMemoryShare),
		memlimit.WithProvider(limit),
	)
	if err != nil {
		log.Warn("cannot derive the Go memory limit from the cgroup memory limit; running without one", zap.Error(err))
	}
	effective := debug.SetMemoryLimit(-1)
	switch {
	case fromEnv:
		log.Info("Go memory limit set by GOMEMLIMIT", zap.Int64("go_memory_limit_bytes", effective))
	case set > 0:
		container, _ := limit()
		log.Info("Go memory limit derived from the cgroup memory limit", zap.Int64("go_memory_limit_bytes", effective), zap.Uint64("cgroup_memory_limit_bytes", container))
	case effective == math.MaxInt64:
		log.Info("no memory limit: neither GOMEMLIMIT nor a cgroup memory limit is set")
	default:
		log.Info("Go memory limit", zap.Int64("go_memory_limit_bytes", effective))
	}
}

// defaultGCPercent is the garbage collector's target when GOGC is unset.
// In the static build the store's block cache and memtables (about 16 MiB)
// live on the Go heap, and the default of 100 reserves as much again for
// them as garbage headroom; 60 keeps the 20,000-group load test's peak RSS
// near 60 MiB instead of 67 MiB, for a few percent more collection work.
const defaultGCPercent = 60

// setGCPercent applies defaultGCPercent unless GOGC is set.
func setGCPercent(log *zap.Logger) {
	if v, ok := os.LookupEnv("GOGC"); ok {
		log.Info("garbage collector target set by GOGC", zap.String("gogc", v))
		return
	}
	debug.SetGCPercent(defaultGCPercent)
	log.Info("garbage collector target", zap.Int("gogc", defaultGCPercent))
}
