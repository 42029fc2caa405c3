package bridge

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// processCPU is the CPU time the test process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkBuildEveryType measures what a target type does for one group
// before anything is sent: render its preset, pack the messages within the
// platform's limits, sign the requests. Each type builds the chat suite's
// shared fixtures (a typical firing and resolved group, mixed, hostile,
// many, a 300-alert storm, one huge alert): ".../all" builds every fixture
// once per op and reports the mean per group; ".../<fixture>" builds one.
//
//	go test ./bridge -run - -bench BuildEveryType -benchmem
func BenchmarkBuildEveryType(b *testing.B) {
	fixtures := notifytest.ChatFixtures(b)
	names := notifytest.SortedNames(fixtures)
	for _, typ := range registry.Types() {
		c, ok := conformanceCases[typ]
		if !ok {
			b.Fatalf("type %s has no conformance case", typ)
		}
		_, keys := c.start(b)
		tr := conformanceTarget(b, c, keys)
		groups := make([]*alert.Group, len(names))
		for i, name := range names {
			groups[i] = notifytest.BuildGroup(b, fixtures[name])
		}
		build := func(b *testing.B, g *alert.Group) {
			if _, err := tr.notifier.Build(context.Background(), g); err != nil {
				b.Fatal(err)
			}
		}
		b.Run(typ+"/all", func(b *testing.B) {
			b.ReportAllocs()
			cpu := processCPU()
			for b.Loop() {
				for _, g := range groups {
					build(b, g)
				}
			}
			// Process CPU time (the collector's included) is steadier than
			// wall time on a shared machine.
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N*len(groups)), "cpu-µs/group")
		})
		for i, name := range names {
			b.Run(typ+"/"+name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					build(b, groups[i])
				}
			})
		}
	}
}
