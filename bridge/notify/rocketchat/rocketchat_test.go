package rocketchat

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
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	rocketchatfake "github.com/alertbridge/alertbridge/bridge/notify/rocketchat/fake"
)

const hookURL = "https://chat.example.com/hooks/rcIntegrationID/rcSecretToken"

func newNotifier(t *testing.T, opts *Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, New, opts, notify.Settings{Name: "rc", URL: hookURL})
}

func TestRequestPostsJSONToTheWebhook(t *testing.T) {
	opts := &Options{Alias: "Alertmanager", Emoji: ":rotating_light:", Channel: "#ops"}
	reqs, err := newNotifier(t, opts).Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if len(reqs) != 1 || r.Method != http.MethodPost || r.URL != hookURL || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d requests, %s %s %v", len(reqs), r.Method, r.URL, r.Header)
	}
	var m struct {
		Text, Alias, Emoji, Channel string
		Avatar                      *string
		Attachments                 []struct{ Color string }
	}
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatal(err)
	}
	if m.Text == "" || m.Alias != "Alertmanager" || m.Emoji != ":rotating_light:" || m.Channel != "#ops" || m.Avatar != nil {
		t.Errorf("body %s", r.Body)
	}
	// Firing first: warning, Error (critical class), then two resolved.
	var colors []string
	for _, a := range m.Attachments {
		colors = append(colors, a.Color)
	}
	if got, want := strings.Join(colors, " "), "#ECB22E #E01E5A #2EB67D #2EB67D"; got != want {
		t.Errorf("colours %s, want %s", got, want)
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

// TestGoldenMentions renders @all, static users and users chosen by
// label; label values that are not usernames must not become mentions.
func TestGoldenMentions(t *testing.T) {
	opts := &Options{Avatar: "https://example.com/am.png", Common: chat.Common{Mention: &chat.Mention{
		All:        true,
		Users:      []string{"alice", "bob.smith"},
		ByLabel:    map[string]map[string][]string{"instance": {"web-1:9100": {"web-oncall"}}},
		FromLabels: []string{"instance"},
	}}}
	bodies, err := newNotifier(t, opts).Pack(notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.GoldenBodies(t, "mentions-firing", bodies)
	if !strings.Contains(string(bodies[0]), `\n@all @alice @bob.smith @web-oncall"`) {
		t.Errorf("mentions missing: %s", bodies[0])
	}
	if strings.Contains(string(bodies[0]), "@web-1:9100") {
		t.Error("a label value that is not a username became a mention")
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		ok, limit bool
	}{
		{"text", `{"text":"hi"}`, true, false},
		{"5000 units", `{"text":"` + strings.Repeat("磁", MaxMessageSize) + `"}`, true, false},
		{"5001 units", `{"text":"` + strings.Repeat("x", MaxMessageSize+1) + `"}`, false, true},
		// An emoji outside the BMP is two UTF-16 units, as JavaScript counts.
		{"2500 emoji", `{"text":"` + strings.Repeat("🔥", 2500) + `"}`, true, false},
		{"2501 emoji", `{"text":"` + strings.Repeat("🔥", 2501) + `"}`, false, true},
		{"attachments count", `{"text":"t","attachments":[{"title":"` + strings.Repeat("x", 2500) + `","text":"` + strings.Repeat("x", 2500) + `"}]}`, false, true},
		{"fields count", `{"text":"t","attachments":[{"fields":[{"title":"a","value":"` + strings.Repeat("x", MaxMessageSize) + `"}]}]}`, false, true},
		{"attachments only", `{"attachments":[{"text":"x"}]}`, true, false},
		{"empty", `{"text":""}`, false, false},
		{"not JSON", `{`, false, false},
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
	reset := func(d time.Duration) string { return strconv.FormatInt(notifytest.FixedNow.Add(d).UnixMilli(), 10) }
	tooMany := `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}`
	tests := []struct {
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, nil, `{"success":true}`, notify.Delivered, "", 0},
		{200, nil, `{"success":false,"error":"Integration is disabled"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, nil, `<!DOCTYPE html><html>Rocket.Chat</html>`, notify.Permanent, notify.ReasonIMRejected, 0},
		{404, nil, `{"success":false,"error":"Invalid integration id or token provided."}`, notify.Permanent, notify.ReasonAuthError, 0},
		{400, nil, `{"success":false,"error":"Invalid integration id or token provided."}`, notify.Permanent, notify.ReasonAuthError, 0},
		{400, nil, `{"success":false,"error":"error-message-size-exceeded"}`, notify.Permanent, notify.ReasonClientError, 0},
		{400, nil, `{"success":false,"error":"Unexpected token } in JSON"}`, notify.Permanent, notify.ReasonClientError, 0},
		{401, nil, `{"status":"error","message":"You must be logged in to do this."}`, notify.Permanent, notify.ReasonAuthError, 0},
		{429, map[string]string{"X-RateLimit-Reset": reset(51500 * time.Millisecond)}, tooMany, notify.Retry, notify.ReasonRateLimited, 51500 * time.Millisecond},
		{429, map[string]string{"X-RateLimit-Reset": reset(-time.Second)}, tooMany, notify.Retry, notify.ReasonRateLimited, 52 * time.Second},
		{429, map[string]string{"X-RateLimit-Reset": "soon"}, tooMany, notify.Retry, notify.ReasonRateLimited, 52 * time.Second},
		{429, map[string]string{"Retry-After": "7"}, `too many`, notify.Retry, notify.ReasonRateLimited, 7 * time.Second},
		{429, nil, ``, notify.Retry, notify.ReasonRateLimited, 0},
		{500, nil, `{"success":false,"error":"Internal server error"}`, notify.Retry, notify.ReasonServerError, 0},
		{503, map[string]string{"Retry-After": "2"}, `Service Unavailable`, notify.Retry, notify.ReasonServerError, 2 * time.Second},
	}
	for _, tc := range tests {
		h := http.Header{}
		for k, v := range tc.header {
			h.Set(k, v)
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %v %s: got %v/%s/%s, want %v/%s/%s", tc.status, tc.header, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
		if r.Verdict != notify.Delivered && (!strings.HasPrefix(r.Message, "Rocket.Chat") || strings.Contains(r.Message, "rcSecretToken")) {
			t.Errorf("%d %s: message %q", tc.status, tc.body, r.Message)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	bad := map[string]*Options{
		"emoji":         {Emoji: "rotating_light"},
		"avatar":        {Avatar: "file:///etc/passwd"},
		"both":          {Emoji: ":x:", Avatar: "https://example.com/a.png"},
		"channel":       {Channel: "ops"},
		"mobiles":       {Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}},
		"@ in user":     {Common: chat.Common{Mention: &chat.Mention{Users: []string{"@alice"}}}},
		"by_label user": {Common: chat.Common{Mention: &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"db team"}}}}}},
	}
	for name, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	for _, o := range []*Options{{}, {Channel: "@alice", Emoji: ":fire:"}, {Channel: "#ops", Avatar: "https://example.com/a.png"}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%+v refused: %v", o, err)
		}
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://chat.example.com/hooks/id/token":          true,
		"https://chat.example.com/hooks/id/user/token":     true,
		"https://chat.example.com/rc/hooks/id/token/":      true,
		"https://chat.example.com/hooks/id":                false,
		"https://chat.example.com/hooks//token":            false,
		"https://chat.example.com/api/v1/chat.postMessage": false,
	} {
		u, _ := url.Parse(raw)
		err := CheckURL(u)
		if (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "token") && strings.Contains(err.Error(), u.Path) {
			t.Errorf("error quotes the URL: %v", err)
		}
	}
}

// TestReaderSeesValuesAsWritten sends markup-laden values through the
// strict fake, which renders them as Rocket.Chat does: no escapes in the
// message text, marked after HTML-escaping in attachments.
func TestReaderSeesValuesAsWritten(t *testing.T) {
	f := rocketchatfake.NewRocketChat(t, rocketchatfake.RocketChatOptions{})
	bodies, err := newNotifier(t, nil).Pack(notifytest.BuildGroup(t, notifytest.MarkupPayload()))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.AssertMarkupShown(t, notifytest.PostBodies(t, f.Fake, bodies))
}
