package main

import (
	"errors"
	"math"
	"os"
	"runtime/debug"
	"testing"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"
)

func TestSetMemoryLimit(t *testing.T) {
	const container = 128 << 20
	cases := []struct {
		name      string
		env       map[string]string
		provider  memlimit.Provider
		want      int64 // the Go memory limit afterwards
		wantLevel zapcore.Level
		wantMsg   string
	}{
		{name: "90% of the cgroup limit", provider: memlimit.Limit(container), want: container * 9 / 10,
			wantLevel: zapcore.InfoLevel, wantMsg: "Go memory limit derived from the cgroup memory limit"},
		{name: "GOMEMLIMIT wins", env: map[string]string{"GOMEMLIMIT": "64MiB"}, provider: memlimit.Limit(container), want: math.MaxInt64,
			wantLevel: zapcore.InfoLevel, wantMsg: "Go memory limit set by GOMEMLIMIT"},
		{name: "AUTOMEMLIMIT changes the share", env: map[string]string{"AUTOMEMLIMIT": "0.5"}, provider: memlimit.Limit(container), want: container / 2,
			wantLevel: zapcore.InfoLevel, wantMsg: "Go memory limit derived from the cgroup memory limit"},
		{name: "AUTOMEMLIMIT=off", env: map[string]string{"AUTOMEMLIMIT": "off"}, provider: memlimit.Limit(container), want: math.MaxInt64,
			wantLevel: zapcore.InfoLevel, wantMsg: "no memory limit: neither GOMEMLIMIT nor a cgroup memory limit is set"},
		{name: "no cgroup limit", provider: func() (uint64, error) { return 0, memlimit.ErrNoLimit }, want: math.MaxInt64,
			wantLevel: zapcore.InfoLevel, wantMsg: "no memory limit: neither GOMEMLIMIT nor a cgroup memory limit is set"},
		{name: "unreadable cgroup", provider: func() (uint64, error) { return 0, errors.New("cgroup: permission denied") }, want: math.MaxInt64,
			wantLevel: zapcore.WarnLevel, wantMsg: "cannot derive the Go memory limit from the cgroup memory limit; running without one"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The test process runs with no limit; each case starts there
			// and the limit is restored afterwards.
			prev := debug.SetMemoryLimit(math.MaxInt64)
			t.Cleanup(func() { debug.SetMemoryLimit(prev) })
			for _, k := range []string{"GOMEMLIMIT", "AUTOMEMLIMIT"} {
				if v, ok := c.env[k]; ok {
					t.Setenv(k, v)
				} else if old, ok := os.LookupEnv(k); ok {
					t.Setenv(k, old) // restores it after the test
					os.Unsetenv(k)
				}
			}
			core, logs := observer.New(zapcore.InfoLevel)
			setMemoryLimitFrom(zap.New(core), c.provider)
			if got := debug.SetMemoryLimit(-1); got != c.want {
				t.Errorf("Go memory limit %d, want %d", got, c.want)
			}
			found := false
			for _, e := range logs.All() {
				found = found || e.Level == c.wantLevel && e.Message == c.wantMsg
			}
			if !found {
				t.Errorf("no %v line %q in %v", c.wantLevel, c.wantMsg, logs.All())
			}
		})
	}
}

// TestSetGCPercent: the default collector target applies unless GOGC is
// set, and the log says which.
func TestSetGCPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		name string
		env  string // "" means unset
		want int
		msg  string
	}{
		{"unset", "", defaultGCPercent, "garbage collector target"},
		{"set", "150", 100, "garbage collector target set by GOGC"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("GOGC", tc.env)
			} else {
				t.Setenv("GOGC", "")
				os.Unsetenv("GOGC")
			}
			debug.SetGCPercent(100)
			core, logs := observer.New(zapcore.InfoLevel)
			setGCPercent(zap.New(core))
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Errorf("GC percent %d, want %d", got, tc.want)
			}
			if logs.FilterMessage(tc.msg).Len() != 1 {
				t.Errorf("log: %v, want %q", logs.All(), tc.msg)
			}
		})
	}
}
