package store

import (
	"errors"
	"testing"
	"time"
)

// TestWatchdogStateSurvivesReopen: the watchdog record is absent in a new
// store, is read back as saved after the store is closed and opened again,
// store check accepts it, and a damaged record is reported as corruption, not as "none".
func TestWatchdogStateSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, err := d.WatchdogState(); ok || err != nil {
		t.Fatalf("new store: ok=%v err=%v, want none", ok, err)
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	want := WatchdogState{Started: at, LastSeen: at.Add(time.Minute), Silent: true, Since: at.Add(time.Minute),
		DeclaredAt: at.Add(11 * time.Minute), NoticeAt: at.Add(71 * time.Minute), Notices: 2}
	if err := d.SaveWatchdogState(want); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if rep, err := Check(dir); err != nil || rep.Damaged() {
		t.Fatalf("store check with a watchdog record: %v %v", err, rep)
	}
	if d, err = Open(dir, Options{}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := d.WatchdogState()
	if err != nil || !ok {
		t.Fatalf("after reopen: ok=%v err=%v", ok, err)
	}
	if !got.Started.Equal(want.Started) || !got.LastSeen.Equal(want.LastSeen) || got.Silent != want.Silent ||
		!got.Since.Equal(want.Since) || !got.DeclaredAt.Equal(want.DeclaredAt) || !got.NoticeAt.Equal(want.NoticeAt) || got.Notices != want.Notices {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if err := d.write(func(tx *tx) error { return tx.set(keyWatchdog, []byte("{not json")) }); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.WatchdogState(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("damaged record: err = %v, want ErrCorrupt", err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.SaveWatchdogState(want); !errors.Is(err, ErrClosed) {
		t.Errorf("save after close: %v, want ErrClosed", err)
	}
}
