package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// newStore makes a store with one pending job for target ops.
func newStore(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g := &alert.Group{GroupKey: "g", ReceivedAt: time.Now(),
		Data:    template.Data{Receiver: "r", Alerts: template.Alerts{{Status: "firing", Labels: template.KV{"alertname": "A"}}}},
		Records: []alert.Record{{ID: 1}}}
	body, err := (&alert.Message{Data: g.Data, Version: alert.Version, GroupKey: "g"}).Body()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Accept(store.AcceptRequest{Now: time.Now(), Group: g, Body: body,
		Jobs: []store.NewJob{{Job: &store.Job{Target: "ops", GroupKey: "g"}, Group: g}}}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestStoreCheckCommand(t *testing.T) {
	sound := newStore(t)
	lost := newStore(t)
	entries, _ := os.ReadDir(filepath.Join(lost, store.DataDir))
	for _, e := range entries {
		os.RemoveAll(filepath.Join(lost, store.DataDir, e.Name()))
	}
	old := t.TempDir()
	os.WriteFile(filepath.Join(old, "alertbridge.db"), []byte("bbolt"), 0o600)
	for _, tc := range []struct {
		name string
		dir  string
		code int
		want []string
	}{
		{"sound", sound, 0, []string{"pending    1  ops=1", "OK: no damage found"}},
		{"data lost", lost, 1, []string{"DAMAGED", "missing or empty", "store salvage"}},
		{"old format", old, 1, []string{"DAMAGED", "earlier alertbridge build"}},
		{"no store", t.TempDir(), 2, []string{"holds no store"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if code := storeCheck(&out, tc.dir, false); code != tc.code {
				t.Errorf("exit code %d, want %d\n%s", code, tc.code, out.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	if code := run([]string{"store", "check", "--storage.path=" + lost}); code != 1 {
		t.Errorf("alertbridge store check on a damaged store: exit %d, want 1", code)
	}
}

// TestStoreCheckOfAStoreInUse: checking the store of a running bridge says
// so (exit 2), rather than calling the store damaged.
func TestStoreCheckOfAStoreInUse(t *testing.T) {
	dir := newStore(t)
	db, err := store.Open(dir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var out bytes.Buffer
	if code := storeCheck(&out, dir, false); code != 2 || strings.Contains(out.String(), "DAMAGED") || !strings.Contains(out.String(), "stop the bridge") {
		t.Errorf("check of a store in use: exit %d\n%s", code, out.String())
	}
}

func TestStoreSalvageCommand(t *testing.T) {
	from := newStore(t)
	to := filepath.Join(t.TempDir(), "new")
	var out bytes.Buffer
	if code := storeSalvage(&out, from, to); code != 0 {
		t.Fatalf("salvage exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "pending 1") {
		t.Errorf("salvage output: %s", out.String())
	}
	out.Reset()
	if code := storeCheck(&out, to, false); code != 0 || !strings.Contains(out.String(), "ops=1") {
		t.Errorf("check of the salvaged store: %d\n%s", code, out.String())
	}
	// The target must be new: salvaging into a store is refused.
	out.Reset()
	if code := storeSalvage(&out, from, to); code != 1 || !strings.Contains(out.String(), "missing or empty") {
		t.Errorf("salvage into a non-empty folder: %d %s", code, out.String())
	}
}

// TestStoreCheckJSON: --json prints the report for scripts.
func TestStoreCheckJSON(t *testing.T) {
	var out bytes.Buffer
	if code := storeCheck(&out, newStore(t), true); code != 0 {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	var rep store.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if rep.Jobs[store.StatePending]["ops"] != 1 || rep.Notifications != 1 || rep.Damaged() {
		t.Errorf("report %+v", rep)
	}
}
