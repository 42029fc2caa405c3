package store

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// TestNotificationRoundTrip: a stored notification reads back with its
// body byte for byte, its receive time (zone included) and its counters,
// and the body decodes to the message it came from.
func TestNotificationRoundTrip(t *testing.T) {
	hostile := benchMessage(7, 3)
	hostile.Alerts[0].Labels["q"] = "\"quoted\" \\ back\nline {{ .x }} <b>&amp;</b> \u2028 中文 😀"
	for name, m := range map[string]*alert.Message{"plain": benchMessage(1, 5), "hostile": hostile} {
		t.Run(name, func(t *testing.T) {
			body, err := m.Body()
			if err != nil {
				t.Fatal(err)
			}
			in := &Notification{Body: body, ReceivedAt: time.Date(2026, 11, 23, 18, 0, 0, 123456789, time.FixedZone("", 8*3600)),
				Seen: make([]alert.Seen, len(m.Alerts))}
			for i := range in.Seen {
				in.Seen[i] = alert.Seen{Times: int64(i * 1000), FirstSeen: t0.Add(-time.Duration(i) * time.Hour)}
			}
			v, err := encodeNotification(in)
			if err != nil {
				t.Fatal(err)
			}
			out, err := decodeNotification(v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Body, in.Body) || !out.ReceivedAt.Equal(in.ReceivedAt) || out.ReceivedAt.Format(time.RFC3339Nano) != in.ReceivedAt.Format(time.RFC3339Nano) {
				t.Errorf("body or time differ: %v vs %v", out.ReceivedAt, in.ReceivedAt)
			}
			for i := range in.Seen {
				if out.Seen[i].Times != in.Seen[i].Times || !out.Seen[i].FirstSeen.Equal(in.Seen[i].FirstSeen) {
					t.Errorf("counter %d: %+v, want %+v", i, out.Seen[i], in.Seen[i])
				}
			}
			if err := checkNotification(v); err != nil {
				t.Errorf("check: %v", err)
			}
			back, err := alert.Decode(bytes.NewReader(out.Body))
			if err != nil || !reflect.DeepEqual(back.Alerts, m.Alerts) {
				t.Errorf("body decodes to %v (%v), want the message's alerts", back, err)
			}
			// Every truncation is refused or reads as a shorter body
			// that no longer decodes: never a panic.
			for n := 0; n < len(v)-len(in.Body); n++ {
				if _, err := decodeNotification(v[:n]); err == nil {
					t.Fatalf("truncated to %d bytes decoded", n)
				}
			}
		})
	}
	if err := checkNotification([]byte{notificationFormat, 0, 0}); err == nil {
		t.Error("a notification with a bad time passed the check")
	}
}
