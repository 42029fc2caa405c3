package bridge

import (
	"bytes"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// TestQueuedJobsDoNotKeepPayloads: a job waiting for a down target costs
// its place in the lane and the store's index, not its payload. A string
// decoded from a webhook payload may share the payload's memory, so a
// waiting job that kept one (its group key) kept 20 KB per job here.
func TestQueuedJobsDoNotKeepPayloads(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("measures the heap")
	}
	app := newTestApp(t, "targets:\n  - name: down\n    type: webhook\n    url: http://127.0.0.1:1/hook\n", Options{Logger: zap.NewNop()})
	defer app.Close(t.Context())
	const jobs, pad = 1000, 20 << 10
	payload := func(i int) []byte {
		return []byte(fmt.Sprintf(`{"version":"4","groupKey":"{}:{g=\"%d\"}","status":"firing","receiver":"r",
	"alerts":[{"status":"firing","labels":{"alertname":"A","g":"%d"},"annotations":{"description":%q},
	"startsAt":"2026-11-23T10:00:00Z","fingerprint":"%016x"}]}`, i, i, strings.Repeat("x", pad), i))
	}
	heap := func() uint64 {
		goruntime.GC()
		goruntime.GC()
		var ms goruntime.MemStats
		goruntime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for i := range jobs {
		msg, err := alert.DecodeWith(bytes.NewReader(payload(i)), alert.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.Accept(msg, ""); err != nil {
			t.Fatal(err)
		}
	}
	grew := int64(heap()) - int64(before)
	perJob := grew / jobs
	t.Logf("heap grew %d KiB for %d waiting jobs of %d KiB payloads: %d bytes per job", grew>>10, jobs, pad>>10, perJob)
	// The hot cache keeps the most recent groups (256 at most) whole.
	if limit := int64(256*pad)/jobs + 4<<10; perJob > limit {
		t.Errorf("%d bytes of heap per waiting job, want at most %d: waiting jobs keep their payloads", perJob, limit)
	}
}
