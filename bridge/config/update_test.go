package config

import (
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify"
)

// TestUpdateDefaultsPerType: every type posts new messages unless the
// target asks for edit or reply, as Alertmanager does, so an upgrade does
// not silently turn resolved notifications into edits nobody is pinged for.
func TestUpdateDefaultsPerType(t *testing.T) {
	cfg, err := Parse([]byte(`
targets:
  - {name: tg, type: telegram, url: "https://api.telegram.org/bot1:x/sendMessage", chat_id: "-100"}
  - {name: dc, type: discord, url: "https://discord.com/api/webhooks/1/x"}
  - {name: sl, type: slack, url: "https://hooks.slack.com/services/T/B/X"}
  - {name: tgr, type: telegram, url: "https://api.telegram.org/bot1:x/sendMessage", chat_id: "-100", update: reply}
  - {name: dcn, type: discord, url: "https://discord.com/api/webhooks/1/x", update: new}
  - {name: gc, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t"}
  - {name: gcr, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", update: reply}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []notify.Update{notify.UpdateNew, notify.UpdateNew, notify.UpdateNew, notify.UpdateReply, notify.UpdateNew, notify.UpdateNew, notify.UpdateReply}
	for i, w := range want {
		if got := cfg.Targets[i].Update; got != w {
			t.Errorf("%s: update %q, want %q", cfg.Targets[i].Name, got, w)
		}
	}
}

func TestUpdateUnsupportedIsALoadErrorNamingTheType(t *testing.T) {
	tests := []struct{ target, want string }{
		{`{name: sl, type: slack, url: "https://hooks.slack.com/services/T/B/X", update: edit}`,
			`targets[0] (sl).update: "edit" is not an update mode of type slack: it supports only new`},
		{`{name: dc, type: discord, url: "https://discord.com/api/webhooks/1/x", update: reply}`,
			`targets[0] (dc).update: "reply" is not an update mode of type discord: it supports edit or new`},
		{`{name: tg, type: telegram, url: "https://api.telegram.org/bot1:x/sendMessage", chat_id: "-100", update: thread}`,
			`targets[0] (tg).update: "thread" is not an update mode of type telegram: it supports edit, reply or new`},
		{`{name: gc, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", update: edit}`,
			`targets[0] (gc).update: "edit" is not an update mode of type googlechat: it supports reply or new`},
		{`{name: gc, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", thread_by_group: true, update: reply}`,
			`targets[0] (gc).update: "reply" and thread_by_group both thread a group's notifications`},
	}
	for _, tc := range tests {
		_, err := Parse([]byte("targets:\n  - "+tc.target+"\n"), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error lacks %q:\n%v", tc.want, err)
		}
	}
}
