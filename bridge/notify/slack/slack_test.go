package slack

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	slackfake "github.com/alertbridge/alertbridge/bridge/notify/slack/fake"
)

const hookURL = "https://hooks.slack.com/services/T0000/B0000/XXXXSECRET"

func newNotifier(t *testing.T, opts *Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, New, opts, notify.Settings{Name: "slack", URL: hookURL})
}

func TestRequestPostsJSONToTheWebhook(t *testing.T) {
	n := newNotifier(t, nil)
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL != hookURL || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
	var m struct {
		Text   string            `json:"text"`
		Blocks []json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(r.Body, &m); err != nil || m.Text == "" || len(m.Blocks) == 0 {
		t.Errorf("body has no text fallback or no blocks (%v): %s", err, r.Body)
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			bodies, err := newNotifier(t, nil).Pack(notifytest.BuildGroup(t, fx[name]))
			if err != nil {
				t.Fatal(err)
			}
			notifytest.GoldenBodies(t, name, bodies)
		})
	}
}

// TestGoldenMentions renders static users, a user group, @channel and
// users chosen by label; ids from labels that are not Slack ids (here the
// hostile "instance" values) must not turn into mentions.
func TestGoldenMentions(t *testing.T) {
	opts := &Options{
		Channel: "#alerts", Username: "alertbridge", IconEmoji: ":rotating_light:",
		Common: chat.Common{Mention: &chat.Mention{
			All:        true,
			Users:      []string{"U024BE7LH", "S0614TZR7"},
			ByLabel:    map[string]map[string][]string{"instance": {"web-1:9100": {"W0WEB1"}}},
			FromLabels: []string{"job"},
		}},
	}
	for _, name := range []string{"firing", "hostile"} {
		t.Run(name, func(t *testing.T) {
			bodies, err := newNotifier(t, opts).Pack(notifytest.BuildGroup(t, notifytest.Fixtures(t)[name]))
			if err != nil {
				t.Fatal(err)
			}
			notifytest.GoldenBodies(t, "mentions-"+name, bodies)
			if name == "firing" && !strings.Contains(string(bodies[0]), `<!channel> <!subteam^S0614TZR7> <@U024BE7LH> <@W0WEB1>`) {
				t.Errorf("mentions missing: %s", bodies[0])
			}
		})
	}
}

func TestCheck(t *testing.T) {
	long := func(k int) string { return strings.Repeat("x", k) }
	blocks := func(k int) string {
		b := make([]string, k)
		for i := range b {
			b[i] = `{"type":"divider"}`
		}
		return `{"text":"t","blocks":[` + strings.Join(b, ",") + `]}`
	}
	fields := func(k int) string {
		f := make([]string, k)
		for i := range f {
			f[i] = `{"type":"mrkdwn","text":"f"}`
		}
		return `{"text":"t","blocks":[{"type":"section","fields":[` + strings.Join(f, ",") + `]}]}`
	}
	tests := []struct {
		name  string
		body  string
		limit bool // a *chat.LimitError
		ok    bool
	}{
		{"text only", `{"text":"hi"}`, false, true},
		{"40000 characters of CJK", `{"text":"` + strings.Repeat("磁", 40000) + `"}`, false, true},
		{"text too long", `{"text":"` + strings.Repeat("磁", 40001) + `"}`, true, false},
		{"50 blocks", blocks(50), false, true},
		{"51 blocks", blocks(51), true, false},
		{"header 150", `{"blocks":[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("🔥", 150) + `"}}]}`, false, true},
		{"header 151", `{"blocks":[{"type":"header","text":{"type":"plain_text","text":"` + long(151) + `"}}]}`, true, false},
		{"header mrkdwn", `{"blocks":[{"type":"header","text":{"type":"mrkdwn","text":"x"}}]}`, false, false},
		{"section 3000", `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + long(3000) + `"}}]}`, false, true},
		{"section 3001", `{"blocks":[{"type":"section","text":{"type":"mrkdwn","text":"` + long(3001) + `"}}]}`, true, false},
		{"10 fields", fields(10), false, true},
		{"11 fields", fields(11), true, false},
		{"field 2001", `{"blocks":[{"type":"section","fields":[{"type":"mrkdwn","text":"` + long(2001) + `"}]}]}`, true, false},
		{"empty section", `{"blocks":[{"type":"section"}]}`, false, false},
		{"context 11 elements", `{"blocks":[{"type":"context","elements":[` + strings.TrimSuffix(strings.Repeat(`{"type":"mrkdwn","text":"c"},`, 11), ",") + `]}]}`, true, false},
		{"context 3001", `{"blocks":[{"type":"context","elements":[{"type":"mrkdwn","text":"` + long(3001) + `"}]}]}`, true, false},
		{"markdown block 12001", `{"blocks":[{"type":"markdown","text":"` + long(12001) + `"}]}`, true, false},
		{"block without type", `{"blocks":[{"text":{"type":"mrkdwn","text":"x"}}]}`, false, false},
		{"actions block", `{"blocks":[{"type":"actions","elements":[{"type":"button","text":{"type":"plain_text","text":"b"}}]}]}`, false, true},
		{"101 attachments", `{"text":"t","attachments":[` + strings.TrimSuffix(strings.Repeat(`{},`, 101), ",") + `]}`, true, false},
		{"nothing to show", `{"text":"  "}`, false, false},
		{"not JSON", `[1]`, false, false},
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
	tests := []struct {
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, nil, "ok", notify.Delivered, "", 0},
		{200, nil, "ok\n", notify.Delivered, "", 0},
		{200, nil, "<html>sign in</html>", notify.Permanent, notify.ReasonIMRejected, 0},
		{429, map[string]string{"Retry-After": "30"}, "rate_limited", notify.Retry, notify.ReasonRateLimited, 30 * time.Second},
		{429, nil, "", notify.Retry, notify.ReasonRateLimited, 0},
		{500, nil, "rollup_error", notify.Retry, notify.ReasonServerError, 0},
		{503, map[string]string{"Retry-After": "5"}, "", notify.Retry, notify.ReasonServerError, 5 * time.Second},
		{400, nil, "invalid_payload", notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, "invalid_blocks", notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, "no_text", notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, "user_not_found", notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, "no_service_id", notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, "too_many_attachments", notify.Permanent, notify.ReasonTooLarge, 0},
		{403, nil, "invalid_token", notify.Permanent, notify.ReasonAuthError, 0},
		{403, nil, "action_prohibited", notify.Permanent, notify.ReasonAuthError, 0},
		{403, nil, "posting_to_general_channel_denied", notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "no_service", notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "no_team", notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "team_disabled", notify.Permanent, notify.ReasonAuthError, 0},
		{403, nil, "team_disabled", notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "no_active_hooks", notify.Permanent, notify.ReasonAuthError, 0},
		{404, nil, "channel_not_found", notify.Permanent, notify.ReasonIMRejected, 0},
		{410, nil, "channel_is_archived", notify.Permanent, notify.ReasonIMRejected, 0},
		{413, nil, "", notify.Permanent, notify.ReasonTooLarge, 0},
		{302, nil, "", notify.Permanent, notify.ReasonClientError, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %q: got %v/%s/%s, want %v/%s/%s", tc.status, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
		if r.Verdict != notify.Delivered && (r.Message == "" || strings.Contains(r.Message, "XXXXSECRET")) {
			t.Errorf("%d %q: message %q", tc.status, tc.body, r.Message)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := map[string]*Options{
		"icon_emoji":       {IconEmoji: "rotating_light"},
		"icon_url":         {IconURL: "ftp://x/y.png"},
		"both icons":       {IconEmoji: ":x:", IconURL: "https://x/y.png"},
		"mobiles":          {Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}},
		"user name":        {Common: chat.Common{Mention: &chat.Mention{Users: []string{"@alice"}}}},
		"by_label user":    {Common: chat.Common{Mention: &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"alice"}}}}}},
		"max_messages":     {Common: chat.Common{MaxMessages: 51}},
		"lowercase member": {Common: chat.Common{Mention: &chat.Mention{Users: []string{"u024be7lh"}}}},
	}
	for name, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	good := &Options{IconURL: "https://example.com/i.png", Common: chat.Common{Mention: &chat.Mention{Users: []string{"U024BE7LH", "W0ABC", "S0614TZR7"}}}}
	if err := good.Validate(); err != nil {
		t.Errorf("valid options refused: %v", err)
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://hooks.slack.com/services/T0/B0/X":     true,
		"https://slack-proxy.internal/services/T0/B0/": true,
		"https://hooks.slack.com/triggers/T0/1/abc":    false,
		"https://hooks.slack.com/workflows/T0/A0/1/x":  false,
	} {
		u, _ := url.Parse(raw)
		err := CheckURL(u)
		if (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), u.Path) {
			t.Errorf("error quotes the URL: %v", err)
		}
	}
}

// TestReaderSeesValuesAsWritten sends markup-laden values through the
// strict fake, which shows what Slack would: mrkdwn must escape exactly
// & < >.
func TestReaderSeesValuesAsWritten(t *testing.T) {
	f := slackfake.NewSlack(t, slackfake.SlackOptions{})
	bodies, err := newNotifier(t, nil).Pack(notifytest.BuildGroup(t, notifytest.MarkupPayload()))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.AssertMarkupShown(t, notifytest.PostBodies(t, f.Fake, bodies))
}
