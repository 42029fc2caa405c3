package lark_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/lark"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const (
	appBase   = "https://open.feishu.cn"
	appID     = "cli_a1b2c3"
	appChat   = "oc_9f8e7d"
	appSecret = "S3cr3t-app-secret-value"
	msgRef    = "om_dc13264520392913993dd051dba21dcf"
)

// clock is a settable clock for token expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func appNotifier(t *testing.T, base string, opts *lark.Options, mode notify.Update, now func() time.Time) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = &lark.Options{}
	}
	opts.AppID, opts.ChatID = appID, appChat
	if now == nil {
		now = func() time.Time { return notifytest.FixedNow }
	}
	return notifytest.NewNotifier(t, lark.New, opts, notify.Settings{Name: "lark", URL: base, Secret: appSecret, Update: mode, Now: now})
}

func TestAppOptionsValidate(t *testing.T) {
	tests := []struct {
		opts lark.Options
		want string
	}{
		{lark.Options{AppID: appID, ChatID: appChat}, ""},
		{lark.Options{ChatID: appChat}, "chat_id: only with app_id"},
		{lark.Options{AppID: appID}, "chat_id: required with app_id"},
		{lark.Options{AppID: "a1b2c3", ChatID: appChat}, "app_id: must be the app's App ID"},
		{lark.Options{AppID: appID, ChatID: "ou_user"}, "chat_id: must be a chat id"},
		{lark.Options{AppID: appID, ChatID: `oc_x","receive_id":"oc_y`}, "chat_id: must be a chat id"},
	}
	for _, tc := range tests {
		err := tc.opts.Validate()
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%+v: %v, want %q", tc.opts, err, tc.want)
		}
	}
}

// TestCheckTarget: the custom bot neither edits nor replies and takes a
// webhook; the app mode needs its secret and the platform's address, and
// edits cards only.
func TestCheckTarget(t *testing.T) {
	app := func(msgType string) *lark.Options {
		o := &lark.Options{AppID: appID, ChatID: appChat, MsgType: msgType}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		return o
	}
	bot := &lark.Options{}
	if err := bot.Validate(); err != nil {
		t.Fatal(err)
	}
	parse := func(s string) *url.URL { u, _ := url.Parse(s); return u }
	tests := []struct {
		name   string
		target registry.Target
		want   string
	}{
		{"bot", registry.Target{Options: bot, URL: parse(hookURL), Update: notify.UpdateNew}, ""},
		{"bot edit", registry.Target{Options: bot, URL: parse(hookURL), Update: notify.UpdateEdit}, `update: "edit" needs the app mode`},
		{"bot reply", registry.Target{Options: bot, URL: parse(hookURL), Update: notify.UpdateReply}, `update: "reply" needs the app mode`},
		{"bot on the bare address", registry.Target{Options: bot, URL: parse(appBase), Update: notify.UpdateNew}, "url: must be a custom bot webhook"},
		{"bot behind a proxy", registry.Target{Options: bot, URL: parse("https://proxy.example/lark"), Update: notify.UpdateNew}, ""},
		{"app edit", registry.Target{Options: app(lark.Interactive), URL: parse(appBase), Secret: true, Update: notify.UpdateEdit}, ""},
		{"app reply with a post", registry.Target{Options: app(lark.Post), URL: parse("https://open.larksuite.com/"), Secret: true, Update: notify.UpdateReply}, ""},
		{"app behind a proxy", registry.Target{Options: app(lark.Interactive), URL: parse("https://proxy.example/feishu"), Secret: true, Update: notify.UpdateEdit}, ""},
		{"app without a secret", registry.Target{Options: app(lark.Interactive), URL: parse(appBase), Update: notify.UpdateNew}, "secret: required with app_id"},
		{"app on a webhook", registry.Target{Options: app(lark.Interactive), URL: parse(hookURL), Secret: true, Update: notify.UpdateNew}, "not a custom bot webhook"},
		{"app on an API path", registry.Target{Options: app(lark.Interactive), URL: parse(appBase + "/open-apis/im/v1/messages"), Secret: true, Update: notify.UpdateNew}, "without a path"},
		{"app edits a text", registry.Target{Options: app(lark.Text), URL: parse(appBase), Secret: true, Update: notify.UpdateEdit}, "update: edit needs msg_type: interactive"},
	}
	for _, tc := range tests {
		err := lark.CheckTarget(tc.target)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "TOKEN") {
			t.Errorf("%s: the error quotes the url: %v", tc.name, err)
		}
	}
}

// TestGoldenAppBodies: the message API's bodies for each msg_type, and a
// card's update and reply: the custom bot body's message as content
// text, the chat as receive_id.
func TestGoldenAppBodies(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	for _, mt := range []string{lark.Interactive, lark.Post, lark.Text} {
		t.Run(mt, func(t *testing.T) {
			n := appNotifier(t, appBase, &lark.Options{MsgType: mt}, notify.UpdateReply, nil)
			reqs, err := n.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			var bodies [][]byte
			for _, r := range reqs {
				bodies = append(bodies, r.Body)
				if r.Method != http.MethodPost || r.URL != appBase+"/open-apis/im/v1/messages?receive_id_type=chat_id" || r.Header.Get("Authorization") != "" {
					t.Errorf("send %s %s %v", r.Method, r.URL, r.Header)
				}
				var m struct{ ReceiveID, MsgType, Content string }
				if err := json.Unmarshal(r.Body, &struct {
					ReceiveID *string `json:"receive_id"`
					MsgType   *string `json:"msg_type"`
					Content   *string `json:"content"`
				}{&m.ReceiveID, &m.MsgType, &m.Content}); err != nil || m.ReceiveID != appChat || m.MsgType != mt || !json.Valid([]byte(m.Content)) {
					t.Errorf("body %s", r.Body)
				}
			}
			notifytest.GoldenBodies(t, "app-"+mt+"-mixed", bodies)
			reply := n.Revise(reqs, []string{msgRef})[0]
			if reply.Method != http.MethodPost || reply.URL != appBase+"/open-apis/im/v1/messages/"+msgRef+"/reply" || reply.Fallback != reqs[0] || strings.Contains(string(reply.Body), "receive_id") {
				t.Errorf("reply %s %s %s", reply.Method, reply.URL, reply.Body)
			}
		})
	}
	n := appNotifier(t, appBase, nil, notify.UpdateEdit, nil)
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	edit := n.Revise(reqs, []string{msgRef})[0]
	notifytest.GoldenBodies(t, "app-edit-mixed", [][]byte{edit.Body})
	if edit.Method != http.MethodPatch || edit.URL != appBase+"/open-apis/im/v1/messages/"+msgRef || edit.Ref != msgRef || edit.Fallback != reqs[0] {
		t.Errorf("edit %s %s ref %q", edit.Method, edit.URL, edit.Ref)
	}
	for _, ref := range []string{"", "om_x/../../y", "-1001/42", `om_a","content":"x`} {
		if got := n.Revise(reqs, []string{ref}); got[0] != reqs[0] {
			t.Errorf("ref %q was used: %s", ref, got[0].URL)
		}
	}
}

// TestAppCheck: the API's own size limits apply to the message as it is
// sent, and an edited card must be shared.
func TestAppCheck(t *testing.T) {
	big := strings.Repeat(`\"x\" `, 6000) // each quote escaped again in content
	set, err := render.New(render.Options{Inline: []render.Inline{
		{Name: "big", Text: `{"msg_type":"interactive","card":{"schema":"2.0","body":{"elements":[{"tag":"markdown","content":"` + big + `"}]}}}`},
		{Name: "v1", Text: `{"msg_type":"interactive","card":{"elements":[{"tag":"markdown","content":"x"}]}}`},
		{Name: "v1shared", Text: `{"msg_type":"interactive","card":{"config":{"update_multi":true},"elements":[{"tag":"markdown","content":"x"}]}}`},
	}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		tmpl string
		mode notify.Update
		want string
	}{
		{"big", notify.UpdateNew, "over the limit of 30720"},
		{"v1", notify.UpdateEdit, "the card must be shared"},
		{"v1", notify.UpdateReply, ""},
		{"v1shared", notify.UpdateEdit, ""},
	}
	for _, tc := range tests {
		n, err := lark.New(notify.Settings{Name: "lark", URL: appBase, Secret: appSecret, Templates: set, BodyTemplate: tc.tmpl, Update: tc.mode,
			Options: &lark.Options{AppID: appID, ChatID: appChat, MsgType: lark.Interactive, Locale: lark.EnUS}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%s %s: %v, want %q", tc.tmpl, tc.mode, err, tc.want)
		}
	}
}

func TestAppClassify(t *testing.T) {
	n := appNotifier(t, appBase, nil, notify.UpdateEdit, nil)
	tests := []struct {
		name    string
		status  int
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		ref     string
		gone    bool
		reauth  bool
	}{
		{"sent", 200, `{"code":0,"msg":"success","data":{"message_id":"` + msgRef + `","chat_id":"` + appChat + `"}}`, notify.Delivered, "", msgRef, false, false},
		{"updated", 200, `{"code":0,"msg":"success","data":{}}`, notify.Delivered, "", "", false, false},
		{"another chat's message", 200, `{"code":0,"data":{"message_id":"om_1","chat_id":"oc_other"}}`, notify.Delivered, "", "", false, false},
		{"a hostile id", 200, `{"code":0,"data":{"message_id":"om_1/../x"}}`, notify.Delivered, "", "", false, false},
		{"token invalid", 400, `{"code":99991663,"msg":"Invalid access token for authorization."}`, notify.Permanent, notify.ReasonAuthError, "", false, true},
		{"token missing", 400, `{"code":99991661,"msg":"Missing access token"}`, notify.Permanent, notify.ReasonAuthError, "", false, true},
		{"recalled", 400, `{"code":230011,"msg":"The message is recalled."}`, notify.Permanent, notify.ReasonClientError, "", true, false},
		{"too old to edit", 400, `{"code":230031,"msg":"Message can only be modified within 14 days after sending."}`, notify.Permanent, notify.ReasonClientError, "", true, false},
		{"frequency", 400, `{"code":230020,"msg":"This operation triggers the frequency limit."}`, notify.Retry, notify.ReasonRateLimited, "", false, false},
		{"bot not in chat", 400, `{"code":230002,"msg":"The bot can not be outside the group."}`, notify.Permanent, notify.ReasonAuthError, "", false, false},
		{"too long", 400, `{"code":230025,"msg":"The length of the message content reaches its limit."}`, notify.Permanent, notify.ReasonTooLarge, "", false, false},
		{"invalid", 400, `{"code":230001,"msg":"invalid request parameter"}`, notify.Permanent, notify.ReasonIMRejected, "", false, false},
		{"no code", 200, `<html>gateway</html>`, notify.Retry, notify.ReasonIMRejected, "", false, false},
		{"server", 502, `bad gateway`, notify.Retry, notify.ReasonServerError, "", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.Ref != tc.ref || r.Gone != tc.gone || r.Reauth != tc.reauth {
				t.Errorf("got %v/%s ref %q gone %v reauth %v (%s)", r.Verdict, r.Reason, r.Ref, r.Gone, r.Reauth, r.Message)
			}
		})
	}
}

// TestAppTokenIsCached: a token is asked for when none is held, kept
// until five minutes before it expires, and dropped when refused.
func TestAppTokenIsCached(t *testing.T) {
	c := &clock{now: notifytest.FixedNow}
	n := appNotifier(t, appBase, nil, notify.UpdateNew, c.Now)
	tr := n.TokenRequest(false)
	if tr == nil || tr.Method != http.MethodPost || tr.URL != appBase+"/open-apis/auth/v3/tenant_access_token/internal" {
		t.Fatalf("token request %+v", tr)
	}
	var creds map[string]string
	if err := json.Unmarshal(tr.Body, &creds); err != nil || creds["app_id"] != appID || creds["app_secret"] != appSecret || len(creds) != 2 {
		t.Fatalf("token request body %s", tr.Body)
	}
	if r := n.TokenAnswer(&notify.Response{StatusCode: 200, Body: []byte(`{"code":0,"msg":"ok","tenant_access_token":"t-abc","expire":7200}`)}); r.Verdict != notify.Delivered {
		t.Fatalf("answer %+v", r)
	}
	if got := n.Authorize(&notify.Request{URL: "x", Header: http.Header{}}).Header.Get("Authorization"); got != "Bearer t-abc" {
		t.Errorf("Authorization %q", got)
	}
	c.Add(114 * time.Minute)
	if n.TokenRequest(false) != nil {
		t.Error("a token good for 6 more minutes was fetched again")
	}
	if n.TokenRequest(true) == nil {
		t.Error("a refused token was not fetched again")
	}
	n.TokenAnswer(&notify.Response{StatusCode: 200, Body: []byte(`{"code":0,"tenant_access_token":"t-def","expire":7200}`)})
	c.Add(116 * time.Minute)
	if n.TokenRequest(false) == nil {
		t.Error("a token with 4 minutes left was used")
	}
	for _, tc := range []struct {
		status int
		body   string
		reason notify.Reason
	}{
		{400, `{"code":10014,"msg":"app secret invalid"}`, notify.ReasonAuthError},
		{200, `{"code":0,"msg":"ok"}`, notify.ReasonAuthError}, // no token in it
		{200, `not json`, notify.ReasonServerError},
		{503, ``, notify.ReasonServerError},
		{200, `{"code":99991400,"msg":"request trigger frequency limit"}`, notify.ReasonRateLimited},
	} {
		if r := n.TokenAnswer(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)}); r.Verdict == notify.Delivered || r.Reason != tc.reason {
			t.Errorf("%d %s: %+v", tc.status, tc.body, r)
		}
	}
}

func appDeliver(t *testing.T, n notify.Notifier, fixture []byte, refs []string) notify.Result {
	t.Helper()
	return (&notify.Sender{}).Deliver(context.Background(), http.DefaultClient, n, notifytest.BuildGroup(t, fixture),
		notify.Attempt{Refs: refs, Redact: notify.NewRedactor(appSecret)})
}

// TestAppEditAgainstTheFake: firing then resolved is one card, updated;
// the token is fetched once, again when revoked or expired; a recalled
// card is posted anew.
func TestAppEditAgainstTheFake(t *testing.T) {
	c := &clock{now: notifytest.FixedNow}
	fake := larkfake.NewApp(t, larkfake.AppOptions{AppID: appID, AppSecret: appSecret, ChatID: appChat, Now: c.Now})
	n := appNotifier(t, fake.URL, nil, notify.UpdateEdit, c.Now)
	fx := notifytest.Fixtures(t)
	first := appDeliver(t, n, fx["firing"], nil)
	if first.Verdict != notify.Delivered || len(first.Refs) != 1 {
		t.Fatalf("first %+v", first)
	}
	if r := appDeliver(t, n, fx["resolved"], first.Refs); r.Verdict != notify.Delivered || r.Refs[0] != first.Refs[0] {
		t.Fatalf("resolved %+v", r)
	}
	ms := fake.Messages()
	if len(ms) != 1 || ms[0].Edits != 1 || !strings.Contains(ms[0].Text, "RESOLVED") || fake.TokensIssued() != 1 {
		t.Fatalf("after resolved: %+v, %d tokens", ms, fake.TokensIssued())
	}
	fake.RevokeTokens()
	if r := appDeliver(t, n, fx["firing"], first.Refs); r.Verdict != notify.Delivered || fake.TokensIssued() != 2 {
		t.Fatalf("after the token was revoked: %+v, %d tokens", r, fake.TokensIssued())
	}
	c.Add(2 * time.Hour)
	if r := appDeliver(t, n, fx["resolved"], first.Refs); r.Verdict != notify.Delivered || fake.TokensIssued() != 3 {
		t.Fatalf("after the token expired: %+v, %d tokens", r, fake.TokensIssued())
	}
	fake.Recall(first.Refs[0])
	again := appDeliver(t, n, fx["firing"], first.Refs)
	ms = fake.Messages()
	if again.Verdict != notify.Delivered || len(ms) != 2 || again.Refs[0] != ms[1].ID || ms[1].Edits != 0 {
		t.Errorf("after the card was recalled: %+v %+v", again, ms)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestAppReplyAgainstTheFake: later notifications answer the first
// message; once it is recalled they are posted as plain messages.
func TestAppReplyAgainstTheFake(t *testing.T) {
	fake := larkfake.NewApp(t, larkfake.AppOptions{AppID: appID, AppSecret: appSecret, ChatID: appChat})
	n := appNotifier(t, fake.URL, &lark.Options{MsgType: lark.Post}, notify.UpdateReply, time.Now)
	fx := notifytest.Fixtures(t)
	first := appDeliver(t, n, fx["firing"], nil)
	appDeliver(t, n, fx["resolved"], first.Refs)
	ms := fake.Messages()
	if len(ms) != 2 || ms[1].ReplyTo != first.Refs[0] || ms[0].MsgType != "post" || !strings.Contains(ms[1].Text, "RESOLVED") {
		t.Fatalf("after resolved: %+v", ms)
	}
	fake.Recall(first.Refs[0])
	if r := appDeliver(t, n, fx["firing"], first.Refs); r.Verdict != notify.Delivered {
		t.Fatalf("after the first message was recalled: %+v", r)
	}
	if ms := fake.Messages(); len(ms) != 3 || ms[2].ReplyTo != "" {
		t.Errorf("the reply to a recalled message was not posted plain: %+v", ms)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestAppWrongSecret: a refused secret is an auth error that names
// neither the secret nor a token, and no message is sent.
func TestAppWrongSecret(t *testing.T) {
	fake := larkfake.NewApp(t, larkfake.AppOptions{AppID: appID, AppSecret: "the-right-one", ChatID: appChat})
	n := appNotifier(t, fake.URL, nil, notify.UpdateNew, time.Now)
	r := appDeliver(t, n, notifytest.Fixtures(t)["firing"], nil)
	if r.Verdict != notify.Permanent || r.Reason != notify.ReasonAuthError || strings.Contains(r.Message, appSecret) || !strings.Contains(r.Message, "10014") {
		t.Errorf("result %+v", r)
	}
	if len(fake.Messages()) != 0 {
		t.Error("a message was sent without a token")
	}
}

// TestFakeAppContract: the fake refuses what the platform refuses.
func TestFakeAppContract(t *testing.T) {
	fake := larkfake.NewApp(t, larkfake.AppOptions{})
	call := func(method, path, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, fake.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		if auth != "" {
			req.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	_, ans := call(http.MethodPost, "/open-apis/auth/v3/tenant_access_token/internal", "", `{"app_id":"cli_fakeapp","app_secret":"fake-app-secret"}`)
	var tok struct {
		Token  string `json:"tenant_access_token"`
		Expire int    `json:"expire"`
	}
	if json.Unmarshal([]byte(ans), &tok) != nil || tok.Token == "" || tok.Expire != 7200 {
		t.Fatalf("token answer %s", ans)
	}
	const card = `{\"schema\":\"2.0\",\"body\":{\"elements\":[{\"tag\":\"markdown\",\"content\":\"x\"}]}}`
	_, ans = call(http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"interactive","content":"`+card+`"}`)
	var sent struct {
		Data struct {
			MessageID string `json:"message_id"`
		} `json:"data"`
	}
	if json.Unmarshal([]byte(ans), &sent) != nil || !strings.HasPrefix(sent.Data.MessageID, "om_") {
		t.Fatalf("send answer %s", ans)
	}
	id := sent.Data.MessageID
	const v1card = `{\"elements\":[{\"tag\":\"markdown\",\"content\":\"x\"}]}`
	tests := []struct {
		name, method, path, auth, body string
		code                           string
		violation                      bool
	}{
		{"wrong secret", http.MethodPost, "/open-apis/auth/v3/tenant_access_token/internal", "", `{"app_id":"cli_fakeapp","app_secret":"no"}`, `"code":10014`, false},
		{"no token", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", "", `{"receive_id":"oc_fakechat","msg_type":"text","content":"{\"text\":\"x\"}"}`, `"code":99991661`, false},
		{"unknown token", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", "t-nope", `{"receive_id":"oc_fakechat","msg_type":"text","content":"{\"text\":\"x\"}"}`, `"code":99991663`, false},
		{"text", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"text","content":"{\"text\":\"x\"}"}`, `"code":0`, false},
		{"content as an object", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"text","content":{"text":"x"}}`, `"code":230001`, true},
		{"post wrapped like a custom bot's", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"post","content":"{\"post\":{\"en_us\":{\"title\":\"t\",\"content\":[]}}}"}`, `"code":230001`, true},
		{"another chat", http.MethodPost, "/open-apis/im/v1/messages?receive_id_type=chat_id", tok.Token, `{"receive_id":"oc_other","msg_type":"text","content":"{\"text\":\"x\"}"}`, `"code":230002`, true},
		{"no receive_id_type", http.MethodPost, "/open-apis/im/v1/messages", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"text","content":"{\"text\":\"x\"}"}`, `"code":230001`, true},
		{"update", http.MethodPatch, "/open-apis/im/v1/messages/" + id, tok.Token, `{"content":"` + card + `"}`, `"code":0`, false},
		{"update with msg_type", http.MethodPatch, "/open-apis/im/v1/messages/" + id, tok.Token, `{"msg_type":"interactive","content":"` + card + `"}`, `"code":230001`, true},
		{"update to an unshared card", http.MethodPatch, "/open-apis/im/v1/messages/" + id, tok.Token, `{"content":"` + v1card + `"}`, `"code":230001`, true},
		{"update of an unknown message", http.MethodPatch, "/open-apis/im/v1/messages/om_00000000000000000000000000000099", tok.Token, `{"content":"` + card + `"}`, `"code":230001`, false},
		{"reply", http.MethodPost, "/open-apis/im/v1/messages/" + id + "/reply", tok.Token, `{"msg_type":"text","content":"{\"text\":\"y\"}"}`, `"code":0`, false},
		{"reply with receive_id", http.MethodPost, "/open-apis/im/v1/messages/" + id + "/reply", tok.Token, `{"receive_id":"oc_fakechat","msg_type":"text","content":"{\"text\":\"y\"}"}`, `"code":230001`, true},
		{"PUT", http.MethodPut, "/open-apis/im/v1/messages/" + id, tok.Token, `{"content":"x"}`, `404`, true},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		status, ans := call(tc.method, tc.path, tc.auth, tc.body)
		if !strings.Contains(ans, tc.code) && !strings.Contains(ans+" "+http.StatusText(status), tc.code) && !(tc.code == "404" && status == 404) {
			t.Errorf("%s: %d %s, want %s", tc.name, status, ans, tc.code)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v (%q)", tc.name, got, tc.violation, fake.Violations())
		}
	}
	fake.Recall(id)
	if _, ans := call(http.MethodPatch, "/open-apis/im/v1/messages/"+id, tok.Token, `{"content":"`+card+`"}`); !strings.Contains(ans, `"code":230011`) {
		t.Errorf("update of a recalled card: %s", ans)
	}
	if _, ans := call(http.MethodPost, "/open-apis/im/v1/messages/"+id+"/reply", tok.Token, `{"msg_type":"text","content":"{\"text\":\"y\"}"}`); !strings.Contains(ans, `"code":230011`) {
		t.Errorf("reply to a recalled message: %s", ans)
	}
	ms := fake.Messages()
	if len(ms) != 3 || ms[0].Edits != 1 || ms[2].ReplyTo != id || !ms[0].Recalled {
		t.Errorf("messages %+v", ms)
	}
}

// TestAppEveryPresetPassesTheFake: every msg_type's preset, for every
// fixture (hostile labels, a storm, huge values), posts, updates and
// replies through the fake without a violation; the hostile card is a
// golden.
func TestAppEveryPresetPassesTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	fx["hostile"] = notifytest.HostilePayload()
	for _, mt := range []string{lark.Interactive, lark.Post, lark.Text} {
		mode := notify.UpdateEdit
		if mt != lark.Interactive {
			mode = notify.UpdateReply
		}
		t.Run(mt, func(t *testing.T) {
			fake := larkfake.NewApp(t, larkfake.AppOptions{AppID: appID, AppSecret: appSecret, ChatID: appChat})
			n := appNotifier(t, fake.URL, &lark.Options{MsgType: mt}, mode, time.Now)
			for name, payload := range fx {
				first := appDeliver(t, n, payload, nil)
				if first.Verdict != notify.Delivered {
					t.Fatalf("%s: %+v", name, first)
				}
				if r := appDeliver(t, n, payload, first.Refs); r.Verdict != notify.Delivered {
					t.Fatalf("%s again (%s): %+v", name, mode, r)
				}
			}
			if v := fake.Violations(); len(v) > 0 {
				t.Errorf("violations %q", v)
			}
			if mt == lark.Interactive {
				reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, fx["hostile"]))
				if err != nil {
					t.Fatal(err)
				}
				var bodies [][]byte
				for _, r := range reqs {
					bodies = append(bodies, r.Body)
				}
				notifytest.GoldenBodies(t, "app-interactive-hostile", bodies)
			}
		})
	}
}
