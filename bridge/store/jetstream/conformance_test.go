package jetstream_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/store"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream"
	"github.com/alertbridge/alertbridge/bridge/store/jetstream/jstest"
	"github.com/alertbridge/alertbridge/bridge/store/storetest"
)

var prefixes atomic.Int64

// conformance runs the suite on engines over c, each subtest with a
// stream of its own; a reopen is a bridge restart: a new engine on the
// same stream, rebuilt from the log (and snapshots, when snapshotEvery
// is small).
func conformance(t *testing.T, c *jstest.Cluster, replicas, snapshotEvery int) {
	nc := c.Connect(t)
	openPrefix := func(t *testing.T, prefix string) store.Engine {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		o := jetstream.Options{Conn: nc, Prefix: prefix, Replicas: replicas, SnapshotEvery: snapshotEvery, Errorf: t.Logf}
		if replicas > 1 { // the view in a folder, as the bridge keeps it
			o.ViewDir = filepath.Join(t.TempDir(), "view")
		}
		e, err := jetstream.Open(ctx, o)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.Close() })
		return e
	}
	prefix := map[store.Engine]string{}
	open := func(t *testing.T) store.Engine {
		p := fmt.Sprintf("T%d", prefixes.Add(1))
		e := openPrefix(t, p)
		prefix[e] = p
		return e
	}
	reopen := func(t *testing.T, e store.Engine) store.Engine {
		e.Close()
		p := prefix[e]
		n := openPrefix(t, p)
		prefix[n] = p
		return n
	}
	storetest.Run(t, open, reopen)
}

func TestConformanceSingleServer(t *testing.T) {
	conformance(t, jstest.Start(t, 1), 1, 0)
}

func TestConformanceClusterR3WithSnapshots(t *testing.T) {
	if testing.Short() {
		t.Skip("a three-node cluster")
	}
	conformance(t, jstest.Start(t, 3), 3, 3)
}
