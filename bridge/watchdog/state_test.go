package watchdog

import (
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// step is one event of a state machine table: at the offset from t0, a
// heartbeat arrives (beat) or the watchdog checks; want is the notice the
// check sends ("" none).
type step struct {
	at   time.Duration
	beat bool
	want Kind
}

// TestStateMachine drives State through heartbeats and checks on a fake
// clock (timeout 10m, repeat 1h) and asserts which notice each check
// sends: none while the heartbeat comes, one silence notice once it is
// overdue, reminders at the repeat interval, a recovery once it is back.
func TestStateMachine(t *testing.T) {
	const timeout, repeat = 10 * time.Minute, time.Hour
	m := time.Minute
	for _, tc := range []struct {
		name  string
		steps []step
	}{
		{"steady heartbeat stays quiet", []step{
			{0, true, ""}, {5 * m, true, ""}, {14 * m, true, ""}, {23 * m, false, ""},
		}},
		{"no heartbeat ever: the clock starts at the start", []step{
			{9 * m, false, ""}, {10 * m, false, KindSilent}, {11 * m, false, ""},
		}},
		{"silence reported once, then at the repeat interval", []step{
			{0, true, ""}, {9*m + 59*time.Second, false, ""}, {10 * m, false, KindSilent},
			{10*m + time.Second, false, ""}, {69 * m, false, ""}, {70 * m, false, KindReminder},
			{71 * m, false, ""}, {130 * m, false, KindReminder},
		}},
		{"recovery when the heartbeat comes back, then a new silence", []step{
			{0, true, ""}, {10 * m, false, KindSilent}, {15 * m, true, KindRecovered}, {16 * m, false, ""},
			{24 * m, false, ""}, {25 * m, false, KindSilent},
		}},
		{"a heartbeat after the deadline but before the check: no notice", []step{
			{0, true, ""}, {12 * m, true, ""}, {20 * m, false, ""},
		}},
		{"recovery first, even when a reminder is also due", []step{
			{0, true, ""}, {10 * m, false, KindSilent}, {80 * m, true, KindRecovered},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := State{Started: t0}
			for i, s := range tc.steps {
				now := t0.Add(s.at)
				if s.beat {
					st = st.Heartbeat(now)
				}
				n, due := st.Next(now, timeout, repeat)
				got := Kind("")
				if due {
					got = n.Kind
					st = st.Sent(n)
				}
				if got != s.want {
					t.Fatalf("step %d (+%s): notice %q, want %q (state %+v)", i, s.at, got, s.want, st)
				}
			}
		})
	}
}

// TestNoticeFields: a silence notice names when the silence began (the
// last heartbeat) and is numbered; reminders keep the silence's start and
// declaration time; the recovery carries the heartbeat that ended it.
func TestNoticeFields(t *testing.T) {
	st := State{Started: t0}.Heartbeat(t0.Add(time.Minute))
	n, _ := st.Next(t0.Add(20*time.Minute), 10*time.Minute, time.Hour)
	if n.Kind != KindSilent || !n.Since.Equal(t0.Add(time.Minute)) || !n.DeclaredAt.Equal(t0.Add(20*time.Minute)) || n.Count != 1 {
		t.Fatalf("silence notice %+v", n)
	}
	st = st.Sent(n)
	r, _ := st.Next(t0.Add(81*time.Minute), 10*time.Minute, time.Hour)
	if r.Kind != KindReminder || !r.Since.Equal(n.Since) || !r.DeclaredAt.Equal(n.DeclaredAt) || r.Count != 2 {
		t.Fatalf("reminder %+v", r)
	}
	st = st.Sent(r).Heartbeat(t0.Add(90 * time.Minute))
	b, _ := st.Next(t0.Add(90*time.Minute), 10*time.Minute, time.Hour)
	if b.Kind != KindRecovered || !b.LastSeen.Equal(t0.Add(90*time.Minute)) || !b.DeclaredAt.Equal(n.DeclaredAt) || b.Count != 2 {
		t.Fatalf("recovery %+v", b)
	}
	if st = st.Sent(b); st.Silent || st.Notices != 0 || !st.Since.IsZero() {
		t.Fatalf("after recovery: %+v", st)
	}
}

// TestClockEdgeCases: an older heartbeat does not move the clock back; a
// clock that went backwards sends no reminder; a state without a start
// is never overdue.
func TestClockEdgeCases(t *testing.T) {
	st := State{Started: t0}.Heartbeat(t0.Add(5 * time.Minute)).Heartbeat(t0.Add(time.Minute))
	if !st.LastSeen.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("older heartbeat moved LastSeen to %s", st.LastSeen)
	}
	n, _ := st.Next(t0.Add(time.Hour), 10*time.Minute, time.Hour)
	st = st.Sent(n)
	if _, due := st.Next(t0.Add(-time.Hour), 10*time.Minute, time.Hour); due {
		t.Error("a clock gone back sent a notice")
	}
	if (State{}).Overdue(t0, time.Second) {
		t.Error("a state without a start is overdue")
	}
}
