package slack_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/slack"
	slackfake "github.com/alertbridge/alertbridge/bridge/notify/slack/fake"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const (
	botToken  = "xoxb-1111-2222-SECRETbottoken"
	channelID = "C0ALERTS01"
	apiURL    = "https://slack.com/api/"
)

func botOptions() *slack.Options {
	return &slack.Options{Channel: channelID, Username: "alertbridge", IconEmoji: ":rotating_light:"}
}

func botNotifier(t *testing.T, mode notify.Update, opts *slack.Options) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = botOptions()
	}
	return notifytest.NewNotifier(t, slack.New, opts, notify.Settings{Name: "sl", URL: apiURL, Secret: botToken, Update: mode})
}

// TestBotRequest: chat.postMessage on the API's base URL, JSON, the token
// as a Bearer credential (never in the URL or body), the channel in the
// body.
func TestBotRequest(t *testing.T) {
	reqs, err := botNotifier(t, notify.UpdateNew, nil).Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL != apiURL+"chat.postMessage" || r.Header.Get("Authorization") != "Bearer "+botToken ||
		r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	if strings.Contains(string(r.Body), botToken) || strings.Contains(r.URL, botToken) {
		t.Error("the token is in the URL or body")
	}
	notifytest.GoldenBodies(t, "bot-mixed", [][]byte{r.Body})
	// A base URL without its final slash (a proxy written without it)
	// still names the method.
	n := notifytest.NewNotifier(t, slack.New, botOptions(), notify.Settings{Name: "sl", URL: "http://127.0.0.1:9/slack/api", Secret: botToken})
	if reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload())); err != nil || reqs[0].URL != "http://127.0.0.1:9/slack/api/chat.postMessage" {
		t.Errorf("base URL without '/': %v %v", reqs, err)
	}
}

// TestBotChannelInTheBody: a target's own template without a channel
// gets the target's; one that names another channel is refused when it
// renders.
func TestBotChannelInTheBody(t *testing.T) {
	tests := []struct {
		name, text string
		want       string // the body built; "" for an error
	}{
		{"no channel", `{"text":"{{ .Status }}"}`, `{"text":"firing","channel":"C0ALERTS01"}`},
		{"the target's channel", `{"channel":"C0ALERTS01","text":"{{ .Status }}"}`, `{"channel":"C0ALERTS01","text":"firing"}`},
		{"another channel", `{"channel":"C0OTHER001","text":"{{ .Status }}"}`, ""},
		{"a bad thread_ts", `{"text":"x","thread_ts":"yesterday"}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			set, err := render.New(render.Options{Inline: []render.Inline{{Name: "own", Text: tc.text, JSON: true}}})
			if err != nil {
				t.Fatal(err)
			}
			n := notifytest.NewNotifier(t, slack.New, botOptions(), notify.Settings{Name: "sl", URL: apiURL, Secret: botToken, Templates: set, BodyTemplate: "own"})
			reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("built %s, want an error", reqs[0].Body)
			case tc.want != "" && (err != nil || string(reqs[0].Body) != tc.want):
				t.Errorf("built %v (%v), want %s", reqs, err, tc.want)
			}
		})
	}
}

// TestClassifyBotAnswers reads Slack's ok:false codes: rate limits and
// Slack's own trouble retry, credentials and channel problems are
// permanent, and an edit or reply of a message that is gone marks Gone.
func TestClassifyBotAnswers(t *testing.T) {
	n := botNotifier(t, notify.UpdateEdit, nil)
	tests := []struct {
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
		ref     string
		gone    bool
	}{
		{200, nil, `{"ok":true,"channel":"C0ALERTS01","ts":"1712345678.000200","message":{"text":"x"}}`, notify.Delivered, "", 0, "C0ALERTS01/1712345678.000200", false},
		{200, nil, `{"ok":true,"channel":"C0ALERTS01","ts":"1712345678.000200","warning":"missing_charset"}`, notify.Delivered, "", 0, "C0ALERTS01/1712345678.000200", false},
		{200, nil, `{"ok":true}`, notify.Delivered, "", 0, "", false},
		{200, nil, `{"ok":true,"channel":"../../x","ts":"1/2"}`, notify.Delivered, "", 0, "", false},
		{429, map[string]string{"Retry-After": "30"}, `{"ok":false,"error":"ratelimited"}`, notify.Retry, notify.ReasonRateLimited, 30 * time.Second, "", false},
		{200, nil, `{"ok":false,"error":"rate_limited"}`, notify.Retry, notify.ReasonRateLimited, 0, "", false},
		{200, nil, `{"ok":false,"error":"internal_error"}`, notify.Retry, notify.ReasonServerError, 0, "", false},
		{503, map[string]string{"Retry-After": "5"}, `{"ok":false,"error":"service_unavailable"}`, notify.Retry, notify.ReasonServerError, 5 * time.Second, "", false},
		{502, nil, `<html>bad gateway</html>`, notify.Retry, notify.ReasonServerError, 0, "", false},
		{200, nil, `<html>sign in</html>`, notify.Permanent, notify.ReasonIMRejected, 0, "", false},
		{200, nil, `{"ok":false,"error":"invalid_auth"}`, notify.Permanent, notify.ReasonAuthError, 0, "", false},
		{200, nil, `{"ok":false,"error":"not_authed"}`, notify.Permanent, notify.ReasonAuthError, 0, "", false},
		{200, nil, `{"ok":false,"error":"token_revoked"}`, notify.Permanent, notify.ReasonAuthError, 0, "", false},
		{200, nil, `{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"incoming-webhook"}`, notify.Permanent, notify.ReasonAuthError, 0, "", false},
		{200, nil, `{"ok":false,"error":"not_in_channel"}`, notify.Permanent, notify.ReasonIMRejected, 0, "", false},
		{200, nil, `{"ok":false,"error":"channel_not_found"}`, notify.Permanent, notify.ReasonIMRejected, 0, "", false},
		{200, nil, `{"ok":false,"error":"is_archived"}`, notify.Permanent, notify.ReasonIMRejected, 0, "", false},
		{200, nil, `{"ok":false,"error":"msg_too_long"}`, notify.Permanent, notify.ReasonTooLarge, 0, "", false},
		{200, nil, `{"ok":false,"error":"too_many_attachments"}`, notify.Permanent, notify.ReasonTooLarge, 0, "", false},
		{200, nil, `{"ok":false,"error":"invalid_blocks","errors":["must be more than 0 characters"]}`, notify.Permanent, notify.ReasonClientError, 0, "", false},
		{200, nil, `{"ok":false,"error":"no_text"}`, notify.Permanent, notify.ReasonClientError, 0, "", false},
		{200, nil, `{"ok":false,"error":"message_not_found"}`, notify.Permanent, notify.ReasonClientError, 0, "", true},
		{200, nil, `{"ok":false,"error":"cant_update_message"}`, notify.Permanent, notify.ReasonClientError, 0, "", true},
		{200, nil, `{"ok":false,"error":"edit_window_closed"}`, notify.Permanent, notify.ReasonClientError, 0, "", true},
		{200, nil, `{"ok":false,"error":"thread_not_found"}`, notify.Permanent, notify.ReasonClientError, 0, "", true},
		{200, nil, `{"ok":false}`, notify.Permanent, notify.ReasonClientError, 0, "", false},
		{200, nil, `{"ok":false,"error":"` + botToken + `"}`, notify.Permanent, notify.ReasonClientError, 0, "", false},
		{404, nil, `{"ok":false,"error":"unknown_method"}`, notify.Permanent, notify.ReasonClientError, 0, "", false},
		{200, nil, `{"ok":"yes"}`, notify.Permanent, notify.ReasonIMRejected, 0, "", false},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait || r.Ref != tc.ref || r.Gone != tc.gone {
			t.Errorf("%d %s: got %v/%s/%s ref %q gone %v, want %v/%s/%s %q %v (%s)", tc.status, tc.body,
				r.Verdict, r.Reason, r.RetryAfter, r.Ref, r.Gone, tc.verdict, tc.reason, tc.wait, tc.ref, tc.gone, r.Message)
		}
		if r.Verdict != notify.Delivered && (r.Message == "" || strings.Contains(r.Message, "SECRETbottoken")) {
			t.Errorf("%d %s: message %q", tc.status, tc.body, r.Message)
		}
	}
}

// TestGoldenBotEditBodies: the chat.update and reply bodies of the mixed
// fixture: the keys chat.update takes, the message's channel id and ts,
// nothing that only concerns a new message (username, icon_emoji).
func TestGoldenBotEditBodies(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	const ref = channelID + "/1712345678.000200"
	for _, mode := range []notify.Update{notify.UpdateEdit, notify.UpdateReply} {
		t.Run(string(mode), func(t *testing.T) {
			n := botNotifier(t, mode, nil)
			reqs, err := n.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			revised := n.Revise(reqs, []string{ref})
			var bodies [][]byte
			for _, r := range revised {
				bodies = append(bodies, r.Body)
			}
			notifytest.GoldenBodies(t, "bot-"+string(mode)+"-mixed", bodies)
			r := revised[0]
			switch mode {
			case notify.UpdateEdit:
				if r.URL != apiURL+"chat.update" || r.Ref != ref || r.Fallback != reqs[0] || r.Header.Get("Authorization") != "Bearer "+botToken {
					t.Errorf("edit %s ref %q fallback %v header %v", r.URL, r.Ref, r.Fallback, r.Header)
				}
				s := string(r.Body)
				if !strings.HasPrefix(s, `{"channel":"C0ALERTS01","ts":"1712345678.000200","text":`) || strings.Contains(s, "username") || strings.Contains(s, "icon_emoji") {
					t.Errorf("edit body %s", s)
				}
			case notify.UpdateReply:
				if r.URL != apiURL+"chat.postMessage" || r.Ref != "" || r.Fallback != reqs[0] || !strings.HasSuffix(string(r.Body), `,"thread_ts":"1712345678.000200"}`) {
					t.Errorf("reply %s fallback %v body %s", r.URL, r.Fallback, r.Body)
				}
			}
		})
	}
}

// TestBotEditClearsWhatTheBodyLeavesOut: Slack keeps the blocks and
// attachments an update leaves out, so an edit sends them empty.
func TestBotEditClearsWhatTheBodyLeavesOut(t *testing.T) {
	tests := []struct{ text, want string }{
		{`{"text":"{{ .Status }}"}`, `{"channel":"C0ALERTS01","ts":"1712345678.000200","text":"firing","blocks":[],"attachments":[]}`},
		{`{"text":"{{ .Status }}","blocks":[{"type":"divider"}]}`, `{"channel":"C0ALERTS01","ts":"1712345678.000200","text":"firing","blocks":[{"type":"divider"}],"attachments":[]}`},
		{`{"markdown_text":"**{{ .Status }}**"}`, `{"channel":"C0ALERTS01","ts":"1712345678.000200","markdown_text":"**firing**"}`},
	}
	for _, tc := range tests {
		set, err := render.New(render.Options{Inline: []render.Inline{{Name: "own", Text: tc.text, JSON: true}}})
		if err != nil {
			t.Fatal(err)
		}
		n := notifytest.NewNotifier(t, slack.New, botOptions(), notify.Settings{Name: "sl", URL: apiURL, Secret: botToken, Templates: set, BodyTemplate: "own", Update: notify.UpdateEdit})
		reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
		if err != nil {
			t.Fatal(err)
		}
		if got := string(n.Revise(reqs, []string{channelID + "/1712345678.000200"})[0].Body); got != tc.want {
			t.Errorf("%s:\n got %s\nwant %s", tc.text, got, tc.want)
		}
	}
}

// TestBotRevise: which remembered messages a target can use.
func TestBotRevise(t *testing.T) {
	firing := notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"])
	tests := []struct {
		name    string
		channel string
		mode    notify.Update
		ref     string
		revised bool
	}{
		{"edit", channelID, notify.UpdateEdit, channelID + "/1712345678.000200", true},
		{"reply", channelID, notify.UpdateReply, channelID + "/1712345678.000200", true},
		{"another channel's message is left", channelID, notify.UpdateEdit, "C0OTHER001/1712345678.000200", false},
		{"another channel's thread is left", channelID, notify.UpdateReply, "C0OTHER001/1712345678.000200", false},
		{"a channel named: its id is what Slack answered", "#alerts", notify.UpdateEdit, "C0ALERTS01/1712345678.000200", true},
		{"a member's direct messages", "U024BE7LH", notify.UpdateEdit, "D0DIRECT01/1712345678.000200", true},
		{"no ts", channelID, notify.UpdateEdit, channelID + "/", false},
		{"a ts that is not one", channelID, notify.UpdateEdit, channelID + "/1712345678", false},
		{"no channel", channelID, notify.UpdateEdit, "1712345678.000200", false},
		{"hostile ref", channelID, notify.UpdateEdit, `C0ALERTS01/1712345678.1","channel":"C0EVIL`, false},
		{"a webhook ref of old", channelID, notify.UpdateEdit, "ok", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := botNotifier(t, tc.mode, &slack.Options{Channel: tc.channel})
			reqs, err := n.Build(context.Background(), firing)
			if err != nil {
				t.Fatal(err)
			}
			r := n.Revise(reqs, []string{tc.ref})[0]
			if revised := r != reqs[0]; revised != tc.revised {
				t.Errorf("revised %v (%s %s), want %v", revised, r.URL, r.Body, tc.revised)
			}
		})
	}
}

// TestWebhookModeNeverRevises: a webhook's answer names no message, so
// a webhook target posts new messages whatever refs it is given (config
// refuses edit and reply for it; this is the notifier's own guard).
func TestWebhookModeNeverRevises(t *testing.T) {
	n := notifytest.NewNotifier(t, slack.New, &slack.Options{}, notify.Settings{Name: "sl", URL: "https://hooks.slack.com/services/T0/B0/XSECRET", Update: notify.UpdateEdit})
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
	if err != nil {
		t.Fatal(err)
	}
	if n.Update() != notify.UpdateNew {
		t.Errorf("mode %s, want new", n.Update())
	}
	if r := n.Revise(reqs, []string{channelID + "/1712345678.000200"}); r[0] != reqs[0] {
		t.Errorf("a webhook target edited: %s", r[0].URL)
	}
}

// deliverer sends groups to the strict fake the way the bridge does.
type deliverer struct {
	*notifytest.Deliverer
	fake *slackfake.API
}

func newDeliverer(t *testing.T, mode notify.Update) *deliverer {
	fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: botToken, ChannelID: channelID, Burst: 10})
	n := notifytest.NewNotifier(t, slack.New, &slack.Options{Channel: "#alerts"}, notify.Settings{Name: "sl", URL: fake.URL, Secret: botToken, Update: mode, Now: time.Now})
	return &deliverer{Deliverer: &notifytest.Deliverer{T: t, N: n}, fake: fake}
}

func texts(ms []slackfake.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestBotEditAgainstTheFake: firing then resolved is one message,
// edited; a deleted message is posted anew; more parts post the extra
// ones, fewer leave the rest.
func TestBotEditAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateEdit)
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{channelID + "/1764670000.000001"}) {
		t.Fatalf("first delivery refs %q", res.Refs)
	}
	d.Deliver(fx["resolved"])
	ms := d.fake.Messages()
	if len(ms) != 1 || ms[0].Edits != 1 || !strings.Contains(ms[0].Text, "RESOLVED") || strings.Contains(ms[0].Text, "FIRING") {
		t.Fatalf("after resolved: %d messages %q, want the one edited", len(ms), texts(ms))
	}
	d.fake.Delete("1764670000.000001")
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{channelID + "/1764670000.000002"}) {
		t.Errorf("after the message was deleted: refs %q, want the new message 2", res.Refs)
	}
	d.Deliver(fx["many"])
	ms = d.fake.Messages()
	if len(ms) < 2 || ms[0].TS != "1764670000.000002" || ms[0].Edits != 1 {
		t.Errorf("many after one: %d messages %q, want message 2 edited and new ones", len(ms), texts(ms))
	}
	parts := len(ms)
	d.Deliver(fx["firing"])
	if ms := d.fake.Messages(); len(ms) != parts || ms[0].Edits != 2 {
		t.Errorf("one after many: %d messages, first edited %d times; want the first edited, the others left", len(ms), ms[0].Edits)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestBotReplyAgainstTheFake: later notifications answer in the first
// message's thread; once that message is gone, they post plainly.
func TestBotReplyAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateReply)
	d.Deliver(fx["firing"])
	d.Deliver(fx["resolved"])
	d.fake.Delete("1764670000.000001")
	d.Deliver(fx["resolved"])
	ms := d.fake.Messages()
	if len(ms) != 2 || ms[0].ThreadTS != "1764670000.000001" || ms[1].ThreadTS != "" || !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Errorf("messages %+v, want the resolved one in the first's thread, then one posted plainly", ms)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestBotPresetBodiesPassTheFake sends every fixture, as built, to the
// strict fake: no violation, and the words FIRING or RESOLVED visible.
func TestBotPresetBodiesPassTheFake(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: botToken, ChannelID: channelID, Burst: chat.DefaultMaxMessages})
			n := notifytest.NewNotifier(t, slack.New, botOptions(), notify.Settings{Name: "sl", URL: fake.URL, Secret: botToken, Now: time.Now})
			res := (&notify.Sender{}).Deliver(context.Background(), http.DefaultClient, n, notifytest.BuildGroup(t, fx[name]), notify.Attempt{})
			if res.Verdict != notify.Delivered || len(fake.Violations()) > 0 {
				t.Fatalf("%+v, violations %q", res, fake.Violations())
			}
			for _, m := range fake.Messages() {
				if !strings.Contains(m.Text, "FIRING") && !strings.Contains(m.Text, "RESOLVED") {
					t.Errorf("message shows neither FIRING nor RESOLVED:\n%s", m.Text)
				}
			}
		})
	}
}

// TestFakeAPIContract: the fake answers as Slack does, and counts what
// the real API would refuse as violations.
func TestFakeAPIContract(t *testing.T) {
	fake := slackfake.NewAPI(t, slackfake.APIOptions{Token: botToken, ChannelID: channelID, ChannelName: "alerts", Burst: 100})
	call := func(base, method, auth, contentType, body string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, base+method, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", contentType)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var ans map[string]any
		if err := json.Unmarshal(raw, &ans); err != nil {
			t.Fatalf("answer is not JSON: %s", raw)
		}
		return resp.StatusCode, ans, resp.Header
	}
	const js = "application/json; charset=utf-8"
	bearer := "Bearer " + botToken
	tests := []struct {
		name, method, auth, ct, body string
		status                       int
		err                          string // "" for ok
		violation                    bool
	}{
		{"post", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":"one","blocks":[{"type":"section","text":{"type":"mrkdwn","text":"a &amp; b"}}]}`, 200, "", false},
		{"post by name", "chat.postMessage", bearer, js, `{"channel":"#alerts","text":"two"}`, 200, "", false},
		{"no token", "chat.postMessage", "", js, `{"channel":"C0ALERTS01","text":"x"}`, 200, "not_authed", true},
		{"wrong token", "chat.postMessage", "Bearer xoxb-other", js, `{"channel":"C0ALERTS01","text":"x"}`, 200, "invalid_auth", true},
		{"a form", "chat.postMessage", bearer, "application/x-www-form-urlencoded", `channel=C0ALERTS01&text=x`, 200, "invalid_form_data", true},
		{"unknown channel", "chat.postMessage", bearer, js, `{"channel":"C0NOTMINE1","text":"x"}`, 200, "channel_not_found", true},
		{"nothing to show", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":" "}`, 200, "no_text", true},
		{"bad blocks", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":"x","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]}`, 200, "invalid_blocks", true},
		{"too long", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":"` + strings.Repeat("x", 40001) + `"}`, 200, "msg_too_long", true},
		{"unknown method", "chat.delete", bearer, js, `{"channel":"C0ALERTS01","ts":"1764670000.000001"}`, 404, "unknown_method", true},
		{"update", "chat.update", bearer, js, `{"channel":"C0ALERTS01","ts":"1764670000.000001","text":"one edited"}`, 200, "", false},
		{"update by name", "chat.update", bearer, js, `{"channel":"#alerts","ts":"1764670000.000001","text":"x"}`, 200, "channel_not_found", true},
		{"update with a new message's key", "chat.update", bearer, js, `{"channel":"C0ALERTS01","ts":"1764670000.000001","text":"x","username":"bot"}`, 200, "invalid_arguments", true},
		{"update without ts", "chat.update", bearer, js, `{"channel":"C0ALERTS01","text":"x"}`, 200, "invalid_arguments", true},
		{"update of an unknown message", "chat.update", bearer, js, `{"channel":"C0ALERTS01","ts":"1764670000.000099","text":"x"}`, 200, "message_not_found", false},
		{"reply", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":"r","thread_ts":"1764670000.000001"}`, 200, "", false},
		{"reply to an unknown thread", "chat.postMessage", bearer, js, `{"channel":"C0ALERTS01","text":"r","thread_ts":"1764670000.000099"}`, 200, "thread_not_found", false},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		status, ans, _ := call(fake.URL, tc.method, tc.auth, tc.ct, tc.body)
		ok, _ := ans["ok"].(bool)
		code, _ := ans["error"].(string)
		if status != tc.status || ok != (tc.err == "") || code != tc.err {
			t.Errorf("%s: %d %v, want %d error %q", tc.name, status, ans, tc.status, tc.err)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.violation)
		}
	}
	ms := fake.Messages()
	if len(ms) != 3 || ms[0].Edits != 1 || ms[0].Text != "a & b" || ms[2].ThreadTS != ms[0].TS {
		// The update left out the blocks: Slack keeps them, and the text
		// is the notification fallback only.
		t.Errorf("messages %+v", ms)
	}
	// One message per second per channel beyond the burst.
	limited := slackfake.NewAPI(t, slackfake.APIOptions{Token: botToken})
	post := `{"channel":"C0ALERTS01","text":"x"}`
	call(limited.URL, "chat.postMessage", bearer, js, post)
	status, ans, h := call(limited.URL, "chat.postMessage", bearer, js, post)
	if status != http.StatusTooManyRequests || ans["error"] != "ratelimited" || h.Get("Retry-After") != "1" {
		t.Errorf("second message in a second: %d %v %v", status, ans, h)
	}
}
