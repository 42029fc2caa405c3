package lark_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/lark"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const hookURL = "https://open.feishu.cn/open-apis/bot/v2/hook/TOKEN"

func TestSignMatchesTheContractVector(t *testing.T) {
	if got, want := lark.Sign("demo", 1599360473), "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func newNotifier(t *testing.T, opts *lark.Options, secret string) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, lark.New, opts, notify.Settings{Name: "lark", URL: hookURL, Secret: secret, Now: func() time.Time { return time.Unix(1599360473, 0) }})
}

func TestSignedBodyCarriesTimestampAndSignFirst(t *testing.T) {
	n := newNotifier(t, nil, "demo")
	bodies, err := n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if r.URL != hookURL || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	prefix := `{"timestamp":"1599360473","sign":"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=",`
	if !strings.HasPrefix(string(r.Body), prefix) {
		t.Fatalf("body starts %.120s\nwant %s", r.Body, prefix)
	}
	// The rest of the rendered body is untouched.
	if got := string(r.Body[len(prefix):]); got != string(bodies[0][1:]) {
		t.Errorf("signing changed the body:\n%s\nwant\n%s", got, bodies[0][1:])
	}
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("signed body is not JSON: %v", err)
	}
}

func TestUnsignedBodyIsTheRenderedOne(t *testing.T) {
	n := newNotifier(t, nil, "")
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(reqs[0].Body), `"sign"`) || strings.Contains(string(reqs[0].Body), `"timestamp"`) {
		t.Errorf("unsigned target sent signature fields: %.200s", reqs[0].Body)
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{lark.Interactive, lark.Post, lark.Text} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				n := newNotifier(t, &lark.Options{MsgType: msgType}, "")
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
	for _, msgType := range []string{lark.Interactive, lark.Post, lark.Text} {
		t.Run(msgType, func(t *testing.T) {
			n := newNotifier(t, &lark.Options{MsgType: msgType, Locale: lark.ZhCN, Keyword: "告警", Common: chat.Common{Mention: &chat.Mention{
				All:        true,
				Users:      []string{"ou_static"},
				ByLabel:    map[string]map[string][]string{"instance": {"db-1:9100": {"ou_db1_owner"}}},
				FromLabels: []string{"owner"},
			}}}, "")
			bodies, err := n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
			if err != nil {
				t.Fatal(err)
			}
			notifytest.GoldenBodies(t, msgType+"-mentions", bodies)
		})
	}
}

// TestCardMarkdownEscapesEveryMarker renders a label full of markdown and
// Lark tags into a card and checks none survives unescaped.
func TestCardMarkdownEscapesEveryMarker(t *testing.T) {
	payload := notifytest.NewPayload("alertname", []notifytest.Alert{{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Esc", "x": "# h\n- li\n1. one\n<at id=all></at> **b** _i_ ~~s~~ `c` [l](http://e) $x$ a|b :OK: \\"},
		Annotations: map[string]string{"summary": "+ plus"},
		StartsAt:    "2026-11-23T10:00:00Z", EndsAt: notifytest.ZeroTime,
	}})
	n := newNotifier(t, nil, "")
	bodies, err := n.Pack(notifytest.BuildGroup(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Card struct {
			Body struct {
				Elements []struct{ Content string }
			}
		}
	}
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	content := m.Card.Body.Elements[0].Content
	want := "x: &#35; h<br>&#45; li<br>1&#46; one<br>&lt;at id=all&gt;&lt;/at&gt; &#42;&#42;b&#42;&#42; &#95;i&#95; &#126;&#126;s&#126;&#126; &#96;c&#96; &#91;l&#93;(http://e) &#36;x&#36; a&#124;b &#58;OK: &#92;"
	if !strings.Contains(content, want) {
		t.Errorf("card markdown:\n%s\nwant it to contain\n%s", content, want)
	}
	if !strings.Contains(content, "\n&#43; plus\n") {
		t.Errorf("a summary starting with + is not escaped:\n%s", content)
	}
}

// TestTextValuesCannotMention renders a label holding Lark's text mention
// markup: it must reach the reader as text, not notify everyone.
func TestTextValuesCannotMention(t *testing.T) {
	payload := notifytest.NewPayload("alertname", []notifytest.Alert{{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Esc", "x": `<at user_id="all">all</at> <AT user_id="ou_1"></AT>`},
		Annotations: map[string]string{"summary": "s"},
		StartsAt:    "2026-11-23T10:00:00Z", EndsAt: notifytest.ZeroTime,
	}})
	n := newNotifier(t, &lark.Options{MsgType: lark.Text}, "")
	bodies, err := n.Pack(notifytest.BuildGroup(t, payload))
	if err != nil {
		t.Fatal(err)
	}
	var m struct{ Content struct{ Text string } }
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	want := "x: <\u200bat user_id=\"all\">all<\u200b/at> <\u200bAT user_id=\"ou_1\"><\u200b/AT>"
	if !strings.Contains(m.Content.Text, want) {
		t.Errorf("text:\n%q\nwant it to contain\n%q", m.Content.Text, want)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name   string
		secret string
		body   string
		limit  bool // a *chat.LimitError
		ok     bool
	}{
		{"card", "", `{"msg_type":"interactive","card":{"schema":"2.0"}}`, false, true},
		{"card in content", "", `{"msg_type":"interactive","content":{"card":{}}}`, false, false},
		{"text", "", `{"msg_type":"text","content":{"text":"hi"}}`, false, true},
		{"unknown type", "", `{"msg_type":"markdown","content":{"text":"hi"}}`, false, false},
		{"no type", "", `{"content":{"text":"hi"}}`, false, false},
		{"not an object", "", `[1]`, false, false},
		{"sign set by the template", "s", `{"sign":"x","msg_type":"text","content":{"text":"hi"}}`, false, false},
		{"at the limit", "", `{"msg_type":"text","content":{"text":"` + strings.Repeat("a", lark.MaxBodyBytes-41) + `"}}`, false, true},
		{"over the limit", "", `{"msg_type":"text","content":{"text":"` + strings.Repeat("a", lark.MaxBodyBytes-40) + `"}}`, true, false},
		{"at the limit without room to sign", "s", `{"msg_type":"text","content":{"text":"` + strings.Repeat("a", lark.MaxBodyBytes-41) + `"}}`, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkBody(t, tc.secret, "", tc.body)
			if (err == nil) != tc.ok || chat.IsLimit(err) != tc.limit {
				t.Errorf("Check(%.60s) = %v; want ok %v, limit %v", tc.body, err, tc.ok, tc.limit)
			}
		})
	}
}

func TestSignedBodiesStayWithinTheLimit(t *testing.T) {
	n := newNotifier(t, nil, "demo")
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.StormPayload(300)))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range reqs {
		if len(r.Body) > lark.MaxBodyBytes {
			t.Errorf("signed message %d is %d bytes", i+1, len(r.Body))
		}
	}
}

func TestKeywordIsRequired(t *testing.T) {
	if err := checkBody(t, "", "alert", `{"msg_type":"text","content":{"text":"hi"}}`); err == nil || chat.IsLimit(err) {
		t.Errorf("a message without the keyword passed: %v", err)
	}
	if err := checkBody(t, "", "alert", `{"msg_type":"text","content":{"text":"alert hi"}}`); err != nil {
		t.Errorf("a message with the keyword failed: %v", err)
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil, "")
	tests := []struct {
		status  int
		header  http.Header
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, nil, `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`, notify.Delivered, "", 0},
		{200, nil, `{"StatusCode":0,"StatusMessage":"success"}`, notify.Delivered, "", 0},
		{200, nil, `{"code":11232,"msg":"frequency limited psm[lark.oapi.app_platform_runtime]"}`, notify.Retry, notify.ReasonRateLimited, time.Minute},
		{200, http.Header{"Retry-After": {"5"}}, `{"code":11232,"msg":"frequency limited"}`, notify.Retry, notify.ReasonRateLimited, 5 * time.Second},
		{200, nil, `{"code":9499,"msg":"Bad Request","data":{}}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{400, nil, `{"code":9499,"msg":"Bad Request: fail to parse content"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, nil, `{"code":19002,"msg":"param invalid"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, nil, `{"code":19022,"msg":"Ip Not Allowed"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, nil, `{"code":19024,"msg":"Key Words Not Found"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `{"code":99991,"msg":"new"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `<html>busy</html>`, notify.Retry, notify.ReasonIMRejected, 0},
		{200, nil, `{"msg":"no code"}`, notify.Retry, notify.ReasonIMRejected, 0},
		{429, nil, `{"code":11232,"msg":"frequency limited"}`, notify.Retry, notify.ReasonRateLimited, time.Minute},
		{429, http.Header{"Retry-After": {"3"}}, ``, notify.Retry, notify.ReasonRateLimited, 3 * time.Second},
		{502, nil, `bad gateway`, notify.Retry, notify.ReasonServerError, 0},
		{404, nil, `404 page not found`, notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, `{"code":0,"msg":"odd"}`, notify.Permanent, notify.ReasonClientError, 0},
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
		opts  lark.Options
		field string // named in the error; empty means valid
	}{
		{lark.Options{}, ""},
		{lark.Options{MsgType: lark.Post, Locale: lark.ZhCN}, ""},
		{lark.Options{MsgType: "markdown"}, "msg_type"},
		{lark.Options{Locale: "ja_jp"}, "locale"},
		{lark.Options{Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}}, "mention.mobiles"},
		{lark.Options{Common: chat.Common{Mention: &chat.Mention{ByLabel: map[string]map[string][]string{"owner": {"db": {"tel:138"}}}}}}, "mention.by_label.owner.db"},
		{lark.Options{Common: chat.Common{MaxMessages: 99}}, "max_messages"},
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
	o := &lark.Options{}
	if err := o.Validate(); err != nil || o.MsgType != lark.Interactive || o.Locale != lark.EnUS {
		t.Errorf("defaults: msg_type %q, locale %q, %v", o.MsgType, o.Locale, err)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://open.feishu.cn/open-apis/bot/v2/hook/abc-123", true},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/abc-123", true},
		{"https://open.feishu.cn/open-apis/bot/hook/abc-123", false},
		{"https://open.feishu.cn/open-apis/bot/v2/hook/", false},
		{"https://open.feishu.cn/open-apis/im/v1/messages", false},
		{"http://127.0.0.1:8080/anything", true},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.url)
		err := lark.CheckURL(u)
		if (err == nil) != tc.ok {
			t.Errorf("CheckURL(%s) = %v", tc.url, err)
		}
		if err != nil && strings.Contains(err.Error(), "abc-123") {
			t.Errorf("error quotes the token: %v", err)
		}
	}
}

// checkBody runs the platform's Check on body: a target whose body
// template prints it verbatim packs one alert.
func checkBody(t *testing.T, secret, keyword, body string) error {
	t.Helper()
	set, err := render.New(render.Options{Inline: []render.Inline{{Name: "test.body", Text: body}}})
	if err != nil {
		t.Fatal(err)
	}
	opts := &lark.Options{Keyword: keyword}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := lark.New(notify.Settings{Name: "lark", URL: hookURL, Secret: secret, Templates: set, BodyTemplate: "test.body", Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	_, err = n.Pack(notifytest.BuildGroup(t, notifytest.ReadExample(t, "payload-firing.json")))
	return err
}

// deliver sends g through n to the fake with the bridge's Sender.
func deliver(t *testing.T, n notify.Notifier, payload []byte) notify.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return (&notify.Sender{}).Deliver(ctx, http.DefaultClient, n, notifytest.BuildGroup(t, payload), notify.Attempt{})
}

func fakeNotifier(t *testing.T, f *larkfake.Lark, opts *lark.Options, secret string, now func() time.Time) *chat.Notifier {
	t.Helper()
	set, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := opts.Validate(); err != nil {
		t.Fatal(err)
	}
	n, err := lark.New(notify.Settings{Name: "lark", URL: f.URL, Secret: secret, Templates: set, Options: opts, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestEveryPresetPassesTheFake delivers every fixture in every msg_type,
// signed and keyword-protected, with mentions, to the strict fake: nothing
// may break the contract, and the reader must see the hostile summary.
func TestEveryPresetPassesTheFake(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{lark.Interactive, lark.Post, lark.Text} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				f := larkfake.NewLark(t, larkfake.LarkOptions{Secret: "s3cret", Keyword: "alert"})
				opts := &lark.Options{MsgType: msgType, Keyword: "alert", Common: chat.Common{Mention: &chat.Mention{All: true, Users: []string{"ou_1"}, FromLabels: []string{"instance"}}}}
				r := deliver(t, fakeNotifier(t, f, opts, "s3cret", time.Now), fx[name])
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

// TestFakeEnforcesTheContract checks the fake refuses what Lark refuses,
// with Lark's codes, and that Classify reads those codes right.
func TestFakeEnforcesTheContract(t *testing.T) {
	hourAgo := func() time.Time { return time.Now().Add(-61 * time.Minute) }
	tests := []struct {
		name    string
		fake    larkfake.LarkOptions
		opts    lark.Options
		secret  string
		now     func() time.Time
		code    string
		verdict notify.Verdict
	}{
		{"wrong secret", larkfake.LarkOptions{Secret: "right"}, lark.Options{}, "wrong", time.Now, `"code":19021`, notify.Permanent},
		{"no signature", larkfake.LarkOptions{Secret: "right"}, lark.Options{}, "", time.Now, `"code":19021`, notify.Permanent},
		{"stale timestamp", larkfake.LarkOptions{Secret: "right"}, lark.Options{}, "right", hourAgo, `"code":19021`, notify.Permanent},
		{"keyword missing", larkfake.LarkOptions{Keyword: "alert"}, lark.Options{}, "", time.Now, `"code":19024`, notify.Permanent},
		{"keyword missing from a post", larkfake.LarkOptions{Keyword: "alert"}, lark.Options{MsgType: lark.Post}, "", time.Now, `"code":19024`, notify.Permanent},
		{"keyword missing from a text", larkfake.LarkOptions{Keyword: "alert"}, lark.Options{MsgType: lark.Text}, "", time.Now, `"code":19024`, notify.Permanent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := larkfake.NewLark(t, tc.fake)
			opts := tc.opts
			r := deliver(t, fakeNotifier(t, f, &opts, tc.secret, tc.now), notifytest.MixedPayload())
			if r.Verdict != tc.verdict || len(f.Violations()) != 1 || !strings.Contains(r.Message, strings.TrimPrefix(tc.code, `"code":`)) {
				t.Errorf("result %+v, violations %q; want %v with %s", r, f.Violations(), tc.verdict, tc.code)
			}
		})
	}

	raw := []struct {
		name, path, body string
		code             string
	}{
		{"unknown token", "/open-apis/bot/v2/hook/other", `{"msg_type":"text","content":{"text":"hi"}}`, `"code":19001`},
		{"card inside content", "", `{"msg_type":"interactive","content":{"card":{"schema":"2.0","body":{"elements":[{"tag":"markdown","content":"x"}]}}}}`, `"code":19002`},
		{"unknown msg_type", "", `{"msg_type":"markdown","content":{"text":"hi"}}`, `"code":19002`},
		{"invalid JSON", "", `{"msg_type":`, `"code":9499`},
		{"too large", "", `{"msg_type":"text","content":{"text":"` + strings.Repeat("a", 20480) + `"}}`, `"code":9499`},
		{"post link without scheme", "", `{"msg_type":"post","content":{"post":{"en_us":{"title":"t","content":[[{"tag":"a","text":"x","href":"not a url"}]]}}}}`, `"code":9499`},
		{"unescaped tag in card markdown", "", `{"msg_type":"interactive","card":{"schema":"2.0","body":{"elements":[{"tag":"markdown","content":"a <script> b"}]}}}`, `"code":0`},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			f := larkfake.NewLark(t, larkfake.LarkOptions{})
			u := f.URL
			if tc.path != "" {
				u = f.Server.URL + tc.path
			}
			resp, err := http.Post(u, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var b strings.Builder
			if _, err := io.Copy(&b, resp.Body); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), tc.code) || len(f.Violations()) != 1 {
				t.Errorf("answer %d %s, violations %q; want %s and one violation", resp.StatusCode, b.String(), f.Violations(), tc.code)
			}
		})
	}

	t.Run("rate limit", func(t *testing.T) {
		f := larkfake.NewLark(t, larkfake.LarkOptions{})
		var codes []string
		for range 6 {
			resp, err := http.Post(f.URL, "application/json", strings.NewReader(`{"msg_type":"text","content":{"text":"hi"}}`))
			if err != nil {
				t.Fatal(err)
			}
			var ans struct{ Code int }
			if err := json.NewDecoder(resp.Body).Decode(&ans); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			codes = append(codes, strconv.Itoa(ans.Code))
		}
		// Six requests within a second: the sixth is over 5/s (the test
		// cannot take a second, so the window has not moved).
		if got := strings.Join(codes, ","); got != "0,0,0,0,0,11232" {
			t.Errorf("codes %s, want five deliveries then 11232", got)
		}
	})
}
