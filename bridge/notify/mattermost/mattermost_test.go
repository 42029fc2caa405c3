package mattermost

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	mattermostfake "github.com/alertbridge/alertbridge/bridge/notify/mattermost/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

const hookURL = "https://chat.example.com/hooks/xkeyxsecretxkeyx"

func newNotifier(t *testing.T, opts *Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, New, opts, notify.Settings{Name: "mm", URL: hookURL})
}

func TestRequestPostsJSONToTheWebhook(t *testing.T) {
	for _, msgType := range []string{Markdown, Attachments} {
		n := newNotifier(t, &Options{MsgType: msgType, Channel: "ops", Username: "alertbridge", IconURL: "https://example.com/i.png"})
		reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
		if err != nil {
			t.Fatal(err)
		}
		r := reqs[0]
		if len(reqs) != 1 || r.Method != http.MethodPost || r.URL != hookURL || r.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d requests, %s %s %v", msgType, len(reqs), r.Method, r.URL, r.Header)
		}
		var m struct {
			Text, Channel, Username string
			IconURL                 string `json:"icon_url"`
			Attachments             []json.RawMessage
		}
		if err := json.Unmarshal(r.Body, &m); err != nil {
			t.Fatal(err)
		}
		if m.Text == "" || m.Channel != "ops" || m.Username != "alertbridge" || m.IconURL != "https://example.com/i.png" {
			t.Errorf("%s: body %s", msgType, r.Body)
		}
		if (len(m.Attachments) == 4) != (msgType == Attachments) {
			t.Errorf("%s: %d attachments", msgType, len(m.Attachments))
		}
	}
	// Unset overrides are not sent at all.
	reqs, err := newNotifier(t, nil).Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"channel"`, `"username"`, `"icon_url"`} {
		if strings.Contains(string(reqs[0].Body), key) {
			t.Errorf("%s sent though unset", key)
		}
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{Markdown, Attachments} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				bodies, err := newNotifier(t, &Options{MsgType: msgType}).Pack(notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				notifytest.GoldenBodies(t, msgType+"-"+name, bodies)
			})
		}
	}
}

// TestGoldenMentions renders @channel, static users and users chosen by
// label; label values that are not usernames must not become mentions.
func TestGoldenMentions(t *testing.T) {
	for _, msgType := range []string{Markdown, Attachments} {
		opts := &Options{MsgType: msgType, Common: chat.Common{Mention: &chat.Mention{
			All:        true,
			Users:      []string{"alice", "bob.smith"},
			ByLabel:    map[string]map[string][]string{"instance": {"web-1:9100": {"web-oncall"}}},
			FromLabels: []string{"instance"},
		}}}
		bodies, err := newNotifier(t, opts).Pack(notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
		if err != nil {
			t.Fatal(err)
		}
		notifytest.GoldenBodies(t, "mentions-"+msgType, bodies)
		if !strings.Contains(string(bodies[0]), `@channel @alice @bob.smith @web-oncall`) {
			t.Errorf("%s: mentions missing: %s", msgType, bodies[0])
		}
		if strings.Contains(string(bodies[0]), "@web-1:9100") {
			t.Errorf("%s: a label value that is not a username became a mention", msgType)
		}
	}
}

func TestCheck(t *testing.T) {
	attachment := func(field string, k int) string {
		return `{"text":"t","attachments":[{"` + field + `":"` + strings.Repeat("磁", k) + `"}]}`
	}
	tests := []struct {
		name      string
		body      string
		ok, limit bool
	}{
		{"text", `{"text":"hi"}`, true, false},
		{"16383 characters", `{"text":"` + strings.Repeat("磁", MaxPostRunes) + `"}`, true, false},
		{"16384 characters", `{"text":"` + strings.Repeat("磁", MaxPostRunes+1) + `"}`, false, true},
		{"attachments only", `{"attachments":[{"text":"x"}]}`, true, false},
		{"attachment text counts", attachment("text", MaxPostRunes), false, true},
		{"attachment title counts", attachment("title", MaxPostRunes), false, true},
		{"attachment pretext counts", attachment("pretext", MaxPostRunes), false, true},
		{"field values count", `{"text":"t","attachments":[{"fields":[{"title":"a","value":"` + strings.Repeat("x", MaxPostRunes) + `"}]}]}`, false, true},
		{"empty", `{"text":"  "}`, false, false},
		{"not JSON", `"x"`, false, false},
	}
	p := &platform{}
	for _, tc := range tests {
		err := p.Check([]byte(tc.body))
		if tc.ok != (err == nil) || (err != nil && chat.IsLimit(err) != tc.limit) {
			t.Errorf("%s: Check = %v, want ok %v, limit error %v", tc.name, err, tc.ok, tc.limit)
		}
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil)
	appErr := func(id string, status int) string {
		return `{"id":"` + id + `","message":"m","detailed_error":"","request_id":"r","status_code":` + strconv.Itoa(status) + `}`
	}
	tests := []struct {
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, nil, "ok", notify.Delivered, "", 0},
		{200, nil, "<html>login</html>", notify.Permanent, notify.ReasonIMRejected, 0},
		{400, nil, appErr("web.incoming_webhook.invalid.app_error", 400), notify.Permanent, notify.ReasonAuthError, 0},
		{400, nil, appErr("web.incoming_webhook.text.app_error", 400), notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, appErr("web.incoming_webhook.parse.app_error", 400), notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, appErr("web.incoming_webhook.channel.app_error", 400), notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, appErr("web.incoming_webhook.user.app_error", 400), notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, appErr("web.incoming_webhook.disabled.app_error", 400), notify.Permanent, notify.ReasonIMRejected, 0},
		{501, nil, appErr("web.incoming_webhook.disabled.app_error", 501), notify.Permanent, notify.ReasonIMRejected, 0},
		{403, nil, appErr("api.context.permissions.app_error", 403), notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "404 page not found", notify.Permanent, notify.ReasonClientError, 0},
		{413, nil, appErr("api.context.request_body_too_large.app_error", 413), notify.Permanent, notify.ReasonTooLarge, 0},
		{429, map[string]string{"Retry-After": "5"}, "limit exceeded", notify.Retry, notify.ReasonRateLimited, 5 * time.Second},
		{500, nil, appErr("app.post.save.app_error", 500), notify.Retry, notify.ReasonServerError, 0},
		{502, nil, "bad gateway", notify.Retry, notify.ReasonServerError, 0},
		{503, map[string]string{"Retry-After": "3"}, "", notify.Retry, notify.ReasonServerError, 3 * time.Second},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %s: got %v/%s/%s, want %v/%s/%s", tc.status, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
		if r.Verdict != notify.Delivered && (!strings.HasPrefix(r.Message, "Mattermost") || strings.Contains(r.Message, "xkeyxsecretxkeyx")) {
			t.Errorf("%d %s: message %q", tc.status, tc.body, r.Message)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := map[string]*Options{
		"msg_type":      {MsgType: "card"},
		"icon_url":      {IconURL: "javascript:alert(1)"},
		"channel":       {Channel: " ops"},
		"mobiles":       {Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}},
		"@ in user":     {Common: chat.Common{Mention: &chat.Mention{Users: []string{"@alice"}}}},
		"by_label user": {Common: chat.Common{Mention: &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"db team"}}}}}},
		"max_messages":  {Common: chat.Common{MaxMessages: -1}},
	}
	for name, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o := &Options{Common: chat.Common{Mention: &chat.Mention{Users: []string{"alice", "bob.smith", "carol_1-x"}}}}
	if err := o.Validate(); err != nil || o.MsgType != Markdown {
		t.Errorf("default msg_type = %q, %v", o.MsgType, err)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://chat.example.com/hooks/abc123":     true,
		"https://chat.example.com/mm/hooks/abc123/": true,
		"https://chat.example.com/":                 false,
		"https://chat.example.com/hooks/":           false,
		"https://chat.example.com/api/v4/posts":     false,
		"https://chat.example.com/hooks/abc/extra":  false,
	} {
		u, _ := url.Parse(raw)
		if err := CheckURL(u); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// TestReaderSeesValuesAsWritten sends markup-laden values through the
// strict fake, which renders escapes and entities as Mattermost does.
func TestReaderSeesValuesAsWritten(t *testing.T) {
	for _, msgType := range []string{Markdown, Attachments} {
		t.Run(msgType, func(t *testing.T) {
			f := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{})
			bodies, err := newNotifier(t, &Options{MsgType: msgType}).Pack(notifytest.BuildGroup(t, notifytest.MarkupPayload()))
			if err != nil {
				t.Fatal(err)
			}
			notifytest.AssertMarkupShown(t, notifytest.PostBodies(t, f.Fake, bodies))
		})
	}
}
