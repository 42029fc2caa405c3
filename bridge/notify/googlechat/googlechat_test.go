package googlechat_test

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
	"github.com/alertbridge/alertbridge/bridge/notify/googlechat"
	googlechatfake "github.com/alertbridge/alertbridge/bridge/notify/googlechat/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

const webhookURL = "https://chat.googleapis.com/v1/spaces/AAAAbcd/messages?key=KEY-123&token=TOKEN-abc"

func newNotifier(t *testing.T, opts *googlechat.Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, googlechat.New, opts, notify.Settings{Name: "gchat", URL: webhookURL})
}

func TestRequestURLAndThread(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	tests := []struct {
		thread    bool
		wantQuery string
	}{
		{false, "key=KEY-123&token=TOKEN-abc"},
		{true, "key=KEY-123&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&token=TOKEN-abc"},
	}
	for _, tc := range tests {
		for _, format := range []string{googlechat.Card, googlechat.Text} {
			opts := &googlechat.Options{Format: format, ThreadByGroup: tc.thread}
			reqs, err := newNotifier(t, opts).Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			r := reqs[0]
			u, _ := url.Parse(r.URL)
			if r.Method != http.MethodPost || u.Host != "chat.googleapis.com" || u.Path != "/v1/spaces/AAAAbcd/messages" || u.RawQuery != tc.wantQuery {
				t.Errorf("%s thread=%v: %s %s", format, tc.thread, r.Method, r.URL)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/json; charset=UTF-8" {
				t.Errorf("Content-Type %q", ct)
			}
			var m struct {
				Thread *struct{ ThreadKey string } `json:"thread"`
			}
			if err := json.Unmarshal(r.Body, &m); err != nil {
				t.Fatal(err)
			}
			switch {
			case !tc.thread && m.Thread != nil:
				t.Errorf("%s: thread sent without thread_by_group", format)
			case tc.thread && (m.Thread == nil || m.Thread.ThreadKey != opts.ThreadKey(g.GroupKey)):
				t.Errorf("%s: thread %+v, want key %s", format, m.Thread, opts.ThreadKey(g.GroupKey))
			}
		}
	}
}

func TestThreadKeyIsStablePerGroup(t *testing.T) {
	o := &googlechat.Options{}
	a, b := o.ThreadKey(`{}:{alertname="A"}`), o.ThreadKey(`{}:{alertname="B"}`)
	if a != o.ThreadKey(`{}:{alertname="A"}`) || a == b || len(a) > 4000 || strings.Contains(a, "alertname") {
		t.Errorf("thread keys %q %q", a, b)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{webhookURL, true},
		{"https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K&token=T&threadKey=x", true},
		{"https://chat.googleapis.com/v1/spaces/AAAA/messages?key=K", false},
		{"https://chat.googleapis.com/v1/spaces/AAAA/messages?token=T", false},
		{"https://chat.googleapis.com/v1/spaces/AAAA?key=K&token=T", false},
		{"https://chat.google.com/room/AAAA?cls=7", false},
		{"https://CHAT.googleapis.com/v1/spaces/AAAA?key=K&token=T", false},
		// A proxy in front of Google Chat, with a path prefix of its own,
		// is accepted as Lark's check accepts proxies, with or without the
		// credentials (the proxy may add them).
		{"https://proxy.example/googlechat/v1/spaces/AAAA/messages?key=K&token=T", true},
		{"http://egress.internal:8080/chat/AAAA", true},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.url)
		err := googlechat.CheckURL(u)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil && (strings.Contains(err.Error(), u.RawQuery) || strings.Contains(err.Error(), "AAAA")) {
			t.Errorf("%s: error quotes the URL: %v", tc.url, err)
		}
	}
}

func TestCheck(t *testing.T) {
	widgets := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = `{"textParagraph":{"text":"x"}}`
		}
		return `[` + strings.Join(w, ",") + `]`
	}
	card := func(sections string) string {
		return `{"text":"t","cardsV2":[{"cardId":"c","card":{"sections":` + sections + `}}]}`
	}
	tests := []struct {
		name, body string
		ok, limit  bool
	}{
		{"text", `{"text":"hello"}`, true, false},
		{"card", card(`[{"widgets":` + widgets(3) + `}]`), true, false},
		{"100 widgets", card(`[{"widgets":` + widgets(60) + `},{"widgets":` + widgets(40) + `}]`), true, false},
		{"101 widgets", card(`[{"widgets":` + widgets(60) + `},{"widgets":` + widgets(41) + `}]`), false, true},
		{"32000 bytes", card(`[{"widgets":[{"textParagraph":{"text":"` + strings.Repeat("x", googlechat.MaxBodyBytes-len(card(`[{"widgets":[{"textParagraph":{"text":""}}]}]`))) + `"}}]}]`), true, false},
		{"32001 bytes", card(`[{"widgets":[{"textParagraph":{"text":"` + strings.Repeat("x", googlechat.MaxBodyBytes+1-len(card(`[{"widgets":[{"textParagraph":{"text":""}}]}]`))) + `"}}]}]`), false, true},
		{"4096 characters of text", `{"text":"` + strings.Repeat("é", 4096) + `"}`, true, false},
		{"4097 characters of text", `{"text":"` + strings.Repeat("é", 4097) + `"}`, false, true},
		{"emoji count twice", `{"text":"` + strings.Repeat("🔥", 2049) + `"}`, false, true},
		{"empty text", `{"text":"  ","cardsV2":[]}`, false, false},
		{"no text", card(`[{"widgets":` + widgets(1) + `}]`)[len(`{"text":"t",`)-1:], false, false},
		{"section without widgets", card(`[{"widgets":[]}]`), false, false},
		{"card without id", `{"text":"t","cardsV2":[{"card":{"sections":[{"widgets":` + widgets(1) + `}]}}]}`, false, false},
		{"not JSON", `{"text":`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := googlechat.Check([]byte(tc.body))
			if (err == nil) != tc.ok || chat.IsLimit(err) != tc.limit {
				t.Errorf("err %v, want ok=%v limit=%v", err, tc.ok, tc.limit)
			}
		})
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, format := range []string{googlechat.Card, googlechat.Text} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(format+"/"+name, func(t *testing.T) {
				n := newNotifier(t, &googlechat.Options{Format: format})
				bodies, err := n.Pack(notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				notifytest.GoldenBodies(t, format+"-"+name, bodies)
			})
		}
	}
}

// TestGoldenMentions renders everyone, static and label-chosen mentions
// in both formats: always in the text, as <users/ID>.
func TestGoldenMentions(t *testing.T) {
	for _, format := range []string{googlechat.Card, googlechat.Text} {
		n := newNotifier(t, &googlechat.Options{Format: format, ThreadByGroup: true, Common: chat.Common{Mention: &chat.Mention{
			All:     true,
			Users:   []string{"users/111111111111111111111"},
			ByLabel: map[string]map[string][]string{"instance": {"db-1:9100": {"222222222222222222222"}}},
		}}})
		bodies, err := n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
		if err != nil {
			t.Fatal(err)
		}
		notifytest.GoldenBodies(t, "mentions-"+format+"-mixed", bodies)
		var m struct{ Text string }
		if err := json.Unmarshal(bodies[0], &m); err != nil {
			t.Fatal(err)
		}
		first := strings.SplitN(m.Text, "\n", 2)[0]
		if !strings.HasSuffix(first, " <users/all> <users/222222222222222222222> <users/111111111111111111111>") {
			t.Errorf("%s: headline %q does not end with the mentions", format, first)
		}
	}
}

// TestLabelsCannotMention: a "<" in a user value reaches the text
// defused, so it can neither mention nor link.
func TestLabelsCannotMention(t *testing.T) {
	payload := notifytest.NewPayload("alertname", []notifytest.Alert{{
		Status: "firing", Labels: map[string]string{"alertname": "X <users/all>", "instance": "<https://evil.example|click>"},
		Annotations: map[string]string{"summary": "<users/all> wake up"}, StartsAt: "2026-11-23T10:00:00Z", EndsAt: notifytest.ZeroTime,
	}})
	for _, format := range []string{googlechat.Card, googlechat.Text} {
		bodies, err := newNotifier(t, &googlechat.Options{Format: format}).Pack(notifytest.BuildGroup(t, payload))
		if err != nil {
			t.Fatal(err)
		}
		var m struct{ Text string }
		if err := json.Unmarshal(bodies[0], &m); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(m.Text, "<users/") || strings.Contains(m.Text, "<https://evil") {
			t.Errorf("%s: a label value mentions or links in the text:\n%s", format, m.Text)
		}
		if !strings.Contains(strings.ReplaceAll(m.Text, "\u200b", ""), "X <users/all>") {
			t.Errorf("%s: the value is not shown as written:\n%s", format, m.Text)
		}
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil)
	envelope := func(code int, status, msg string) string {
		b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": status}})
		return string(b)
	}
	tests := []struct {
		status  int
		header  string // Retry-After
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, "", `{"name":"spaces/AAAA/messages/x","thread":{"name":"spaces/AAAA/threads/y"}}`, notify.Delivered, "", 0},
		{429, "", envelope(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."), notify.Retry, notify.ReasonRateLimited, googlechat.RateLimitWait},
		{429, "12", envelope(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."), notify.Retry, notify.ReasonRateLimited, 12 * time.Second},
		{500, "", envelope(500, "INTERNAL", "Internal error encountered."), notify.Retry, notify.ReasonServerError, 0},
		{503, "3", envelope(503, "UNAVAILABLE", "The service is currently unavailable."), notify.Retry, notify.ReasonServerError, 3 * time.Second},
		{502, "", `<html>Bad Gateway</html>`, notify.Retry, notify.ReasonServerError, 0},
		{400, "", envelope(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unknown name \"foo\": Cannot find field."), notify.Permanent, notify.ReasonIMRejected, 0},
		{400, "", `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"reason":"API_KEY_INVALID"}]}}`, notify.Permanent, notify.ReasonAuthError, 0},
		{400, "", envelope(400, "INVALID_ARGUMENT", "Message is longer than 4096 characters"), notify.Permanent, notify.ReasonTooLarge, 0},
		{400, "", envelope(400, "INVALID_ARGUMENT", "Maximum length of the field is 4096. Field: apps.dynamite.CreateMessageInfo.text_body"), notify.Permanent, notify.ReasonTooLarge, 0},
		{401, "", envelope(401, "UNAUTHENTICATED", "Request had invalid authentication credentials."), notify.Permanent, notify.ReasonAuthError, 0},
		{403, "", envelope(403, "PERMISSION_DENIED", "The caller does not have permission"), notify.Permanent, notify.ReasonAuthError, 0},
		{404, "", envelope(404, "NOT_FOUND", "Requested entity was not found."), notify.Permanent, notify.ReasonAuthError, 0},
		{413, "", ``, notify.Permanent, notify.ReasonTooLarge, 0},
		{409, "", envelope(409, "ALREADY_EXISTS", "exists"), notify.Permanent, notify.ReasonClientError, 0},
	}
	for _, tc := range tests {
		h := http.Header{}
		if tc.header != "" {
			h.Set("Retry-After", tc.header)
		}
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %s: got %v/%s/%s, want %v/%s/%s", tc.status, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
		if tc.verdict != notify.Delivered && r.Message == "" {
			t.Errorf("%d: no message", tc.status)
		}
	}
}

func TestClassifyRedactsCredentials(t *testing.T) {
	n := newNotifier(t, nil)
	r := n.Classify(&notify.Response{StatusCode: 400, Header: http.Header{}, Body: []byte(`{"error":{"code":400,"message":"bad key KEY-123 for token TOKEN-abc","status":"INVALID_ARGUMENT"}}`)})
	if strings.Contains(r.Message, "KEY-123") || strings.Contains(r.Message, "TOKEN-abc") {
		t.Errorf("message %q contains a credential", r.Message)
	}
}

func TestOptionsValidate(t *testing.T) {
	o := &googlechat.Options{}
	if err := o.Validate(); err != nil || o.Format != googlechat.Card {
		t.Errorf("default format %q, %v", o.Format, err)
	}
	tests := []struct {
		name string
		o    googlechat.Options
		ok   bool
	}{
		{"text", googlechat.Options{Format: "text"}, true},
		{"unknown format", googlechat.Options{Format: "cards"}, false},
		{"users", googlechat.Options{Common: chat.Common{Mention: &chat.Mention{All: true, Users: []string{"users/123", "456", "a@example.com"}}}}, true},
		{"mobiles", googlechat.Options{Common: chat.Common{Mention: &chat.Mention{Mobiles: []string{"13800000000"}}}}, false},
		{"bad user", googlechat.Options{Common: chat.Common{Mention: &chat.Mention{Users: []string{"<users/all>"}}}}, false},
		{"bad by_label user", googlechat.Options{Common: chat.Common{Mention: &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"two words"}}}}}}, false},
		{"max_messages", googlechat.Options{Common: chat.Common{MaxMessages: -1}}, false},
	}
	for _, tc := range tests {
		if err := tc.o.Validate(); (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json; charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestFakeIsStrict checks the fake webhook answers as the contract says
// and shows what a reader sees.
func TestFakeIsStrict(t *testing.T) {
	widgets := func(n int) string {
		w := make([]string, n)
		for i := range w {
			w[i] = `{"textParagraph":{"text":"x"}}`
		}
		return strings.Join(w, ",")
	}
	tests := []struct {
		name      string
		url       func(f *googlechatfake.GoogleChat) string
		body      string
		status    int
		answer    string
		violation bool
		text      string
	}{
		{"text", nil, `{"text":"<users/all> a\u200b<b> <https://x.example/|see>"}`, 200, `"thread":{"name"`, false, "@all a<b> see (https://x.example/)"},
		{"card", nil, `{"text":"t","cardsV2":[{"cardId":"c","card":{"header":{"title":"T &amp;"},"sections":[{"header":"<b>FIRING</b>","widgets":[{"textParagraph":{"text":"&lt;b&gt;&amp;amp;<br><a href=\"https://am.example/?a=1&amp;b=2\">all</a>"}},{"buttonList":{"buttons":[{"text":"Open","onClick":{"openLink":{"url":"https://am.example/"}}}]}}]}]}}]}`,
			200, "", false, "T &amp;\n\nFIRING\n<b>&amp;\nall (https://am.example/?a=1&b=2)\nOpen (https://am.example/)"},
		{"no key", func(f *googlechatfake.GoogleChat) string { return strings.Replace(f.URL, "key=", "k=", 1) }, `{"text":"x"}`, 400, "API_KEY_INVALID", true, ""},
		{"wrong token", func(f *googlechatfake.GoogleChat) string { return f.URL + "x" }, `{"text":"x"}`, 401, "UNAUTHENTICATED", true, ""},
		{"wrong space", func(f *googlechatfake.GoogleChat) string { return strings.Replace(f.URL, "/spaces/", "/spaces/x", 1) }, `{"text":"x"}`, 404, "NOT_FOUND", true, ""},
		{"unknown field", nil, `{"text":"x","markdown":"y"}`, 400, "INVALID_ARGUMENT", true, ""},
		{"empty text", nil, `{"text":""}`, 400, "INVALID_ARGUMENT", true, ""},
		{"text over 4096", nil, `{"text":"` + strings.Repeat("x", 4097) + `"}`, 400, "longer than 4096", true, ""},
		{"over 32000 bytes", nil, `{"text":"t","cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[{"textParagraph":{"text":"` + strings.Repeat("x", 32000) + `"}}]}]}}]}`, 400, "INVALID_ARGUMENT", true, ""},
		{"section without widgets", nil, `{"text":"t","cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[]}]}}]}`, 400, "INVALID_ARGUMENT", true, ""},
		{"101 widgets", nil, `{"text":"t","cardsV2":[{"cardId":"c","card":{"sections":[{"widgets":[` + widgets(101) + `]}]}}]}`, 200, "", true, ""},
		{"bad reply option", func(f *googlechatfake.GoogleChat) string { return f.URL + "&messageReplyOption=REPLY" }, `{"text":"x"}`, 400, "INVALID_ARGUMENT", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{})
			u := f.URL
			if tc.url != nil {
				u = tc.url(f)
			}
			status, body := post(t, u, tc.body)
			if status != tc.status || !strings.Contains(body, tc.answer) {
				t.Errorf("answer %d %q, want %d with %q", status, body, tc.status, tc.answer)
			}
			if got := len(f.Violations()) > 0; got != tc.violation {
				t.Errorf("violations %q, want some: %v", f.Violations(), tc.violation)
			}
			if tc.text != "" {
				if got := f.Received(); len(got) != 1 || !strings.Contains(got[0].Text, tc.text) {
					t.Errorf("received %q, want visible text %q", got, tc.text)
				}
			}
		})
	}
}

// TestFakeRateLimit: the 61st message within a minute is refused with
// Google's quota answer.
func TestFakeRateLimit(t *testing.T) {
	f := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{})
	for i := range googlechatfake.GoogleChatPerMinute {
		if status, body := post(t, f.URL, `{"text":"x"}`); status != 200 {
			t.Fatalf("message %d: %d %s", i+1, status, body)
		}
	}
	status, body := post(t, f.URL, `{"text":"x"}`)
	if status != 429 || !strings.Contains(body, "RESOURCE_EXHAUSTED") {
		t.Errorf("61st message: %d %s", status, body)
	}
	r := newNotifier(t, nil).Classify(&notify.Response{StatusCode: status, Header: http.Header{}, Body: []byte(body)})
	if r.Verdict != notify.Retry || r.Reason != notify.ReasonRateLimited || r.RetryAfter != googlechat.RateLimitWait {
		t.Errorf("classified %+v", r)
	}
}
