package store

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// TestPayloadRoundTrip: a stored group reads back exactly as an
// encoding/json round trip gives it (what the bridge's templates saw
// before), for plain, hostile and empty groups.
func TestPayloadRoundTrip(t *testing.T) {
	hostile := benchMessage(7, 3)
	hostile.Alerts[0].Labels["q"] = "\"quoted\" \\ back\nline {{ .x }} <b>&amp;</b> \u2028 中文 😀"
	hostile.Alerts[1].Annotations = nil
	hostile.Alerts[2].EndsAt = time.Date(2026, 11, 23, 18, 0, 0, 123456789, time.FixedZone("", -60))
	empty := &alert.Message{GroupKey: "{}", Version: "4", Data: template.Data{Alerts: template.Alerts{}}}
	loc, _ := time.LoadLocation("Asia/Shanghai")
	for name, m := range map[string]*alert.Message{"plain": benchMessage(1, 5), "hostile": hostile, "empty": empty} {
		t.Run(name, func(t *testing.T) {
			b := &alert.Builder{Location: loc}
			g := b.BuildSeen(m, t0, []alert.Seen{{Times: 3, FirstSeen: t0.Add(-time.Hour)}})
			v, err := encodePayload(g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodePayload(v)
			if err != nil {
				t.Fatal(err)
			}
			sv, _ := json.Marshal(g)
			var want alert.Group
			if err := json.Unmarshal(sv, &want); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("round trip differs:\n got %#v\nwant %#v", *got, want)
			}
		})
	}
	if _, err := decodePayload([]byte(`{"groupKey":`)); err == nil {
		t.Error("a truncated payload decoded")
	}
}
