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
  - {name: lk, type: lark, url: "https://open.feishu.cn", app_id: cli_a1, chat_id: oc_b2, secret: s}
  - {name: lke, type: lark, url: "https://open.feishu.cn/", app_id: cli_a1, chat_id: oc_b2, secret: s, update: edit}
`), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	want := []notify.Update{notify.UpdateNew, notify.UpdateNew, notify.UpdateNew, notify.UpdateReply, notify.UpdateNew, notify.UpdateNew, notify.UpdateReply, notify.UpdateNew, notify.UpdateEdit}
	for i, w := range want {
		if got := cfg.Targets[i].Update; got != w {
			t.Errorf("%s: update %q, want %q", cfg.Targets[i].Name, got, w)
		}
	}
}

func TestUpdateUnsupportedIsALoadErrorNamingTheType(t *testing.T) {
	tests := []struct{ target, want string }{
		{`{name: dc, type: discord, url: "https://discord.com/api/webhooks/1/x", update: reply}`,
			`targets[0] (dc).update: "reply" is not an update mode of type discord: it supports edit or new`},
		{`{name: tg, type: telegram, url: "https://api.telegram.org/bot1:x/sendMessage", chat_id: "-100", update: thread}`,
			`targets[0] (tg).update: "thread" is not an update mode of type telegram: it supports edit, reply or new`},
		{`{name: gc, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", update: edit}`,
			`targets[0] (gc).update: "edit" is not an update mode of type googlechat: it supports reply or new`},
		{`{name: gc, type: googlechat, url: "https://chat.googleapis.com/v1/spaces/A/messages?key=k&token=t", thread_by_group: true, update: reply}`,
			`targets[0] (gc).update: "reply" and thread_by_group both thread a group's notifications`},
		{`{name: lk, type: lark, url: "https://open.feishu.cn/open-apis/bot/v2/hook/T", update: edit}`,
			`targets[0] (lk).update: "edit" needs the app mode`},
		{`{name: lk, type: lark, url: "https://open.feishu.cn", app_id: cli_a1, chat_id: oc_b2, update: edit}`,
			`targets[0] (lk).secret: required with app_id`},
		{`{name: lk, type: lark, url: "https://open.feishu.cn", app_id: cli_a1, chat_id: oc_b2, secret: s, msg_type: post, update: edit}`,
			`targets[0] (lk).update: edit needs msg_type: interactive`},
		{`{name: lk, type: lark, url: "https://open.larksuite.com"}`,
			`targets[0] (lk).url: must be a custom bot webhook`},
	}
	for _, tc := range tests {
		_, err := Parse([]byte("targets:\n  - "+tc.target+"\n"), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error lacks %q:\n%v", tc.want, err)
		}
	}
}

// TestUpdateInAPIModes: Mattermost, Rocket.Chat and Slack edit or answer
// their messages only through their REST API, selected by a secret (the
// token);
// every combination a mode cannot deliver is a load error naming its
// keys, and the token never shows in one.
func TestUpdateInAPIModes(t *testing.T) {
	const (
		mmHook = `url: "https://mm.example.com/hooks/xkeyxsecretxkeyx"`
		mmAPI  = `url: "https://mm.example.com", secret: "xmmtokenxsecretx", channel_id: ch00000000000000000000ops0`
		rcHook = `url: "https://rc.example.com/hooks/xidx/xtokenxsecretx"`
		rcAPI  = `url: "https://rc.example.com", secret: "xrctokenxsecretx", user_id: rcBotUserId0000x, room_id: rcOpsRoom00000000`
		slHook = `url: "https://hooks.slack.com/services/T0/B0/xhookxsecretx"`
		slBot  = `url: "https://slack.com/api/", secret: "xoxb-xsltokenxsecretx"`
	)
	tests := []struct {
		name, target string
		want         []string // nothing: it loads
	}{
		{"mattermost webhook", `{name: t, type: mattermost, ` + mmHook + `}`, nil},
		{"mattermost api, edit", `{name: t, type: mattermost, ` + mmAPI + `, update: edit}`, nil},
		{"mattermost api, reply", `{name: t, type: mattermost, ` + mmAPI + `, update: reply}`, nil},
		{"mattermost webhook, edit", `{name: t, type: mattermost, ` + mmHook + `, update: edit}`,
			[]string{`targets[0] (t).update: edit needs the API mode`}},
		{"mattermost webhook, reply", `{name: t, type: mattermost, ` + mmHook + `, update: reply}`,
			[]string{`targets[0] (t).update: reply needs the API mode`}},
		{"mattermost api without channel_id", `{name: t, type: mattermost, url: "https://mm.example.com", secret: "xmmtokenxsecretx", update: edit}`,
			[]string{`targets[0] (t).channel_id: required with a secret`}},
		{"mattermost api with a bad channel_id", `{name: t, type: mattermost, url: "https://mm.example.com", secret: "xmmtokenxsecretx", channel_id: "town-square"}`,
			[]string{`targets[0] (t).channel_id: "town-square" is not a Mattermost channel id`}},
		{"mattermost token with a webhook url", `{name: t, type: mattermost, url: "https://mm.example.com/hooks/xkeyxsecretxkeyx", secret: "xmmtokenxsecretx", channel_id: ch00000000000000000000ops0}`,
			[]string{`targets[0] (t).url: with a secret (the API mode) the url is the server's address`}},
		{"mattermost token from an unset variable", `{name: t, type: mattermost, url: "https://mm.example.com", secret: "${ALERTBRIDGE_TEST_UNSET_MM_TOKEN}", channel_id: ch00000000000000000000ops0}`,
			[]string{`targets[0] (t).secret: environment variable ALERTBRIDGE_TEST_UNSET_MM_TOKEN is not set`}},
		{"rocketchat webhook", `{name: t, type: rocketchat, ` + rcHook + `}`, nil},
		{"rocketchat api, reply", `{name: t, type: rocketchat, ` + rcAPI + `, update: reply}`, nil},
		{"rocketchat api, edit", `{name: t, type: rocketchat, ` + rcAPI + `, update: edit}`,
			[]string{`targets[0] (t).update: "edit" is not an update mode of type rocketchat: it supports reply or new`}},
		{"rocketchat webhook, reply", `{name: t, type: rocketchat, ` + rcHook + `, update: reply}`,
			[]string{`targets[0] (t).update: reply needs the API mode`}},
		{"rocketchat api without ids", `{name: t, type: rocketchat, url: "https://rc.example.com", secret: "xrctokenxsecretx"}`,
			[]string{`targets[0] (t).room_id: required with a secret`, `targets[0] (t).user_id: required with a secret`}},
		{"rocketchat ids without a token", `{name: t, type: rocketchat, ` + rcHook + `, user_id: rcBotUserId0000x, room_id: rcOpsRoom00000000}`,
			[]string{`targets[0] (t).room_id: a key of the API mode`, `targets[0] (t).user_id: a key of the API mode`}},
		{"slack webhook", `{name: t, type: slack, ` + slHook + `, channel: "#legacy-override"}`, nil},
		{"slack bot, edit", `{name: t, type: slack, ` + slBot + `, channel: C0123ABCD, update: edit}`, nil},
		{"slack bot by channel name, reply", `{name: t, type: slack, ` + slBot + `, channel: "#alerts", update: reply}`, nil},
		{"slack bot to a member, through a proxy", `{name: t, type: slack, url: "http://slack-proxy.internal:8080/api", secret: "xoxb-xsltokenxsecretx", channel: U024BE7LH}`, nil},
		{"slack webhook, edit", `{name: t, type: slack, ` + slHook + `, update: edit}`,
			[]string{`targets[0] (t).update: edit needs a bot token (secret: xoxb-…, url: https://slack.com/api/, channel): an incoming webhook answers "ok" without the message's id`}},
		{"slack webhook, reply", `{name: t, type: slack, ` + slHook + `, update: reply}`,
			[]string{`targets[0] (t).update: reply needs a bot token`}},
		{"slack bot without channel", `{name: t, type: slack, ` + slBot + `, update: edit}`,
			[]string{`targets[0] (t).channel: required with a secret (a bot token)`}},
		{"slack bot with a bad channel", `{name: t, type: slack, ` + slBot + `, channel: "two words"}`,
			[]string{`targets[0] (t).channel: "two words" is neither a Slack channel id`}},
		{"slack token with a webhook url", `{name: t, type: slack, url: "https://hooks.slack.com/services/T0/B0/xhookxsecretx", secret: "xoxb-xsltokenxsecretx", channel: C0123ABCD}`,
			[]string{`targets[0] (t).url: with a secret (a bot token), url is the Web API's base URL (https://slack.com/api/), not an incoming webhook`}},
		{"slack token with the method's url", `{name: t, type: slack, url: "https://slack.com/api/chat.postMessage", secret: "xoxb-xsltokenxsecretx", channel: C0123ABCD}`,
			[]string{`targets[0] (t).url: with a secret (a bot token), url is the Web API's base URL (https://slack.com/api/), without the method name`}},
		{"slack token from an unset variable", `{name: t, type: slack, url: "https://slack.com/api/", secret: "${ALERTBRIDGE_TEST_UNSET_SLACK_TOKEN}", channel: C0123ABCD}`,
			[]string{`targets[0] (t).secret: environment variable ALERTBRIDGE_TEST_UNSET_SLACK_TOKEN is not set`}},
		{"a type that signs nothing still refuses a secret", `{name: t, type: discord, url: "https://discord.com/api/webhooks/1/x", secret: "xsecretx"}`,
			[]string{`targets[0] (t).secret: type discord does not sign requests`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte("targets:\n  - "+tc.target+"\n"), t.TempDir())
			if (err == nil) != (len(tc.want) == 0) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
			for _, secret := range []string{"xmmtokenxsecretx", "xrctokenxsecretx", "xkeyxsecretxkeyx", "xtokenxsecretx", "xsltokenxsecretx", "xhookxsecretx"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("the error quotes a secret:\n%v", err)
				}
			}
		})
	}
}
