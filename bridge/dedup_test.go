package bridge

import (
	"bytes"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// TestDedupRetryVersusRepeat: with the default dedup_window, a copy of a
// notification seconds later (Alertmanager's retry, an HA peer's copy) is
// a duplicate, logged at info with its group key, while the same
// notification a repeat_interval (1 m at least) later is delivered again.
func TestDedupRetryVersusRepeat(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	core, logs := observer.New(zapcore.InfoLevel)
	app := newTestApp(t, "targets:\n  - name: ops\n    type: webhook\n    url: http://127.0.0.1:1/hook\n",
		Options{Logger: zap.New(core), Now: clock})
	defer app.Close(t.Context())
	post := func() bool {
		t.Helper()
		msg, err := alert.Decode(bytes.NewReader(groupPayload(1, "firing")))
		if err != nil {
			t.Fatal(err)
		}
		acc, err := app.Accept(msg, "")
		if err != nil {
			t.Fatal(err)
		}
		return acc.Duplicate
	}
	for _, step := range []struct {
		name  string
		after time.Duration
		dup   bool
	}{
		{"first", 0, false},
		{"Alertmanager's retry 10 s later", 10 * time.Second, true},
		{"an HA peer's copy 2 s after that", 2 * time.Second, true},
		{"the repeat 1 m after the first", 48 * time.Second, false},
		{"its retry", 5 * time.Second, true},
	} {
		advance(step.after)
		if got := post(); got != step.dup {
			t.Errorf("%s: duplicate = %v, want %v", step.name, got, step.dup)
		}
	}
	dups := logs.FilterMessageSnippet("duplicate notification ignored").All()
	if len(dups) != 3 {
		t.Fatalf("%d duplicate log lines, want 3", len(dups))
	}
	if f := dups[0].ContextMap(); f["group_key"] != `{}:{g="1"}` || dups[0].Level != zapcore.InfoLevel {
		t.Errorf("duplicate log line: level %v fields %v", dups[0].Level, f)
	}
}
