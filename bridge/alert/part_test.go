package alert

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
)

func TestShorten(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"short", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"eleven runes", 10, "eleven ru…"},
		{"磁盘告警🔥磁盘告警", 5, "磁盘告警…"},
		{"🔥🔥🔥", 1, "…"},
		{"abc", 0, "…"},
	}
	for _, tc := range tests {
		got := Shorten(tc.in, tc.limit)
		if got != tc.want || !utf8.ValidString(got) {
			t.Errorf("Shorten(%q, %d) = %q, want %q", tc.in, tc.limit, got, tc.want)
		}
	}
}

func TestSliceKeepsTheNotificationsView(t *testing.T) {
	g := &Group{
		Data: template.Data{
			Status: "firing",
			Alerts: template.Alerts{
				{Status: "firing", Labels: template.KV{"a": "1", "x": "same"}},
				{Status: "resolved", Labels: template.KV{"a": "2", "x": "same"}},
			},
			CommonLabels: template.KV{"x": "same"},
		},
		Records: []Record{{ID: 1}, {ID: 2}},
	}
	p := g.Slice(1, 2)
	if p.Status != "firing" || len(p.Alerts) != 1 || p.Alerts[0].Labels["a"] != "2" || p.Records[0].ID != 2 {
		t.Fatalf("part = %+v", p)
	}
	if g.Slice(0, 2) != g {
		t.Error("the whole range should be the group itself")
	}
}

func TestShortenedCopiesAndCuts(t *testing.T) {
	long := strings.Repeat("告", 100)
	g := &Group{
		Data: template.Data{
			Alerts:      template.Alerts{{Labels: template.KV{"v": long}, Annotations: template.KV{"d": long}, GeneratorURL: "http://x/" + long}},
			GroupLabels: template.KV{"v": long}, CommonLabels: template.KV{"v": long},
		},
		Records: []Record{{Content: long, Tags: map[string]string{"v": long}}},
	}
	s := g.Shortened(10)
	if n := utf8.RuneCountInString(s.Alerts[0].Labels["v"]); n != 10 {
		t.Errorf("label has %d runes", n)
	}
	if s.Alerts[0].GeneratorURL != "" {
		t.Error("a cut URL must be dropped, not sent half")
	}
	if utf8.RuneCountInString(s.Records[0].Content) != 10 || utf8.RuneCountInString(s.Records[0].Tags["v"]) != 10 || utf8.RuneCountInString(s.GroupLabels["v"]) != 10 {
		t.Error("record content, tags or group labels not cut")
	}
	if g.Alerts[0].Labels["v"] != long || g.Records[0].Tags["v"] != long {
		t.Error("Shortened changed the original group")
	}
}
