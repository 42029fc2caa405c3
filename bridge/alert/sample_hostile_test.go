package alert

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestHostileSampleIsAValidNotification(t *testing.T) {
	m := HostileSample(time.Now())
	if err := m.Validate(); err != nil {
		t.Fatalf("hostile sample does not validate: %v", err)
	}
	var all strings.Builder
	longest := 0
	empty := false
	for _, a := range m.Alerts {
		if len(a.Annotations) == 0 {
			empty = true
		}
		for _, kv := range []map[string]string{a.Labels, a.Annotations} {
			for k, v := range kv {
				all.WriteString(k + v)
				longest = max(longest, utf8.RuneCountInString(v))
			}
		}
	}
	for _, want := range []string{`"`, `\`, "\x00", "\x1b", "\u2028", "\u202e", "\u200b", "<b>", "&amp;", "*", "_", "`", "[", "{{", "告警", "🔥"} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no value holds %q", want)
		}
	}
	if longest < 10000 || !empty || len(m.Alerts.Firing()) == 0 || len(m.Alerts.Resolved()) == 0 {
		t.Errorf("longest value %d, an alert without annotations %v, %d firing, %d resolved",
			longest, empty, len(m.Alerts.Firing()), len(m.Alerts.Resolved()))
	}
}
