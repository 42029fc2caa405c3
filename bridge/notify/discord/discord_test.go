package discord_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/discord"
	discordfake "github.com/alertbridge/alertbridge/bridge/notify/discord/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const webhookURL = "https://discord.com/api/webhooks/123456789012345678/TOKEN-abc_123?thread_id=42"

func newNotifier(t *testing.T, opts *discord.Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, discord.New, opts, notify.Settings{Name: "dc", URL: webhookURL})
}

func TestRequestWaitsForTheMessageAndKeepsTheQuery(t *testing.T) {
	n := newNotifier(t, nil)
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	u, _ := url.Parse(r.URL)
	if r.Method != http.MethodPost || u.Path != "/api/webhooks/123456789012345678/TOKEN-abc_123" || u.RawQuery != "thread_id=42&wait=true" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
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
			notifytest.GoldenBodies(t, "default-"+name, bodies)
		})
	}
}

// TestGoldenMentions renders static and by_label mentions, the username
// and avatar overrides, and mention.all.
func TestGoldenMentions(t *testing.T) {
	opts := &discord.Options{
		Username:  "Alertmanager",
		AvatarURL: "https://example.com/am.png",
		Common: chat.Common{Mention: &chat.Mention{
			All:        true,
			Users:      []string{"80351110224678912"},
			ByLabel:    map[string]map[string][]string{"instance": {"db-1:9100": {"222222222222222222"}}},
			FromLabels: []string{"owner"},
		}},
	}
	bodies, err := newNotifier(t, opts).Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.GoldenBodies(t, "mentions-mixed", bodies)
	var m struct {
		Content         string
		AllowedMentions struct{ Parse, Users []string } `json:"allowed_mentions"`
	}
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Content, "@everyone <@222222222222222222> <@80351110224678912>") {
		t.Errorf("content %q lacks the mentions", m.Content)
	}
	if strings.Join(m.AllowedMentions.Parse, ",") != "everyone" || strings.Join(m.AllowedMentions.Users, ",") != "222222222222222222,80351110224678912" {
		t.Errorf("allowed_mentions %+v", m.AllowedMentions)
	}
}

// TestLabelValuesCannotPing: ids from labels that are not user ids are
// neither written as mentions nor allowed to ping, and without mention
// settings nothing may ping at all.
func TestLabelValuesCannotPing(t *testing.T) {
	p := notifytest.NewPayload("alertname", []notifytest.Alert{{
		Status:      "firing",
		Labels:      map[string]string{"alertname": "Ping", "owner": "@everyone <@1> 333333333333333333", "note": "@here <@&5>"},
		Annotations: map[string]string{"summary": "@everyone look"},
		StartsAt:    "2026-11-23T10:00:00Z", EndsAt: notifytest.ZeroTime,
	}})
	for _, tc := range []struct {
		name  string
		opts  *discord.Options
		users string
	}{
		{"no mentions", nil, ""},
		{"from_labels", &discord.Options{Common: chat.Common{Mention: &chat.Mention{FromLabels: []string{"owner"}}}}, "333333333333333333"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bodies, err := newNotifier(t, tc.opts).Pack(notifytest.BuildGroup(t, p))
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				AllowedMentions *struct{ Parse, Users []string } `json:"allowed_mentions"`
			}
			if err := json.Unmarshal(bodies[0], &m); err != nil {
				t.Fatal(err)
			}
			if m.AllowedMentions == nil || len(m.AllowedMentions.Parse) != 0 || strings.Join(m.AllowedMentions.Users, ",") != tc.users {
				t.Errorf("allowed_mentions %+v, want no parse types and users %q", m.AllowedMentions, tc.users)
			}
		})
	}
}

// body builds a webhook body from a content and embeds, with
// allowed_mentions unless told otherwise.
func body(t *testing.T, content string, embeds []map[string]any, mentions bool) []byte {
	t.Helper()
	m := map[string]any{"content": content}
	if embeds != nil {
		m["embeds"] = embeds
	}
	if mentions {
		m["allowed_mentions"] = map[string]any{"parse": []string{}}
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fields(n int, name, value string) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = map[string]any{"name": name, "value": value}
	}
	return out
}

func embeds(n int, e map[string]any) []map[string]any {
	out := make([]map[string]any, n)
	for i := range out {
		out[i] = e
	}
	return out
}

// checker returns the platform's Check through a notifier whose template
// prints the body under test, as a user's own template would.
func checker(t *testing.T) func([]byte) error {
	t.Helper()
	return func(b []byte) error {
		set, err := render.New(render.Options{Inline: []render.Inline{{Name: "raw", Text: string(b)}}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := discord.New(notify.Settings{Name: "dc", URL: webhookURL, Templates: set, BodyTemplate: "raw"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
		return err
	}
}

func TestCheckCountsDiscordLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("é", n) } // one character, two bytes
	tests := []struct {
		name string
		body []byte
		// limit is the LimitError's What; "" means no error, "schema" a
		// plain error.
		limit string
	}{
		{"fits", body(t, long(2000), embeds(10, map[string]any{"title": long(256), "description": long(300)}), true), ""},
		{"content counted in characters", body(t, long(2001), nil, true), "content"},
		{"11 embeds", body(t, "x", embeds(11, map[string]any{"title": "t"}), true), "embeds"},
		{"title", body(t, "", embeds(1, map[string]any{"title": long(257)}), true), "embeds[0].title"},
		{"description", body(t, "", embeds(1, map[string]any{"description": long(4097)}), true), "embeds[0].description"},
		{"26 fields", body(t, "", embeds(1, map[string]any{"fields": fields(26, "n", "v")}), true), "embeds[0].fields"},
		{"field name", body(t, "", embeds(1, map[string]any{"fields": fields(1, long(257), "v")}), true), "embeds[0].fields[0].name"},
		{"field value", body(t, "", embeds(1, map[string]any{"fields": fields(1, "n", long(1025))}), true), "embeds[0].fields[0].value"},
		{"footer", body(t, "", embeds(1, map[string]any{"footer": map[string]any{"text": long(2049)}}), true), "embeds[0].footer.text"},
		{"author", body(t, "", embeds(1, map[string]any{"author": map[string]any{"name": long(257)}}), true), "embeds[0].author.name"},
		{"6000 over all embeds", body(t, "", embeds(2, map[string]any{"description": long(3001)}), true), "embeds (all text)"},
		{"whitespace is not counted", body(t, "", embeds(2, map[string]any{"description": "  \n" + long(3000) + "\n "}), true), ""},
		{"no allowed_mentions", body(t, "x", nil, false), "schema"},
		{"empty", body(t, " ", nil, true), "schema"},
		{"empty field value", body(t, "", embeds(1, map[string]any{"fields": fields(1, "n", " ")}), true), "schema"},
	}
	check := checker(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := check(tc.body)
			var le *chat.LimitError
			switch {
			case tc.limit == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.limit == "schema" && (err == nil || chat.IsLimit(err)):
				t.Errorf("want a schema error, got %v", err)
			case tc.limit != "" && tc.limit != "schema" && !strings.Contains(err.Error(), tc.limit+" is "):
				t.Errorf("want a limit error on %s, got %v", tc.limit, err)
			case tc.limit != "" && tc.limit != "schema" && !errors.As(err, &le):
				t.Errorf("%v is not a *chat.LimitError", err)
			}
		})
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil)
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{"message saved (wait=true)", 200, nil, `{"id":"1","type":0}`, notify.Delivered, "", 0},
		{"no content", 204, nil, ``, notify.Delivered, "", 0},
		{"429 float retry_after wins", 429, map[string]string{"Retry-After": "2"}, `{"message":"You are being rate limited.","retry_after":1.234,"global":false}`, notify.Retry, notify.ReasonRateLimited, 1234 * time.Millisecond},
		{"429 global", 429, nil, `{"message":"You are being rate limited.","retry_after":64.57,"global":true}`, notify.Retry, notify.ReasonRateLimited, 64570 * time.Millisecond},
		{"429 channel write limit", 429, nil, `{"message":"The write action you are performing on the channel has hit the write rate limit.","retry_after":7,"global":false,"code":20028}`, notify.Retry, notify.ReasonRateLimited, 7 * time.Second},
		{"429 header only", 429, map[string]string{"Retry-After": "3"}, `<html>cloudflare</html>`, notify.Retry, notify.ReasonRateLimited, 3 * time.Second},
		{"500", 500, nil, `{"message":"500: Internal Server Error","code":0}`, notify.Retry, notify.ReasonServerError, 0},
		{"502 html", 502, nil, `<html>bad gateway</html>`, notify.Retry, notify.ReasonServerError, 0},
		{"401 invalid token", 401, nil, `{"message":"Invalid Webhook Token","code":50027}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"403 invalid token", 403, nil, `{"message":"Invalid Webhook Token","code":50027}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"404 unknown webhook", 404, nil, `{"message":"Unknown Webhook","code":10015}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"400 invalid form body", 400, nil, `{"code":50035,"errors":{"embeds":{"0":{"url":{"_errors":[{"code":"URL_TYPE_INVALID_URL","message":"Not a well formed URL."}]}}}},"message":"Invalid Form Body"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{"400 field too long", 400, nil, `{"code":50035,"errors":{"embeds":{"0":{"fields":{"6":{"value":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 1024 or fewer in length."}]}}}}}},"message":"Invalid Form Body"}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{"400 embeds over 6000", 400, nil, `{"code":50035,"errors":{"embeds":{"_errors":[{"code":"MAX_EMBED_SIZE_EXCEEDED","message":"Embed size exceeds maximum size of 6000"}]}},"message":"Invalid Form Body"}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{"400 empty message", 400, nil, `{"message":"Cannot send an empty message","code":50006}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{"413 entity too large", 413, nil, `{"message":"Request entity too large","code":40005}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{"405", 405, nil, `{"message":"405: Method Not Allowed","code":0}`, notify.Permanent, notify.ReasonClientError, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
				t.Errorf("got %v/%s/%s, want %v/%s/%s (%s)", r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait, r.Message)
			}
			if tc.verdict != notify.Delivered && r.Message == "" {
				t.Error("no message")
			}
		})
	}
}

func TestClassifyNeverEchoesTheToken(t *testing.T) {
	r := newNotifier(t, nil).Classify(&notify.Response{StatusCode: 401, Header: http.Header{}, Body: []byte(`{"message":"Invalid Webhook Token TOKEN-abc_123","code":50027}`)})
	if strings.Contains(r.Message, "TOKEN-abc_123") {
		t.Errorf("message %q contains the token", r.Message)
	}
}

func TestOptionsValidate(t *testing.T) {
	mention := func(m chat.Mention) chat.Common { return chat.Common{Mention: &m} }
	tests := []struct {
		name  string
		opts  discord.Options
		field string // "" means valid
	}{
		{"defaults", discord.Options{}, ""},
		{"all set", discord.Options{Username: "Alertmanager", AvatarURL: "https://example.com/a.png", Common: mention(chat.Mention{All: true, Users: []string{"80351110224678912"}})}, ""},
		{"username too long", discord.Options{Username: strings.Repeat("a", 81)}, "username"},
		{"username with discord", discord.Options{Username: "My Discord bot"}, "username"},
		{"username with clyde", discord.Options{Username: "Clyde"}, "username"},
		{"avatar not http", discord.Options{AvatarURL: "ftp://example.com/a.png"}, "avatar_url"},
		{"user not a snowflake", discord.Options{Common: mention(chat.Mention{Users: []string{"bob"}})}, "mention.users"},
		{"mobiles", discord.Options{Common: mention(chat.Mention{Mobiles: []string{"+15550100"}})}, "mention.mobiles"},
		{"by_label not a snowflake", discord.Options{Common: mention(chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"tel:123"}}}})}, "mention.by_label.team.db"},
		{"common options", discord.Options{Common: chat.Common{MaxMessages: 51}}, "max_messages"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.opts.Validate()
			switch {
			case tc.field == "" && err != nil:
				t.Errorf("unexpected error %v", err)
			case tc.field != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.field+":")):
				t.Errorf("want an error naming %s, got %v", tc.field, err)
			}
		})
	}
}

func TestCheckURL(t *testing.T) {
	for raw, ok := range map[string]bool{
		"https://discord.com/api/webhooks/1/SECRET":            true,
		"https://discord.com/api/v10/webhooks/1/SECRET":        true,
		"https://discord.com/api/webhooks/1/SECRET/slack":      false,
		"https://discordapp.com/api/webhooks/1/SECRET/github/": false,
	} {
		u, _ := url.Parse(raw)
		err := discord.CheckURL(u)
		if (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error %q quotes the URL", err)
		}
	}
}

func send(t *testing.T, r *notify.Request) *http.Response {
	t.Helper()
	req, err := http.NewRequest(r.Method, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = r.Header
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestPresetBodiesPassTheFake sends every fixture, as built, to the
// strict fake: no violation, Discord's 200 with the message, the words
// FIRING or RESOLVED visible.
func TestPresetBodiesPassTheFake(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{})
			set, err := render.New(render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			opts := &discord.Options{Common: chat.Common{Mention: &chat.Mention{All: true, Users: []string{"80351110224678912"}}}}
			n, err := discord.New(notify.Settings{Name: "dc", URL: fake.URL, Templates: set, Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, fx[name]))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				if resp := send(t, r); resp.StatusCode != http.StatusOK {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
			if v := fake.Violations(); len(v) > 0 {
				t.Fatalf("violations %q", v)
			}
			for _, m := range fake.Received() {
				if !strings.Contains(m.Text, "FIRING") && !strings.Contains(m.Text, "RESOLVED") {
					t.Errorf("no status word in %q", m.Text)
				}
			}
		})
	}
}

func TestFakeEnforcesTheContract(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	okBody := body(t, "hi", nil, true)
	tests := []struct {
		name      string
		path      string // after the server URL; "" means the webhook with wait=true
		body      []byte
		status    int
		code      int    // Discord's error code, 0 for none
		errCode   string // a nested error code expected in the answer
		violation bool
	}{
		{"valid", "", okBody, 200, 0, "", false},
		{"no wait: 204", "/api/webhooks/123456789012345678/dc-token", okBody, 204, 0, "", false},
		{"versioned path", "/api/v10/webhooks/123456789012345678/dc-token?wait=true", okBody, 200, 0, "", false},
		{"unknown webhook", "/api/webhooks/999/dc-token?wait=true", okBody, 404, 10015, "", true},
		{"wrong token", "/api/webhooks/123456789012345678/nope?wait=true", okBody, 401, 50027, "", true},
		{"empty", "", body(t, "  ", nil, true), 400, 50006, "", true},
		{"unknown field", "", []byte(`{"content":"x","allowed_mentions":{"parse":[]},"colour":1}`), 400, 50035, "MODEL_TYPE_CONVERT", true},
		{"content", "", body(t, long(2001), nil, true), 400, 50035, "BASE_TYPE_MAX_LENGTH", true},
		{"title", "", body(t, "", embeds(1, map[string]any{"title": long(257)}), true), 400, 50035, "BASE_TYPE_MAX_LENGTH", true},
		{"field value", "", body(t, "", embeds(1, map[string]any{"fields": fields(1, "n", long(1025))}), true), 400, 50035, "BASE_TYPE_MAX_LENGTH", true},
		{"empty field value", "", body(t, "", embeds(1, map[string]any{"fields": fields(1, "n", "")}), true), 400, 50035, "BASE_TYPE_REQUIRED", true},
		{"6000 total", "", body(t, "", embeds(2, map[string]any{"description": long(3001)}), true), 400, 50035, "MAX_EMBED_SIZE_EXCEEDED", true},
		{"11 embeds", "", body(t, "", embeds(11, map[string]any{"title": "t"}), true), 400, 50035, "BASE_TYPE_MAX_LENGTH", true},
		{"bad url", "", body(t, "", embeds(1, map[string]any{"title": "t", "url": "not a url"}), true), 400, 50035, "URL_TYPE_INVALID_URL", true},
		{"users not snowflakes", "", []byte(`{"content":"x","allowed_mentions":{"parse":[],"users":["bob"]}}`), 400, 50035, "NUMBER_TYPE_COERCE", true},
		{"parse and users", "", []byte(`{"content":"x","allowed_mentions":{"parse":["users"],"users":["1"]}}`), 400, 50035, "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", true},
		{"username", "", []byte(`{"content":"x","username":"discord bot","allowed_mentions":{"parse":[]}}`), 400, 50035, "USERNAME_INVALID_CONTAINS", true},
		{"ping without allowed_mentions", "", body(t, "disk @everyone", nil, false), 200, 0, "", true},
		{"ping from an embed without allowed_mentions", "", body(t, "", embeds(1, map[string]any{"title": "<@123>"}), false), 200, 0, "", true},
		{"parse users lets labels ping", "", []byte(`{"content":"<@123>","allowed_mentions":{"parse":["users"]}}`), 200, 0, "", true},
		{"explicit users and everyone", "", []byte(`{"content":"@everyone <@123>","allowed_mentions":{"parse":["everyone"],"users":["123"]}}`), 200, 0, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{})
			u := fake.URL + "?wait=true"
			if tc.path != "" {
				u = fake.Server.URL + tc.path
			}
			resp := send(t, &notify.Request{Method: http.MethodPost, URL: u, Header: http.Header{"Content-Type": {"application/json"}}, Body: tc.body})
			var ans struct {
				Code int `json:"code"`
				ID   string
			}
			raw, _ := io.ReadAll(resp.Body)
			_ = json.Unmarshal(raw, &ans)
			if resp.StatusCode != tc.status || ans.Code != tc.code || !strings.Contains(string(raw), tc.errCode) {
				t.Errorf("answer %d %s, want %d code %d %s", resp.StatusCode, raw, tc.status, tc.code, tc.errCode)
			}
			if tc.status == 200 && ans.ID == "" {
				t.Errorf("200 without the message: %s", raw)
			}
			if tc.status == 204 && len(raw) > 0 {
				t.Errorf("204 with a body: %s", raw)
			}
			if got := len(fake.Violations()) > 0; got != tc.violation {
				t.Errorf("violations %q, want some: %v", fake.Violations(), tc.violation)
			}
		})
	}
}

// TestFakeRateLimits: 5 requests per 2 s per webhook, then 429 with a
// float retry_after and the X-RateLimit headers; 30 per minute per
// channel, then 429 code 20028.
func TestFakeRateLimits(t *testing.T) {
	c := notifytest.NewClock(notifytest.FixedNow)
	fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{Now: c.Now})
	req := &notify.Request{Method: http.MethodPost, URL: fake.URL + "?wait=true", Header: http.Header{"Content-Type": {"application/json"}}, Body: body(t, "hi", nil, true)}
	for i := range 5 {
		if resp := send(t, req); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i+1, resp.StatusCode)
		}
	}
	c.Advance(500 * time.Millisecond)
	resp := send(t, req)
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || !strings.Contains(string(raw), `"retry_after":1.500`) || resp.Header.Get("X-RateLimit-Reset-After") != "1.500" ||
		resp.Header.Get("Retry-After") != "2" || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Fatalf("sixth request in 2 s: %d %s %v", resp.StatusCode, raw, resp.Header)
	}
	r := newNotifier(t, nil).Classify(&notify.Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: raw})
	if r.Reason != notify.ReasonRateLimited || r.RetryAfter != 1500*time.Millisecond {
		t.Errorf("the fake's 429 classified %+v", r)
	}
	// 5 more every 2 s up to 30 in the minute, then the channel's limit.
	for sent := 5; sent < 30; sent++ {
		if sent%5 == 0 {
			c.Advance(2 * time.Second)
		}
		if resp := send(t, req); resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", sent+1, resp.StatusCode)
		}
	}
	c.Advance(2 * time.Second)
	resp = send(t, req)
	raw, _ = io.ReadAll(resp.Body)
	if resp.StatusCode != 429 || !strings.Contains(string(raw), `"code":20028`) {
		t.Fatalf("31st request in a minute: %d %s", resp.StatusCode, raw)
	}
}
