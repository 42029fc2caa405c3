package bridge

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	discordfake "github.com/alertbridge/alertbridge/bridge/notify/discord/fake"
	googlechatfake "github.com/alertbridge/alertbridge/bridge/notify/googlechat/fake"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	mattermostfake "github.com/alertbridge/alertbridge/bridge/notify/mattermost/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	rocketchatfake "github.com/alertbridge/alertbridge/bridge/notify/rocketchat/fake"
	slackfake "github.com/alertbridge/alertbridge/bridge/notify/slack/fake"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// incident returns a one-alert notification of group g: firing, or
// resolved, of the incident that started at minute start.
func incident(g int, status string, start int) []byte {
	starts := fmt.Sprintf("2026-11-23T10:%02d:00Z", start)
	ends := "0001-01-01T00:00:00Z"
	if status == "resolved" {
		ends = fmt.Sprintf("2026-11-23T10:%02d:30Z", start)
	}
	return []byte(fmt.Sprintf(`{"version":"4","groupKey":"{}:{g=\"%d\"}","status":%q,"receiver":"r",
	"groupLabels":{"g":"%d"},"commonLabels":{"alertname":"DiskFull","g":"%d"},"commonAnnotations":{},"externalURL":"http://am",
	"alerts":[{"status":%q,"labels":{"alertname":"DiskFull","g":"%d"},"annotations":{"summary":"disk %s"},
	"startsAt":%q,"endsAt":%q,"generatorURL":"","fingerprint":"%016x"}]}`, g, status, g, g, status, g, status, starts, ends, g))
}

func telegramUpdateConfig(url, update string) string {
	cfg := webhookConfig(`
  - name: tg
    type: telegram
    url: ` + url + `
    chat_id: "-1001234567890"
    rate_limit: {requests: 20, interval: 1m, burst: 10}
`)
	if update != "" {
		cfg += "    update: " + update + "\n"
	}
	return cfg
}

// firingThenRestart delivers a firing notification of group 1 through a
// bridge on storage, stops it and starts another on the same storage.
func firingThenRestart(t *testing.T, cfg, storage string) *testBridge {
	t.Helper()
	first := startBridge(t, cfg, storage)
	postOK(t, first, incident(1, "firing", 0))
	if !eventually(10*time.Second, func() bool { return len(first.list(t, "delivered")) == 1 }) {
		t.Fatal("the firing notification was not delivered")
	}
	first.stop()
	return startBridge(t, cfg, storage)
}

func postOK(t *testing.T, b *testBridge, body []byte) {
	t.Helper()
	if code, ans := b.post(t, "/webhook", body); code != http.StatusOK || ans["duplicate"] == true {
		t.Fatalf("status %d: %v", code, ans)
	}
}

func tgMessages(fake *telegramfake.Telegram) string {
	var s []string
	for _, m := range fake.Messages() {
		s = append(s, fmt.Sprintf("#%d edits=%d reply_to=%d %q", m.ID, m.Edits, m.ReplyTo, m.Text))
	}
	return strings.Join(s, "\n")
}

// TestUpdateTelegramEditsAcrossARestart: firing, a restart, then resolved
// of the same group is one message, edited: the message id survived in
// the store.
func TestUpdateTelegramEditsAcrossARestart(t *testing.T) {
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
	storage := t.TempDir()
	cfg := telegramUpdateConfig(fake.URL, "edit")
	second := firingThenRestart(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 1 }) {
		t.Fatalf("want one message, edited; the chat has:\n%s", tgMessages(fake))
	}
	if ms := fake.Messages(); !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Errorf("the edited message does not say RESOLVED:\n%s", tgMessages(fake))
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateTelegramFallbacks: a message deleted in the chat is posted
// anew (and that one is edited next); a group that fires again after it
// resolved is a new incident, a new message.
func TestUpdateTelegramFallbacks(t *testing.T) {
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
	b := startBridge(t, telegramUpdateConfig(fake.URL, "edit"), "")
	postOK(t, b, incident(1, "firing", 0))
	fake.WaitFor(1, 10*time.Second)
	fake.Delete(1)
	postOK(t, b, incident(1, "firing", 1)) // a second alert's worth of change
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].ID == 2 }) {
		t.Fatalf("the deleted message was not posted anew:\n%s", tgMessages(fake))
	}
	postOK(t, b, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 1 }) {
		t.Fatalf("the new message was not the one edited:\n%s", tgMessages(fake))
	}
	postOK(t, b, incident(1, "firing", 5))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("a new incident of the group did not post a new message:\n%s", tgMessages(fake))
	}
	if ms := fake.Messages(); ms[0].Edits != 1 || ms[1].Edits != 0 || !strings.Contains(ms[0].Text, "RESOLVED") || !strings.Contains(ms[1].Text, "FIRING") {
		t.Errorf("chat:\n%s", tgMessages(fake))
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateTelegramNewAndReply: update: new posts every notification;
// update: reply answers the first message.
func TestUpdateTelegramNewAndReply(t *testing.T) {
	for _, mode := range []string{"new", "reply"} {
		t.Run(mode, func(t *testing.T) {
			fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
			b := startBridge(t, telegramUpdateConfig(fake.URL, mode), "")
			postOK(t, b, incident(1, "firing", 0))
			fake.WaitFor(1, 10*time.Second)
			postOK(t, b, incident(1, "resolved", 0))
			fake.WaitFor(2, 10*time.Second)
			ms := fake.Messages()
			want := int64(0)
			if mode == "reply" {
				want = 1
			}
			if len(ms) != 2 || ms[0].Edits != 0 || ms[1].ReplyTo != want {
				t.Errorf("chat:\n%s", tgMessages(fake))
			}
		})
	}
}

// TestUpdateDiscordEditsAcrossARestart: the same for a Discord webhook:
// firing, a restart, resolved is one message, edited through PATCH; a
// deleted message is posted anew.
func TestUpdateDiscordEditsAcrossARestart(t *testing.T) {
	fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{})
	storage := t.TempDir()
	cfg := webhookConfig(`
  - name: dc
    type: discord
    url: ` + fake.URL + `
    username: Alertmanager
    update: edit
`)
	second := firingThenRestart(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 1 }) {
		t.Fatalf("want one message, edited; the channel has %+v", fake.Messages())
	}
	if ms := fake.Messages(); !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Errorf("the edited message does not say RESOLVED: %q", ms[0].Text)
	}
	fake.Delete(fake.Messages()[0].ID)
	postOK(t, second, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 0 }) {
		t.Fatalf("the deleted message was not posted anew: %+v", fake.Messages())
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateGoogleChatRepliesAcrossARestart: with update: reply, firing,
// a restart, then resolved of the same group puts the resolved message in
// the thread of the firing one (the thread's name survived in the store);
// once that thread is deleted, Google Chat starts a new one.
func TestUpdateGoogleChatRepliesAcrossARestart(t *testing.T) {
	fake := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{})
	storage := t.TempDir()
	cfg := webhookConfig(`
  - name: gc
    type: googlechat
    url: '` + fake.URL + `'
    update: reply
`)
	second := firingThenRestart(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("want two messages; the space has %+v", fake.Messages())
	}
	ms := fake.Messages()
	if ms[0].Reply || !ms[1].Reply || ms[1].Thread != ms[0].Thread || !strings.Contains(ms[1].Text, "RESOLVED") {
		t.Fatalf("the resolved message is not a reply in the firing one's thread: %+v", ms)
	}
	postOK(t, second, incident(2, "firing", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 3 }) {
		t.Fatalf("another group's message did not arrive: %+v", fake.Messages())
	}
	if ms := fake.Messages(); ms[2].Reply || ms[2].Thread == ms[0].Thread {
		t.Errorf("another group's first message joined a thread: %+v", ms[2])
	}
	fake.DeleteThread(ms[0].Thread)
	postOK(t, second, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("after the thread was deleted: %+v", fake.Messages())
	}
	if ms := fake.Messages(); ms[1].Reply || ms[1].Thread == ms[0].Thread {
		t.Errorf("the message for a deleted thread did not start a new one: %+v", ms)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateGoogleChatNew: without update, each notification starts a
// thread of its own.
func TestUpdateGoogleChatNew(t *testing.T) {
	fake := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{})
	b := startBridge(t, webhookConfig(`
  - name: gc
    type: googlechat
    url: '`+fake.URL+`'
`), "")
	postOK(t, b, incident(1, "firing", 0))
	fake.WaitFor(1, 10*time.Second)
	postOK(t, b, incident(1, "resolved", 0))
	fake.WaitFor(2, 10*time.Second)
	if ms := fake.Messages(); len(ms) != 2 || ms[1].Reply || ms[0].Thread == ms[1].Thread {
		t.Errorf("space: %+v", ms)
	}
}

const (
	mmToken   = "xmmbotxtokenxsecret0123"
	mmChannel = "ch00000000000000000000ops0"
)

func mattermostUpdateConfig(fake *mattermostfake.Mattermost, update string) string {
	return webhookConfig(`
  - name: mm
    type: mattermost
    url: ` + fake.ServerURL + `
    secret: ` + mmToken + `
    channel_id: ` + mmChannel + `
    msg_type: attachments
    update: ` + update + `
`)
}

func mmPosts(fake *mattermostfake.Mattermost) string {
	var s []string
	for _, p := range fake.Posts() {
		s = append(s, fmt.Sprintf("%s edits=%d root=%q %q", p.ID, p.Edits, p.RootID, p.Text))
	}
	return strings.Join(s, "\n")
}

// TestUpdateMattermostEditsAcrossARestart: through the REST API (a bot
// token), firing, a restart, then resolved of the same group is one post,
// patched, its attachments replaced; a deleted post is posted anew, and
// that one is patched next.
func TestUpdateMattermostEditsAcrossARestart(t *testing.T) {
	fake := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Token: mmToken, ChannelID: mmChannel})
	storage := t.TempDir()
	cfg := mattermostUpdateConfig(fake, "edit")
	second := firingThenRestart(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { ps := fake.Posts(); return len(ps) == 1 && ps[0].Edits == 1 }) {
		t.Fatalf("want one post, patched; the channel has:\n%s", mmPosts(fake))
	}
	if ps := fake.Posts(); !strings.Contains(ps[0].Text, "RESOLVED") || strings.Contains(ps[0].Text, "FIRING") {
		t.Errorf("the patched post does not show the group resolved:\n%s", mmPosts(fake))
	}
	fake.Delete(fake.Posts()[0].ID)
	postOK(t, second, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { ps := fake.Posts(); return len(ps) == 1 && ps[0].Edits == 0 }) {
		t.Fatalf("the deleted post was not posted anew:\n%s", mmPosts(fake))
	}
	postOK(t, second, incident(1, "resolved", 2))
	if !eventually(10*time.Second, func() bool { ps := fake.Posts(); return len(ps) == 1 && ps[0].Edits == 1 }) {
		t.Fatalf("the new post was not the one patched:\n%s", mmPosts(fake))
	}
	for _, r := range fake.Attempts() {
		if r.Header.Get("Authorization") != "Bearer "+mmToken {
			t.Errorf("%s without the token", r.Path)
		}
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateMattermostReplies: update: reply answers the group's first
// post in its thread, also after a restart.
func TestUpdateMattermostReplies(t *testing.T) {
	fake := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Token: mmToken, ChannelID: mmChannel})
	second := firingThenRestart(t, mattermostUpdateConfig(fake, "reply"), t.TempDir())
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Posts()) == 2 }) {
		t.Fatalf("want two posts:\n%s", mmPosts(fake))
	}
	if ps := fake.Posts(); ps[1].RootID != ps[0].ID || ps[0].RootID != "" || !strings.Contains(ps[1].Text, "RESOLVED") {
		t.Errorf("want the resolved post in the thread of the firing one:\n%s", mmPosts(fake))
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateMattermostBadToken: a token the server refuses fails the
// delivery at once (no retries), and no result shows it.
func TestUpdateMattermostBadToken(t *testing.T) {
	fake := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Token: "another-token-0123456789", ChannelID: mmChannel})
	b := startBridge(t, mattermostUpdateConfig(fake, "edit"), "")
	postOK(t, b, incident(1, "firing", 0))
	if !eventually(10*time.Second, func() bool { return len(b.list(t, "dead")) == 1 }) {
		t.Fatalf("the delivery did not fail permanently; the fake saw %d requests", len(fake.Attempts()))
	}
	if n := len(fake.Attempts()); n != 0 {
		t.Errorf("%d requests counted as well-formed", n)
	}
	if v := fake.Violations(); len(v) != 1 {
		t.Errorf("violations %q, want the one refused request", v)
	}
	if s := fmt.Sprint(b.list(t, "dead")); strings.Contains(s, mmToken) || !strings.Contains(s, "401") {
		t.Errorf("dead letter: %s", s)
	}
}

// TestUpdateRocketChatReplies: through the REST API (a personal access
// token), update: reply answers the group's first message in its thread,
// across a restart.
func TestUpdateRocketChatReplies(t *testing.T) {
	const (
		user, token, room = "rcBotUserId0000x", "xrcauthxtokenxsecret0123", "rcOpsRoom00000000"
	)
	fake := rocketchatfake.NewRocketChat(t, rocketchatfake.RocketChatOptions{UserID: user, AuthToken: token, RoomID: room})
	cfg := webhookConfig(`
  - name: rc
    type: rocketchat
    url: ` + fake.ServerURL + `
    secret: ` + token + `
    user_id: ` + user + `
    room_id: ` + room + `
    update: reply
`)
	second := firingThenRestart(t, cfg, t.TempDir())
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("want two messages, got %+v", fake.Messages())
	}
	if ms := fake.Messages(); ms[0].TMID != "" || ms[1].TMID != ms[0].ID || !strings.Contains(ms[1].Text, "RESOLVED") {
		t.Errorf("want the resolved message in the thread of the firing one: %+v", ms)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

func slackBotConfig(url, update string) string {
	return webhookConfig(`
  - name: sl
    type: slack
    url: ` + url + `
    secret: xoxb-1111-2222-e2eslacktoken
    channel: "#alerts"
    update: ` + update + `
`)
}

func slackMessages(fake *slackfake.API) string {
	var s []string
	for _, m := range fake.Messages() {
		s = append(s, fmt.Sprintf("%s edits=%d thread=%s %q", m.TS, m.Edits, m.ThreadTS, m.Text))
	}
	return strings.Join(s, "\n")
}

// TestUpdateSlackBotEditsAcrossARestart: with a bot token, firing, a
// restart, then resolved of the same group is one message, edited through
// chat.update: the channel id and ts survived in the store. A message
// deleted in the channel is posted anew.
func TestUpdateSlackBotEditsAcrossARestart(t *testing.T) {
	fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: "xoxb-1111-2222-e2eslacktoken", Burst: 2})
	storage := t.TempDir()
	cfg := slackBotConfig(fake.URL, "edit")
	second := firingThenRestart(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 1 }) {
		t.Fatalf("want one message, edited; the channel has:\n%s", slackMessages(fake))
	}
	if ms := fake.Messages(); !strings.Contains(ms[0].Text, "RESOLVED") || strings.Contains(ms[0].Text, "FIRING") {
		t.Errorf("the edited message does not say RESOLVED (alone):\n%s", slackMessages(fake))
	}
	fake.Delete(fake.Messages()[0].TS)
	postOK(t, second, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 0 }) {
		t.Fatalf("the deleted message was not posted anew:\n%s", slackMessages(fake))
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateSlackBotReplyAndNew: update: reply answers in the first
// message's thread; update: new posts every notification.
func TestUpdateSlackBotReplyAndNew(t *testing.T) {
	for _, mode := range []string{"new", "reply"} {
		t.Run(mode, func(t *testing.T) {
			// Slack lets short bursts through; the bridge's one per second
			// may reach it a little early after a slow first request.
			fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: "xoxb-1111-2222-e2eslacktoken", Burst: 2})
			b := startBridge(t, slackBotConfig(fake.URL, mode), "")
			postOK(t, b, incident(1, "firing", 0))
			fake.WaitFor(1, 10*time.Second)
			postOK(t, b, incident(1, "resolved", 0))
			fake.WaitFor(2, 10*time.Second)
			ms := fake.Messages()
			want := ""
			if mode == "reply" {
				want = ms[0].TS
			}
			if len(ms) != 2 || ms[0].Edits != 0 || ms[1].ThreadTS != want || !strings.Contains(ms[1].Text, "RESOLVED") {
				t.Errorf("channel:\n%s", slackMessages(fake))
			}
			if v := fake.Violations(); len(v) > 0 {
				t.Errorf("violations %q", v)
			}
		})
	}
}

// TestUpdateSlackBotBadToken: a token Slack refuses is a permanent
// failure whose message names the cause and never the token.
func TestUpdateSlackBotBadToken(t *testing.T) {
	fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: "xoxb-the-right-one"})
	b := startBridge(t, slackBotConfig(fake.URL, "edit"), "")
	postOK(t, b, incident(1, "firing", 0))
	var dead []map[string]any
	if !eventually(10*time.Second, func() bool { dead = b.list(t, "dead"); return len(dead) == 1 }) {
		t.Fatalf("no dead letter; delivered %v", b.list(t, "delivered"))
	}
	msg := fmt.Sprint(dead[0])
	if !strings.Contains(msg, "invalid_auth") || strings.Contains(msg, "e2eslacktoken") {
		t.Errorf("dead letter %s", msg)
	}
	if len(fake.Messages()) != 0 {
		t.Errorf("posted with a wrong token:\n%s", slackMessages(fake))
	}
}

func larkAppConfig(url, update string) string {
	return webhookConfig(`
  - name: lk
    type: lark
    url: ` + url + `
    app_id: cli_fakeapp
    chat_id: oc_fakechat
    secret: fake-app-secret
    update: ` + update + `
`)
}

// TestUpdateLarkAppEditsAcrossARestart: through a Lark app's bot, firing,
// a restart, then resolved of the same group is one card, updated: the
// message id survived in the store, the new process got its own token; a
// recalled card is posted anew.
func TestUpdateLarkAppEditsAcrossARestart(t *testing.T) {
	fake := larkfake.NewApp(t, larkfake.AppOptions{})
	storage := t.TempDir()
	second := firingThenRestart(t, larkAppConfig(fake.URL, "edit"), storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { ms := fake.Messages(); return len(ms) == 1 && ms[0].Edits == 1 }) {
		t.Fatalf("want one card, updated; the chat has %+v", fake.Messages())
	}
	if ms := fake.Messages(); !strings.Contains(ms[0].Text, "RESOLVED") || fake.TokensIssued() != 2 {
		t.Errorf("card %q, %d tokens (want RESOLVED, one token per process)", ms[0].Text, fake.TokensIssued())
	}
	fake.Recall(fake.Messages()[0].ID)
	fake.RevokeTokens()
	postOK(t, second, incident(1, "resolved", 1))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("the recalled card was not posted anew: %+v", fake.Messages())
	}
	if ms := fake.Messages(); ms[1].Edits != 0 || ms[1].ReplyTo != "" || fake.TokensIssued() != 3 {
		t.Errorf("chat %+v, %d tokens", ms, fake.TokensIssued())
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestUpdateLarkAppReplies: with update: reply the resolved notification
// answers the firing one.
func TestUpdateLarkAppReplies(t *testing.T) {
	fake := larkfake.NewApp(t, larkfake.AppOptions{})
	b := startBridge(t, larkAppConfig(fake.URL, "reply"), "")
	postOK(t, b, incident(1, "firing", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 1 }) {
		t.Fatalf("firing: %+v", fake.Messages())
	}
	postOK(t, b, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("resolved: %+v", fake.Messages())
	}
	if ms := fake.Messages(); ms[1].ReplyTo != ms[0].ID || ms[0].Edits != 0 {
		t.Errorf("chat %+v", ms)
	}
}

// updateTested are the types whose updates in place the tests above run
// against their strict fakes, end to end.
var updateTested = map[string]bool{"telegram": true, "discord": true, "googlechat": true, "mattermost": true, "rocketchat": true, "slack": true, "lark": true}

// TestEveryUpdatingTypeHasAnUpdateTest: a type that registers an update
// mode besides new needs its end-to-end test here, and its default mode
// must be one it registered.
func TestEveryUpdatingTypeHasAnUpdateTest(t *testing.T) {
	for _, typ := range registry.Types() {
		in, _, _ := registry.Lookup(typ)
		if len(in.Updates) == 0 {
			if in.DefaultUpdate != "" && in.DefaultUpdate != notify.UpdateNew {
				t.Errorf("%s: default update %q without the mode registered", typ, in.DefaultUpdate)
			}
			continue
		}
		if !updateTested[typ] {
			t.Errorf("%s supports update %v but has no end-to-end update test", typ, in.Updates)
		}
		if in.DefaultUpdate != "" && !in.SupportsUpdate(in.DefaultUpdate) {
			t.Errorf("%s: default update %q is not one of its modes", typ, in.DefaultUpdate)
		}
	}
}

// TestUpdateExpiredMessagesPostNew: once the group's record expired, its
// next notification posts a new message; the record then names it.
func TestUpdateExpiredMessagesPostNew(t *testing.T) {
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
	storage := t.TempDir()
	cfg := telegramUpdateConfig(fake.URL, "edit")
	firingThenRestart(t, cfg, storage).stop()

	db, err := store.Open(storage, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	const key = `{}:{g="1"}`
	rec, ok, err := db.MessageRefs("tg", key)
	if err != nil || !ok || len(rec.Refs) != 1 || rec.Refs[0] != "-1001234567890/1" || rec.Resolved || !rec.Expires.After(time.Now().Add(6*24*time.Hour)) {
		t.Fatalf("record after a firing delivery: %+v %v %v (want message 1, expiring with global.alert_retention)", rec, ok, err)
	}
	rec.Expires = time.Now().Add(-time.Second)
	if err := db.SaveMessageRefs("tg", key, rec); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	second := startBridge(t, cfg, storage)
	postOK(t, second, incident(1, "resolved", 0))
	if !eventually(10*time.Second, func() bool { return len(fake.Messages()) == 2 }) {
		t.Fatalf("an expired record was used:\n%s", tgMessages(fake))
	}
	second.stop()
	db, err = store.Open(storage, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rec, ok, err = db.MessageRefs("tg", key)
	if err != nil || !ok || len(rec.Refs) != 1 || rec.Refs[0] != "-1001234567890/2" || !rec.Resolved ||
		rec.Expires.After(time.Now().Add(DefaultMessageRetention)) || !rec.Expires.After(time.Now().Add(DefaultMessageRetention-time.Minute)) {
		t.Errorf("record after the resolved delivery: %+v %v %v (want message 2, resolved, kept for a day)", rec, ok, err)
	}
}
