package chat

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

func group(alerts ...template.Alert) *alert.Group {
	return &alert.Group{Data: template.Data{Alerts: alerts, ExternalURL: "http://am.example:9093/", Receiver: "team x"}}
}

func TestMentionsResolve(t *testing.T) {
	m := &Mention{
		Users:      []string{"U0"},
		Mobiles:    []string{"13800000000"},
		ByLabel:    map[string]map[string][]string{"owner": {"db": {"U1", "tel:13900000000"}, "web": {"U2"}}},
		FromLabels: []string{"oncall"},
	}
	firingDB := template.Alert{Status: "firing", Labels: template.KV{"owner": "db"}, Annotations: template.KV{"oncall": "U3, 123456789"}}
	firingWeb := template.Alert{Status: "firing", Labels: template.KV{"owner": "web"}}
	resolvedOther := template.Alert{Status: "resolved", Labels: template.KV{"owner": "db", "oncall": "U9"}}
	tests := []struct {
		name string
		m    *Mention
		g    *alert.Group
		want Mentions
	}{
		{"none configured", nil, group(firingDB), Mentions{}},
		{"static and by label, numeric ids stay users", m, group(firingDB),
			Mentions{Users: []string{"123456789", "U0", "U1", "U3"}, Mobiles: []string{"13800000000", "13900000000"}}},
		{"deduplicated across alerts", m, group(firingDB, firingWeb, firingDB),
			Mentions{Users: []string{"123456789", "U0", "U1", "U2", "U3"}, Mobiles: []string{"13800000000", "13900000000"}}},
		{"resolved alerts wake nobody", m, group(resolvedOther), Mentions{}},
		{"resolved alerts in a firing message do not add owners", m, group(firingWeb, resolvedOther),
			Mentions{Users: []string{"U0", "U2"}, Mobiles: []string{"13800000000"}}},
		{"resolved: true mentions on resolved too", &Mention{Resolved: true, FromLabels: []string{"oncall"}}, group(resolvedOther),
			Mentions{Users: []string{"U9"}}},
		{"all", &Mention{All: true}, group(firingWeb), Mentions{All: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.m.resolve(tc.g); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestCommonValidate(t *testing.T) {
	tests := []struct {
		c    Common
		want string
	}{
		{Common{}, ""},
		{Common{MaxMessages: 51}, "max_messages"},
		{Common{MaxMessages: -1}, "max_messages"},
		{Common{Mention: &Mention{ByLabel: map[string]map[string][]string{"owner": {"db": nil}}}}, "mention.by_label.owner.db"},
		{Common{Mention: &Mention{Users: []string{" "}}}, "mention.users"},
	}
	for _, tc := range tests {
		err := tc.c.Validate()
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.c, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: err %v, want it to name %s", tc.c, err, tc.want)
		}
	}
}

func TestLinks(t *testing.T) {
	g := group(template.Alert{Labels: template.KV{"alertname": `Disk "full"`, "instance": "a\\b"}})
	g.GroupLabels = template.KV{"alertname": `Disk "full"`}
	d := &Data{}
	d.setGroup(g)
	if got, want := d.AlertsURL(), `http://am.example:9093/#/alerts?filter=%7Balertname%3D%22Disk+%5C%22full%5C%22%22%7D&receiver=team+x`; got != want {
		t.Errorf("AlertsURL = %s\nwant        %s", got, want)
	}
	if got, want := d.SilenceURL(g.Alerts[0]), `http://am.example:9093/#/silences/new?filter=%7Balertname%3D%22Disk+%5C%22full%5C%22%22%2Cinstance%3D%22a%5C%5Cb%22%7D`; got != want {
		t.Errorf("SilenceURL = %s\nwant         %s", got, want)
	}
	g.ExternalURL = ""
	if d.AlertsURL() != "" || d.SilenceURL(g.Alerts[0]) != "" {
		t.Error("links without an external URL")
	}
}

func TestMentionCheckUsers(t *testing.T) {
	m := &Mention{
		Users:   []string{"U1", "bad id"},
		Mobiles: []string{"+86 138"},
		ByLabel: map[string]map[string][]string{"owner": {"db": {"U2", "tel:+1", "nope"}}},
	}
	valid := func(id string) error {
		if !strings.HasPrefix(id, "U") {
			return fmt.Errorf("%q is not a user id", id)
		}
		return nil
	}
	var got []string
	for _, err := range m.CheckUsers("Chatty", "user ids in mention.users", valid) {
		got = append(got, err.Error())
	}
	want := []string{
		"mention.mobiles: Chatty has no phone-number mentions; use user ids in mention.users",
		`mention.users: "bad id" is not a user id`,
		`mention.by_label.owner.db: Chatty has no phone-number mentions ("tel:+1")`,
		`mention.by_label.owner.db: "nope" is not a user id`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("CheckUsers =\n%q\nwant\n%q", got, want)
	}
}

type testOptions struct {
	Common
	Format string
}

func (o *testOptions) Validate() error {
	if o.Format == "" {
		o.Format = "default"
	}
	if o.Format == "bad" {
		return fmt.Errorf("format: bad")
	}
	return o.Common.Validate()
}

func TestOptionsOf(t *testing.T) {
	var s notify.Settings
	o, err := OptionsOf[testOptions](&s)
	if err != nil || o.Format != "default" || s.Options != any(o) {
		t.Errorf("defaults: %+v, %v; settings keep %v", o, err, s.Options)
	}
	mine := &testOptions{Format: "mine"}
	s.Options = mine
	if o, _ := OptionsOf[testOptions](&s); o != mine {
		t.Errorf("decoded options replaced by %+v", o)
	}
}

func TestMatchingIDsAndIsHTTPURL(t *testing.T) {
	check := MatchingIDs(regexp.MustCompile(`^U[0-9]+$`), "a user id (U123)")
	if err := check("U42"); err != nil {
		t.Errorf("U42: %v", err)
	}
	if err := check("bob"); err == nil || err.Error() != `"bob" is not a user id (U123)` {
		t.Errorf("bob: %v", err)
	}
	for s, want := range map[string]bool{
		"https://x.example/i.png": true, "http://x.example": true,
		"ftp://x.example/i.png": false, "/relative.png": false, "https://": false, "%zz": false,
	} {
		if got := IsHTTPURL(s); got != want {
			t.Errorf("IsHTTPURL(%q) = %v, want %v", s, got, want)
		}
	}
}
