package telegram_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dialects "github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram/tgmarkdown"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const (
	token  = "123456:ABC-tg_token"
	botURL = "https://api.telegram.org/bot" + token + "/sendMessage"
)

func newNotifier(t *testing.T, opts *telegram.Options) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = &telegram.Options{ChatID: "-1001234567890"}
	}
	return notifytest.NewNotifier(t, telegram.New, opts, notify.Settings{Name: "tg", URL: botURL})
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

func TestGoldenMentions(t *testing.T) {
	opts := &telegram.Options{
		ChatID: "@alerts_channel", MessageThreadID: 7, DisableNotification: true,
		Common: chat.Common{Mention: &chat.Mention{
			Users:      []string{"123456789", "@oncall_bob"},
			ByLabel:    map[string]map[string][]string{"instance": {"db-1:9100": {"db<admin>"}}},
			FromLabels: []string{"owner"},
		}},
	}
	bodies, err := newNotifier(t, opts).Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.GoldenBodies(t, "mentions-mixed", bodies)
}

func TestRequestPostsJSONToTheConfiguredURL(t *testing.T) {
	reqs, err := newNotifier(t, nil).Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	r := reqs[0]
	if len(reqs) != 1 || r.Method != http.MethodPost || r.URL != botURL || r.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("%d requests; %s %s %v", len(reqs), r.Method, r.URL, r.Header)
	}
	var b struct {
		ChatID             int64  `json:"chat_id"`
		ParseMode          string `json:"parse_mode"`
		LinkPreviewOptions struct {
			IsDisabled bool `json:"is_disabled"`
		} `json:"link_preview_options"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.ChatID != -1001234567890 || b.ParseMode != "HTML" || !b.LinkPreviewOptions.IsDisabled {
		t.Errorf("body %s (%v)", r.Body, err)
	}
}

// checker returns the platform's Check through a notifier whose template
// prints the text under test in an otherwise valid body.
func checker(t *testing.T) func(body string) error {
	t.Helper()
	return func(body string) error {
		set, err := render.New(render.Options{Inline: []render.Inline{{Name: "raw", Text: body}}})
		if err != nil {
			t.Fatal(err)
		}
		n, err := telegram.New(notify.Settings{Name: "tg", URL: botURL, Templates: set, BodyTemplate: "raw", Options: &telegram.Options{ChatID: "-100"}})
		if err != nil {
			t.Fatal(err)
		}
		_, err = n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
		return err
	}
}

func textBody(text string) string {
	b, _ := json.Marshal(map[string]any{"chat_id": -100, "text": text, "parse_mode": "HTML"})
	return string(b)
}

func modeBody(mode, text string) string {
	b, _ := json.Marshal(map[string]any{"chat_id": -100, "text": text, "parse_mode": mode})
	return string(b)
}

func TestCheckCountsUTF16AfterEntityParsing(t *testing.T) {
	tests := []struct {
		name string
		body string
		// want: "" no error, "limit" a *chat.LimitError, "schema" another error.
		want string
	}{
		{"4096 characters", textBody(strings.Repeat("a", 4096)), ""},
		{"4097 characters", textBody(strings.Repeat("a", 4097)), "limit"},
		{"entities count once", textBody(strings.Repeat("&amp;", 4096)), ""},
		{"tags do not count", textBody("<b>" + strings.Repeat("a", 4096) + "</b>"), ""},
		{"an emoji is two UTF-16 units", textBody(strings.Repeat("🔥", 2049)), "limit"},
		{"a CJK character is one", textBody(strings.Repeat("磁", 4096)), ""},
		{"unknown tag", textBody("<h1>x</h1>"), "schema"},
		{"unbalanced", textBody("<b>x<i>y</b></i>"), "schema"},
		{"bare <", textBody("a < b"), "schema"},
		{"bare &", textBody("a & b"), "schema"},
		{"named entity Telegram lacks", textBody("a&nbsp;b"), "schema"},
		{"empty after tags", textBody("<b> </b>"), "schema"},
		{"other chat", `{"chat_id":-200,"text":"x","parse_mode":"HTML"}`, "schema"},
		{"chat id as a string", `{"chat_id":"-100","text":"x","parse_mode":"HTML"}`, ""},
		{"no chat_id", `{"text":"x","parse_mode":"HTML"}`, "schema"},
		{"MarkdownV2", modeBody("MarkdownV2", `*bold* web\-1\.example`), ""},
		{"MarkdownV2 with an unescaped reserved character", modeBody("MarkdownV2", "web-1"), "schema"},
		{"MarkdownV2 unclosed", modeBody("MarkdownV2", "*bold"), "schema"},
		{"MarkdownV2 escapes and markers do not count", modeBody("MarkdownV2", "*"+strings.Repeat(`\.`, 4096)+"*"), ""},
		{"MarkdownV2 over the limit", modeBody("MarkdownV2", strings.Repeat(`\.`, 4097)), "limit"},
		{"Markdown", modeBody("Markdown", "*FIRING* [db\\_1](http://x.example/a_b) `c*d`"), ""},
		{"Markdown unclosed", modeBody("Markdown", "db_1"), "schema"},
		{"Markdown link without its )", modeBody("Markdown", "[x](http://x.example"), "schema"},
		{"Markdown markers do not count", modeBody("Markdown", "_"+strings.Repeat("a", 4096)+"_"), ""},
		{"Markdown over the limit", modeBody("Markdown", strings.Repeat(`\_`, 4097)), "limit"},
		{"mode matched ignoring case", modeBody("markdownv2", "x"), ""},
		{"plain text", `{"chat_id":-100,"text":"<b> * _ [ a & b"}`, ""},
		{"plain text over the limit", `{"chat_id":-100,"text":"` + strings.Repeat("a", 4097) + `"}`, "limit"},
		{"unknown parse mode", modeBody("Markdown3", "x"), "schema"},
		{"no text", `{"chat_id":-100,"parse_mode":"HTML"}`, "schema"},
	}
	check := checker(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := check(tc.body)
			var le *chat.LimitError
			switch tc.want {
			case "":
				if err != nil {
					t.Errorf("unexpected error %v", err)
				}
			case "limit":
				if !errors.As(err, &le) || le.Limit != telegram.MaxText {
					t.Errorf("want a 4096 limit error, got %v", err)
				}
			case "schema":
				if err == nil || chat.IsLimit(err) {
					t.Errorf("want a schema error, got %v", err)
				}
			}
		})
	}
}

func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{`<b>bold</b> &lt;b&gt; &amp;amp; &quot;q&quot; &#39;s&#x27;`, `bold <b> &amp; "q" 's'`},
		{`<a href="https://x.example/?a=1&amp;b=2">link</a>`, `link`},
		{`<a href="tg://user?id=1">1</a> <blockquote>q</blockquote><pre><code class="language-go">x</code></pre>`, `1 qx`},
		{`<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler><STRONG>u</STRONG>`, `stu`},
	}
	for _, tc := range tests {
		got, err := telegram.Visible(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Visible(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`<b>x`, `x</b>`, `<a>x</a>`, `<script>x</script>`, `1 > 0`, `&#0;`, `&#xD800;`, `&lt`} {
		if got, err := telegram.Visible(bad); err == nil {
			t.Errorf("Visible(%q) = %q, want an error", bad, got)
		}
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
		{"ok", 200, nil, `{"ok":true,"result":{"message_id":1}}`, notify.Delivered, "", 0},
		{"429 retry_after", 429, nil, `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 35","parameters":{"retry_after":35}}`, notify.Retry, notify.ReasonRateLimited, 35 * time.Second},
		{"429 header only", 429, map[string]string{"Retry-After": "4"}, `{"ok":false,"error_code":429,"description":"Too Many Requests"}`, notify.Retry, notify.ReasonRateLimited, 4 * time.Second},
		{"chat not found", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, notify.Permanent, notify.ReasonClientError, 0},
		{"can't parse entities", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 12"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{"too long", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: message is too long"}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{"empty", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: message text is empty"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{"migrated", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009999999999}}`, notify.Permanent, notify.ReasonClientError, 0},
		{"other 400", 400, nil, `{"ok":false,"error_code":400,"description":"Bad Request: wrong parameter action in request"}`, notify.Permanent, notify.ReasonClientError, 0},
		{"bad token", 401, nil, `{"ok":false,"error_code":401,"description":"Unauthorized"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"kicked", 403, nil, `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"not found", 404, nil, `{"ok":false,"error_code":404,"description":"Not Found"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{"500", 500, nil, `{"ok":false,"error_code":500,"description":"Internal Server Error"}`, notify.Retry, notify.ReasonServerError, 0},
		{"502 html", 502, nil, `<html>Bad Gateway</html>`, notify.Retry, notify.ReasonServerError, 0},
		{"200 without ok", 200, nil, `<html>proxy</html>`, notify.Retry, notify.ReasonIMRejected, 0},
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

func TestClassifyMigrationNamesTheNewChatID(t *testing.T) {
	r := newNotifier(t, nil).Classify(&notify.Response{StatusCode: 400, Header: http.Header{}, Body: []byte(
		`{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded to a supergroup chat","parameters":{"migrate_to_chat_id":-1009999999999}}`)})
	if !strings.Contains(r.Message, "chat_id: -1009999999999") {
		t.Errorf("message %q does not tell which chat_id to configure", r.Message)
	}
}

func TestClassifyNeverEchoesTheToken(t *testing.T) {
	n := newNotifier(t, nil)
	for _, body := range []string{
		`{"ok":false,"error_code":401,"description":"Unauthorized: ` + token + `"}`,
		`<html>502 for /bot` + token + `/sendMessage</html>`,
	} {
		for _, status := range []int{200, 401, 502} {
			r := n.Classify(&notify.Response{StatusCode: status, Header: http.Header{}, Body: []byte(body)})
			if strings.Contains(r.Message, token) || strings.Contains(r.Message, "ABC-tg_token") {
				t.Errorf("message %q contains the token", r.Message)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	mention := func(m chat.Mention) chat.Common { return chat.Common{Mention: &m} }
	tests := []struct {
		name  string
		opts  telegram.Options
		field string // "" means valid
	}{
		{"supergroup", telegram.Options{ChatID: "-1001234567890"}, ""},
		{"user", telegram.Options{ChatID: "123456789", MessageThreadID: 3, DisableNotification: true}, ""},
		{"channel", telegram.Options{ChatID: "@alerts_channel"}, ""},
		{"missing chat_id", telegram.Options{}, "chat_id"},
		{"chat_id not an id", telegram.Options{ChatID: "alerts"}, "chat_id"},
		{"chat_id out of range", telegram.Options{ChatID: "-99999999999999999999"}, "chat_id"},
		{"negative thread", telegram.Options{ChatID: "1", MessageThreadID: -1}, "message_thread_id"},
		{"mention.all", telegram.Options{ChatID: "1", Common: mention(chat.Mention{All: true})}, "mention.all"},
		{"mobiles", telegram.Options{ChatID: "1", Common: mention(chat.Mention{Mobiles: []string{"+1555"}})}, "mention.mobiles"},
		{"by_label mobile", telegram.Options{ChatID: "1", Common: mention(chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"tel:1"}}}})}, "mention.by_label.team.db"},
		{"common options", telegram.Options{ChatID: "1", Common: chat.Common{MaxMessages: -1}}, "max_messages"},
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
		"https://api.telegram.org/bot123:SECRET/sendMessage": true,
		"https://api.telegram.org/bot123:SECRET/sendmessage": true,
		"http://127.0.0.1:8081/bot123:SECRET/sendMessage":    true,
		"https://api.telegram.org/bot123:SECRET":             false,
		"https://api.telegram.org/bot123:SECRET/sendPhoto":   false,
		"https://api.telegram.org/sendMessage":               false,
	} {
		u, _ := url.Parse(raw)
		err := telegram.CheckURL(u)
		if (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("error %q quotes the token", err)
		}
	}
}

type answer struct {
	Status      int
	OK          bool   `json:"ok"`
	Code        int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter      int   `json:"retry_after"`
		MigrateToChatID int64 `json:"migrate_to_chat_id"`
	} `json:"parameters"`
	raw []byte
}

func post(t *testing.T, u, contentType, body string) answer {
	t.Helper()
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode, raw: raw}
	if err := json.Unmarshal(raw, &a); err != nil {
		t.Fatalf("answer is not JSON: %s", raw)
	}
	return a
}

// TestPresetBodiesPassTheFake sends every fixture, as built, to the
// strict fake: no violation, ok:true, the words FIRING or RESOLVED
// visible.
func TestPresetBodiesPassTheFake(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{ChatID: "@alerts_channel"})
			set, err := render.New(render.Options{})
			if err != nil {
				t.Fatal(err)
			}
			opts := &telegram.Options{ChatID: "@alerts_channel", MessageThreadID: 3, DisableNotification: true,
				Common: chat.Common{Mention: &chat.Mention{Users: []string{"123", "@bob"}}}}
			n, err := telegram.New(notify.Settings{Name: "tg", URL: fake.URL, Templates: set, Options: opts})
			if err != nil {
				t.Fatal(err)
			}
			reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, fx[name]))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				if a := post(t, r.URL, r.Header.Get("Content-Type"), string(r.Body)); !a.OK {
					t.Errorf("answer %s", a.raw)
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
	const fakeToken = "123456:tg-token"
	jsonBody := func(chatID any, text string) string {
		b, _ := json.Marshal(map[string]any{"chat_id": chatID, "text": text, "parse_mode": "HTML"})
		return string(b)
	}
	tests := []struct {
		name        string
		path        string // after the server URL; "" means the sendMessage URL
		contentType string
		body        string
		status      int
		description string
		text        string // the visible text when accepted
	}{
		{"html", "", "application/json", jsonBody(-1001234567890, `<b>FIRING</b> &lt;x&gt; &amp; &#34;q&#34;`), 200, "", `FIRING <x> & "q"`},
		{"chat id as a string", "", "application/json", jsonBody("-1001234567890", "x"), 200, "", "x"},
		{"method name case-insensitive", "/bot" + fakeToken + "/SENDMESSAGE", "application/json", jsonBody(-1001234567890, "x"), 200, "", "x"},
		{"form", "", "application/x-www-form-urlencoded", "chat_id=-1001234567890&text=%3Cb%3Ehi%3C%2Fb%3E&parse_mode=HTML", 200, "", "hi"},
		{"wrong token", "/bot1:nope/sendMessage", "application/json", jsonBody(-1001234567890, "x"), 401, "Unauthorized", ""},
		{"unknown method", "/bot" + fakeToken + "/sendMessages", "application/json", jsonBody(-1001234567890, "x"), 404, "Not Found", ""},
		{"other chat", "", "application/json", jsonBody(-1, "x"), 400, "Bad Request: chat not found", ""},
		{"no chat", "", "application/json", `{"text":"x"}`, 400, "Bad Request: chat_id is empty", ""},
		{"unknown tag", "", "application/json", jsonBody(-1001234567890, "<h1>x</h1>"), 400, "Bad Request: can't parse entities", ""},
		{"unbalanced", "", "application/json", jsonBody(-1001234567890, "<b>x"), 400, "Bad Request: can't parse entities", ""},
		{"bare &", "", "application/json", jsonBody(-1001234567890, "a & b"), 400, "Bad Request: can't parse entities", ""},
		{"bare >", "", "application/json", jsonBody(-1001234567890, "a > b"), 400, "Bad Request: can't parse entities", ""},
		{"empty", "", "application/json", jsonBody(-1001234567890, "<b> </b>"), 400, "Bad Request: message text is empty", ""},
		{"too long", "", "application/json", jsonBody(-1001234567890, strings.Repeat("🔥", 2049)), 400, "Bad Request: message is too long", ""},
		{"4096 after entities", "", "application/json", jsonBody(-1001234567890, strings.Repeat("&amp;", 4096)), 200, "", strings.Repeat("&", 4096)},
		{"unknown parameter", "", "application/json", `{"chat_id":-1001234567890,"text":"x","parse_mod":"HTML"}`, 400, "Bad Request: unknown parameter parse_mod", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
			u := fake.URL
			if tc.path != "" {
				u = fake.Server.URL + tc.path
			}
			a := post(t, u, tc.contentType, tc.body)
			if a.Status != tc.status || a.OK != (tc.status == 200) || !strings.HasPrefix(a.Description, tc.description) || (!a.OK && a.Code != tc.status) {
				t.Errorf("answer %d %s, want %d %q", a.Status, a.raw, tc.status, tc.description)
			}
			got := fake.Received()
			if tc.status == 200 && (len(got) != 1 || got[0].Text != tc.text) {
				t.Errorf("received %+v, want the text %q", got, tc.text)
			}
			if tc.status != 200 && len(fake.Violations()) == 0 {
				t.Error("no violation recorded")
			}
		})
	}
}

func TestFakeRateLimitAndMigration(t *testing.T) {
	c := notifytest.NewClock(notifytest.FixedNow)
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{ChatID: "-4001", MigratedTo: -1004001, Now: c.Now})
	body := func(chatID int64) string { return fmt.Sprintf(`{"chat_id":%d,"text":"x"}`, chatID) }
	a := post(t, fake.URL, "application/json", body(-4001))
	if a.Code != 400 || a.Parameters.MigrateToChatID != -1004001 {
		t.Fatalf("posting to the migrated group: %s", a.raw)
	}
	for i := range 20 {
		c.Advance(time.Second)
		if a := post(t, fake.URL, "application/json", body(-1004001)); !a.OK {
			t.Fatalf("message %d: %s", i+1, a.raw)
		}
	}
	a = post(t, fake.URL, "application/json", body(-1004001))
	if a.Status != 429 || a.Code != 429 || a.Parameters.RetryAfter != 41 { // the first of the 20 leaves the window at +61 s
		t.Fatalf("21st message in a minute: %d %s", a.Status, a.raw)
	}
	r := newNotifier(t, nil).Classify(&notify.Response{StatusCode: a.Status, Header: http.Header{}, Body: a.raw})
	if r.Reason != notify.ReasonRateLimited || r.RetryAfter != 41*time.Second {
		t.Errorf("the fake's 429 classified %+v", r)
	}
	c.Advance(41 * time.Second)
	if a := post(t, fake.URL, "application/json", body(-1004001)); !a.OK {
		t.Errorf("after the wait: %s", a.raw)
	}
}

// TestMarkdownEscapersMeetTheParser escapes hostile values for every
// context of both Markdown modes and has Telegram's rules (package
// tgmarkdown, which the fake Bot API also judges by) read the result: it
// must parse, and show the value.
func TestMarkdownEscapersMeetTheParser(t *testing.T) {
	values := []string{
		"", "plain", notifytest.HostileName, notifytest.HostileSummary, `C:\data\`, `\`, "`", "```", "``a``",
		"_*`[]()~>#+-=|{}.!", "*", "_", "[", "]", ")", "(", "a\\_b", "**", "__", "||", "\\*", "ends with \\",
	}
	v1 := []struct {
		prefix, ctx, suffix string
		// shown maps the value to what the reader sees of it.
		shown func(string) string
	}{
		{"x ", "text", " y *b*", nil},
		{"*", "bold", "* y", nil},
		{"_", "italic", "_ y", nil},
		{"`", "code", "` y", nil},
		{"```\n", "pre", "```", func(s string) string { return strings.ReplaceAll(s, "`", "`\u2060") }},
		{"[", "linktext", "](http://x.example/)", func(s string) string { return strings.ReplaceAll(s, "]", "］") }},
		{"[l](http://x.example/", "linkurl", ") y", func(string) string { return "" }},
		{"[l]", "afterref", " y", nil},
	}
	for _, v := range values {
		for _, c := range v1 {
			text := c.prefix + render.TelegramMarkdownIn(c.ctx, v) + c.suffix
			got, err := tgmarkdown.Legacy(text)
			if err != nil {
				t.Errorf("Markdown, %s, value %q: %q does not parse: %v", c.ctx, v, text, err)
				continue
			}
			want := v
			if c.shown != nil {
				want = c.shown(v)
			}
			if !strings.Contains(strings.ReplaceAll(got, "\u2060", ""), strings.ReplaceAll(want, "\u2060", "")) {
				t.Errorf("Markdown, %s, value %q: shown as %q", c.ctx, v, got)
			}
		}
		for _, wrap := range [][2]string{{"", ""}, {"*", "*"}, {"_", "_"}, {"__", "__"}, {"`", "`"}, {"```\n", "```"}, {"[", "](http://x.example)"}, {"||", "||"}} {
			if v == "" && wrap[0] == "_" {
				continue // "__" opens underline: an empty value in italic is the template's problem, refused at load
			}
			text := wrap[0] + render.TelegramMarkdownV2(v) + wrap[1]
			got, err := tgmarkdown.V2(text)
			if err != nil {
				t.Errorf("MarkdownV2 in %q: value %q: %q does not parse: %v", wrap[0], v, text, err)
				continue
			}
			if !strings.Contains(got, v) {
				t.Errorf("MarkdownV2 in %q: value %q shown as %q", wrap[0], v, got)
			}
		}
	}
}

// userTemplates are targets' own bodies in each parse mode, printing raw
// values: the bridge escapes them for the mode the body declares.
var userTemplates = []struct {
	name, dialect, text string
}{
	{"coroot-markdown", dialects.Coroot, ""}, // examples/templates/coroot-telegram-markdown.json.tmpl
	{"markdownv2", dialects.Alertmanager, `{"chat_id": -1001234567890, "parse_mode": "MarkdownV2",
 "text": "*{{ .Status | toUpper }}* {{ .CommonLabels.alertname }}{{ range .Alerts }}
• _{{ .Labels.instance }}_: {{ .Annotations.summary }} [source]({{ .GeneratorURL }}) ` + "`{{ .Labels.job }}`" + `{{ end }}"}`},
	{"html", dialects.Alertmanager, `{"chat_id": -1001234567890, "parse_mode": "HTML",
 "text": "<b>{{ .Status | toUpper }}</b> {{ .CommonLabels.alertname }}{{ range .Alerts }}
• <i>{{ .Labels.instance }}</i>: {{ .Annotations.summary }}{{ if match "^https?://\\S+$" .GeneratorURL }} <a href=\"{{ .GeneratorURL }}\">source</a>{{ end }}{{ end }}"}`},
}

func userNotifier(t *testing.T, name, dialect, text string) *chat.Notifier {
	t.Helper()
	chatID := "-1001234567890"
	if text == "" {
		b, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", "templates", "coroot-telegram-markdown.json.tmpl"))
		if err != nil {
			t.Fatal(err)
		}
		text, chatID = string(b), "-123456789"
	}
	set, err := render.New(render.Options{Inline: []render.Inline{{Name: "body", Text: text, JSON: true, Markup: telegram.Markup}}})
	if err != nil {
		t.Fatal(err)
	}
	d, err := dialects.New(dialect, dialects.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := notify.Settings{Name: "tg", URL: botURL, Templates: set, BodyTemplate: "body"}
	if dialect != dialects.Alertmanager {
		s.Dialect = d
	}
	return notifytest.NewNotifier(t, telegram.New, &telegram.Options{ChatID: chatID}, s)
}

// TestGoldenUserTemplates renders targets' own bodies in each parse mode
// from the fixtures (hostile values included) and has the strict fake
// accept every message.
func TestGoldenUserTemplates(t *testing.T) {
	fx := notifytest.Fixtures(t)
	for _, ut := range userTemplates {
		for _, name := range []string{"hostile", "mixed", "resolved"} {
			t.Run(ut.name+"/"+name, func(t *testing.T) {
				n := userNotifier(t, ut.name, ut.dialect, ut.text)
				bodies, err := n.Pack(notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				notifytest.GoldenBodies(t, "user-"+ut.name+"-"+name, bodies)
				chatID := "-1001234567890"
				if ut.text == "" {
					chatID = "-123456789"
				}
				fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{Token: token, ChatID: chatID})
				for _, b := range bodies {
					resp, err := http.Post(fake.URL, "application/json", strings.NewReader(string(b)))
					if err != nil {
						t.Fatal(err)
					}
					out, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						t.Errorf("the fake refused %s: %d %s", b, resp.StatusCode, out)
					}
				}
			})
		}
	}
}
