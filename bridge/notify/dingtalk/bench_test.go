package dingtalk_test

import (
	"context"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// BenchmarkBuild measures rendering and packing one notification into
// DingTalk messages: a typical group (one message) and a 300-alert storm
// packed into max_messages bodies under the 20,000-byte limit.
func BenchmarkBuild(b *testing.B) {
	for name, payload := range map[string][]byte{
		"mixed":     notifytest.MixedPayload(),
		"storm-300": notifytest.StormPayload(300),
		"huge":      notifytest.HugePayload(),
	} {
		b.Run(name, func(b *testing.B) {
			n := newNotifier(b, nil, "SEC0123456789abcdef")
			g := notifytest.BuildGroup(b, payload)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.Build(context.Background(), g); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
