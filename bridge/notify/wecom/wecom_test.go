package wecom_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/wecom"
	wecomfake "github.com/alertbridge/alertbridge/bridge/notify/wecom/fake"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const hookURL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY"

func newNotifier(t *testing.T, opts *wecom.Options, u string) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, wecom.New, opts, notify.Settings{Name: "wecom", URL: u})
}

func TestRequestIsAPlainJSONPostToTheURL(t *testing.T) {
	n := newNotifier(t, nil, hookURL)
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	bodies, err := n.Pack(g)
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL != hookURL || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	if string(r.Body) != string(bodies[0]) {
		t.Errorf("the request body is not the rendered one")
	}
}

func TestNoSecret(t *testing.T) {
	set, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = wecom.New(notify.Settings{Name: "wecom", URL: hookURL, Secret: "s", Templates: set})
	if err == nil || !strings.Contains(err.Error(), "secret") || strings.Contains(err.Error(), "KEY") {
		t.Errorf("a secret was accepted or the error quotes the URL: %v", err)
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{wecom.Markdown, wecom.Text} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				n := newNotifier(t, &wecom.Options{MsgType: msgType}, hookURL)
				bodies, err := n.Pack(notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				notifytest.GoldenBodies(t, msgType+"-"+name, bodies)
			})
		}
	}
}

func TestGoldenMentions(t *testing.T) {
	byLabel := map[string]map[string][]string{"instance": {"db-1:9100": {"db1.owner", "tel:13800000001"}}}
	tests := map[string]*chat.Mention{
		wecom.Text:     {All: true, Users: []string{"zhangsan"}, Mobiles: []string{"13800000000"}, ByLabel: byLabel},
		wecom.Markdown: {Users: []string{"zhangsan", "bad>id"}, ByLabel: map[string]map[string][]string{"instance": {"db-1:9100": {"db1.owner"}}}},
	}
	for msgType, m := range tests {
		t.Run(msgType, func(t *testing.T) {
			n := newNotifier(t, &wecom.Options{MsgType: msgType, Common: chat.Common{Mention: m}}, hookURL)
			bodies, err := n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
			if err != nil {
				t.Fatal(err)
			}
			notifytest.GoldenBodies(t, msgType+"-mentions", bodies)
		})
	}
}

// TestMarkdownRefusesPhoneMentions: markdown mentions by userid only, so
// a phone number anywhere in the mention is a config error, not a silent
// drop.
func TestMarkdownRefusesPhoneMentions(t *testing.T) {
	for _, m := range []*chat.Mention{
		{Mobiles: []string{"13800000000"}},
		{ByLabel: map[string]map[string][]string{"owner": {"db": {"tel:13800000001"}}}},
	} {
		o := &wecom.Options{MsgType: wecom.Markdown, Common: chat.Common{Mention: m}}
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "phone-number") {
			t.Errorf("mention %+v: error %v, want a phone-number refusal", m, err)
		}
	}
}

// TestMarkdownNeutralizesMentionsAndFonts renders labels that would
// mention someone or recolour the message.
func TestMarkdownNeutralizesMentionsAndFonts(t *testing.T) {
	payload := notifytest.NewPayload("alertname", []notifytest.Alert{{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Esc", "x": `<@boss> <FONT color="info">green</font> *b* _i_ ` + "`c`"},
		Annotations: map[string]string{"summary": "s"},
		StartsAt:    "2026-11-23T10:00:00Z", EndsAt: notifytest.ZeroTime,
	}})
	n := newNotifier(t, nil, hookURL)
	bodies, err := n.Pack(notifytest.BuildGroup(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Markdown struct{ Content string } }
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	want := "x: <\u200b@boss> <\u200bFONT color=\"info\">green<\u200b/font> \\*b\\* \\_i\\_ \\`c\\`"
	if !strings.Contains(m.Markdown.Content, want) {
		t.Errorf("markdown:\n%q\nwant it to contain\n%q", m.Markdown.Content, want)
	}
}

func TestCheck(t *testing.T) {
	markdown := func(n int) string {
		return `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("磁", n/3) + strings.Repeat("a", n%3) + `"}}`
	}
	text := func(n int) string { return `{"msgtype":"text","text":{"content":"` + strings.Repeat("a", n) + `"}}` }
	tests := []struct {
		name  string
		body  string
		limit bool
		ok    bool
	}{
		{"markdown at the limit (bytes, not runes)", markdown(4096), false, true},
		{"markdown over the limit", markdown(4097), true, false},
		{"text at the limit", text(2048), false, true},
		{"text over the limit", text(2049), true, false},
		{"no msgtype", `{"text":{"content":"x"}}`, false, false},
		{"msgtype without its object", `{"msgtype":"markdown","text":{"content":"x"}}`, false, false},
		{"empty content", `{"msgtype":"text","text":{"content":"  "}}`, false, false},
		{"not an object", `"x"`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBody(t, tc.body)
			if (err == nil) != tc.ok || chat.IsLimit(err) != tc.limit {
				t.Errorf("Check = %v; want ok %v, limit %v", err, tc.ok, tc.limit)
			}
		})
	}
}

// checkBody runs the platform's Check on body: a target whose body
// template prints it verbatim packs one alert.
func checkBody(t *testing.T, body string) error {
	t.Helper()
	set, err := render.New(render.Options{Inline: []render.Inline{{Name: "test.body", Text: body}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := &wecom.Options{}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := wecom.New(notify.Settings{Name: "wecom", URL: hookURL, Templates: set, BodyTemplate: "test.body", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Pack(notifytest.BuildGroup(t, notifytest.ReadExample(t, "payload-firing.json")))
	return err
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil, hookURL)
	tests := []struct {
		status  int
		header  http.Header
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, nil, `{"errcode":0,"errmsg":"ok"}`, notify.Delivered, "", 0},
		{200, nil, `{"errcode":45009,"errmsg":"api freq out of limit, hint: [x]"}`, notify.Retry, notify.ReasonRateLimited, time.Minute},
		{200, http.Header{"Retry-After": {"20"}}, `{"errcode":45009,"errmsg":"api freq out of limit"}`, notify.Retry, notify.ReasonRateLimited, 20 * time.Second},
		{200, nil, `{"errcode":-1,"errmsg":"system busy"}`, notify.Retry, notify.ReasonServerError, 0},
		{200, nil, `{"errcode":93000,"errmsg":"invalid webhook url, hint: [x]"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, nil, `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096. Invalid input invalid Request Parameter, hint: [x]"}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{200, nil, `{"errcode":44004,"errmsg":"empty content"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `<html>gateway</html>`, notify.Retry, notify.ReasonIMRejected, 0},
		{200, nil, `{"errmsg":"no code"}`, notify.Retry, notify.ReasonIMRejected, 0},
		{429, nil, ``, notify.Retry, notify.ReasonRateLimited, time.Minute},
		{503, nil, `busy`, notify.Retry, notify.ReasonServerError, 0},
		{404, nil, `not found`, notify.Permanent, notify.ReasonClientError, 0},
	}
	for _, tc := range tests {
		h := tc.header
		if h == nil {
			h = http.Header{}
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %s: got %v/%s/%s, want %v/%s/%s", tc.status, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
		if tc.verdict != notify.Delivered && r.Message == "" {
			t.Errorf("%d %s: no message", tc.status, tc.body)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		opts  wecom.Options
		field string // named in the error; empty means valid
	}{
		{wecom.Options{}, ""},
		{wecom.Options{MsgType: wecom.Text, Common: chat.Common{Mention: &chat.Mention{All: true, Mobiles: []string{"13800000000"}}}}, ""},
		{wecom.Options{MsgType: "markdown_v2"}, "msg_type"},
		{wecom.Options{Common: chat.Common{Mention: &chat.Mention{All: true}}}, "mention.all"},
		{wecom.Options{MsgType: wecom.Markdown, Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}}, "mention.mobiles"},
		{wecom.Options{Common: chat.Common{MaxMessages: -1}}, "max_messages"},
	}
	for _, tc := range tests {
		o := tc.opts
		err := o.Validate()
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%+v: %v", tc.opts, err)
		case tc.field != "" && (err == nil || !strings.Contains(err.Error(), tc.field)):
			t.Errorf("%+v: error %v does not name %s", tc.opts, err, tc.field)
		}
	}
	o := &wecom.Options{}
	if err := o.Validate(); err != nil || o.MsgType != wecom.Markdown {
		t.Errorf("default msg_type %q, %v", o.MsgType, err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123", true},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send", false},
		{"https://qyapi.weixin.qq.com/cgi-bin/message/send?key=abc-123", false},
		{"http://127.0.0.1:8080/anything", true},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.url)
		err := wecom.CheckURL(u)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%s) = %v", tc.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "abc-123") {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func deliver(t *testing.T, n notify.Notifier, payload []byte) notify.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return (&notify.Sender{}).Deliver(ctx, http.DefaultClient, n, notifytest.BuildGroup(t, payload), notify.Attempt{})
}

// TestEveryPresetPassesTheFake delivers every fixture in every msg_type,
// with mentions, to the strict fake: nothing may break the contract, and
// the reader must see the hostile summary.
func TestEveryPresetPassesTheFake(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	mentions := map[string]*chat.Mention{
		wecom.Text:     {All: true, Users: []string{"zhangsan"}, FromLabels: []string{"instance"}},
		wecom.Markdown: {Users: []string{"zhangsan"}, FromLabels: []string{"instance"}},
	}
	for _, msgType := range []string{wecom.Markdown, wecom.Text} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				f := wecomfake.NewWeCom(t, "k")
				r := deliver(t, newNotifier(t, &wecom.Options{MsgType: msgType, Common: chat.Common{Mention: mentions[msgType]}}, f.URL), fx[name])
				if r.Verdict != notify.Delivered || len(f.Violations()) > 0 {
					t.Fatalf("result %+v, violations %q", r, f.Violations())
				}
				if name != "hostile" {
					return
				}
				var text strings.Builder
				for _, m := range f.Received() {
					text.WriteString(m.Text)
				}
				if want := `He said "hi" \o/ {{ template "x" . }} {{ .CommonLabels }} 😀 中文`; !strings.Contains(text.String(), want) {
					t.Errorf("the reader does not see %q in:\n%s", want, text.String())
				}
			})
		}
	}
}

// TestFakeEnforcesTheContract checks the fake refuses what WeCom refuses,
// with WeCom's codes.
func TestFakeEnforcesTheContract(t *testing.T) {
	tests := []struct {
		name, path, body string
		code             string
	}{
		{"unknown key", "/cgi-bin/webhook/send?key=other", `{"msgtype":"text","text":{"content":"hi"}}`, `"errcode":93000`},
		{"no key", "/cgi-bin/webhook/send", `{"msgtype":"text","text":{"content":"hi"}}`, `"errcode":93000`},
		{"invalid JSON", "", `{"msgtype":`, `"errcode":40035`},
		{"unknown msgtype", "", `{"msgtype":"card","card":{"content":"hi"}}`, `"errcode":40008`},
		{"empty content", "", `{"msgtype":"markdown","markdown":{"content":""}}`, `"errcode":44004`},
		{"markdown over 4096 bytes", "", `{"msgtype":"markdown","markdown":{"content":"` + strings.Repeat("磁", 1366) + `"}}`, `markdown.content exceed max length 4096`},
		{"text over 2048 bytes", "", `{"msgtype":"text","text":{"content":"` + strings.Repeat("a", 2049) + `"}}`, `"errcode":40058`},
		{"mentions not strings", "", `{"msgtype":"text","text":{"content":"hi","mentioned_list":[1]}}`, `"errcode":40035`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := wecomfake.NewWeCom(t, "k")
			u := f.URL
			if tc.path != "" {
				u = f.Server.URL + tc.path
			}
			resp, err := http.Post(u, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(b), tc.code) || len(f.Violations()) != 1 {
				t.Errorf("answer %d %s, violations %q; want %s and one violation", resp.StatusCode, b, f.Violations(), tc.code)
			}
		})
	}

	t.Run("rate limit", func(t *testing.T) {
		f := wecomfake.NewWeCom(t, "k")
		var codes []int
		for range 21 {
			resp, err := http.Post(f.URL, "application/json", strings.NewReader(`{"msgtype":"text","text":{"content":"hi"}}`))
			if err != nil {
				t.Fatal(err)
			}
			var ans struct{ ErrCode int }
			if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			codes = append(codes, ans.ErrCode)
		}
		for i, c := range codes {
			if want := map[bool]int{true: 45009, false: 0}[i == 20]; c != want {
				t.Errorf("message %d: errcode %d, want %d", i+1, c, want)
			}
		}
	})
}
