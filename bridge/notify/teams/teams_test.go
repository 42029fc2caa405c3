package teams_test

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
	"github.com/alertbridge/alertbridge/bridge/notify/teams"
	teamsfake "github.com/alertbridge/alertbridge/bridge/notify/teams/fake"
)

const workflowURL = "https://default0123.45.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/0123abcd/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=SAS-sig_value"

func newNotifier(t *testing.T, opts *teams.Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, teams.New, opts, notify.Settings{Name: "teams", URL: workflowURL})
}

func TestRequestPostsJSONToTheTriggerURLUnchanged(t *testing.T) {
	n := newNotifier(t, nil)
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.Method != http.MethodPost || r.URL != workflowURL || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("Authorization") != "" {
		t.Errorf("request %s %s %v", r.Method, r.URL, r.Header)
	}
}

func TestCheckURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{workflowURL, true},
		{"https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=x", true},
		{"https://contoso.webhook.office.com/webhookb2/a@b/IncomingWebhook/c/d", false},
		{"https://CONTOSO.WEBHOOK.OFFICE.COM/x", false},
		{"https://webhook.office.com/x", false},
		{"https://outlook.office.com/webhook/a@b/IncomingWebhook/c/d", false},
		{"https://proxy.example/webhookb2/x", false},
		{"https://notwebhook.office.com.example/flow", true},
	}
	for _, tc := range tests {
		u, _ := url.Parse(tc.url)
		err := teams.CheckURL(u)
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.url, err, tc.ok)
		}
		if err != nil {
			msg := err.Error()
			if !strings.Contains(msg, "Post to a channel when a webhook request is received") || strings.Contains(msg, u.Host) || strings.Contains(strings.ToLower(msg), strings.ToLower(u.Host)) {
				t.Errorf("%s: message %q must name the Workflows template and never quote the URL", tc.url, msg)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	wrap := func(card string) string {
		return `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":` + card + `}]}`
	}
	okCard := `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"hi"}]}`
	mention := `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"Container","items":[{"type":"TextBlock","text":"ping <at>alice@example.com</at>"}]}],"msteams":{"entities":[{"type":"mention","text":"<at>alice@example.com</at>","mentioned":{"id":"alice@example.com","name":"alice@example.com"}}]}}`
	lostMention := `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"ping alice"}],"msteams":{"entities":[{"type":"mention","text":"<at>alice@example.com</at>","mentioned":{"id":"alice@example.com","name":"alice@example.com"}}]}}`
	big := `{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"` + strings.Repeat("x", teams.MaxBodyBytes) + `"}]}`
	tests := []struct {
		name, body string
		ok, limit  bool
	}{
		{"card", wrap(okCard), true, false},
		{"mention in a container", wrap(mention), true, false},
		{"mention in no TextBlock", wrap(lostMention), false, false},
		{"too large", wrap(big), false, true},
		{"not a message", `{"type":"event","attachments":[]}`, false, false},
		{"no attachments", `{"type":"message","attachments":[]}`, false, false},
		{"wrong content type", strings.Replace(wrap(okCard), "adaptive", "hero", 1), false, false},
		{"not an adaptive card", wrap(`{"type":"HeroCard"}`), false, false},
		{"not JSON", `{"type":`, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := teams.Check([]byte(tc.body))
			if (err == nil) != tc.ok || chat.IsLimit(err) != tc.limit {
				t.Errorf("err %v, want ok=%v limit=%v", err, tc.ok, tc.limit)
			}
		})
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			n := newNotifier(t, nil)
			bodies, err := n.Pack(notifytest.BuildGroup(t, fx[name]))
			if err != nil {
				t.Fatal(err)
			}
			for i, b := range bodies {
				if len(b) > teams.MaxBodyBytes {
					t.Errorf("body %d is %d bytes", i, len(b))
				}
			}
			notifytest.GoldenBodies(t, "default-"+name, bodies)
		})
	}
}

// TestGoldenMentions renders static and label-chosen mentions: each user
// appears as <at>id</at> in a TextBlock and in msteams.entities with the
// same text.
func TestGoldenMentions(t *testing.T) {
	n := newNotifier(t, &teams.Options{Common: chat.Common{Mention: &chat.Mention{
		Users:   []string{"alice@example.com"},
		ByLabel: map[string]map[string][]string{"instance": {"db-1:9100": {"5f1c2d3e-0000-4000-8000-00000000db01"}}},
	}}})
	bodies, err := n.Pack(notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	notifytest.GoldenBodies(t, "mentions-mixed", bodies)
	var m struct {
		Attachments []struct {
			Content struct {
				Body    json.RawMessage
				MSTeams struct {
					Entities []struct {
						Text      string
						Mentioned struct{ ID, Name string }
					}
				}
			}
		}
	}
	if err := json.Unmarshal(bodies[0], &m); err != nil {
		t.Fatal(err)
	}
	c := m.Attachments[0].Content
	var got []string
	for _, e := range c.MSTeams.Entities {
		got = append(got, e.Mentioned.ID)
		if e.Text != "<at>"+e.Mentioned.ID+"</at>" || e.Mentioned.Name != e.Mentioned.ID {
			t.Errorf("entity %+v", e)
		}
	}
	if strings.Join(got, " ") != "5f1c2d3e-0000-4000-8000-00000000db01 alice@example.com" {
		t.Errorf("mentioned %q", got)
	}
	texts := strings.Join(teams.TextBlocks(c.Body), "\n")
	if !strings.Contains(texts, "<at>alice@example.com</at>") {
		t.Errorf("no <at> tag in the TextBlocks:\n%s", texts)
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil)
	tests := []struct {
		status  int
		header  string // Retry-After
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{202, "", ``, notify.Delivered, "", 0},
		{200, "", ``, notify.Delivered, "", 0},
		{429, "17", `{"error":{"code":"WorkflowRequestsThrottled","message":"The workflow has been throttled."}}`, notify.Retry, notify.ReasonRateLimited, 17 * time.Second},
		{429, "", `{"error":{"code":"WorkflowRequestsThrottled","message":"throttled"}}`, notify.Retry, notify.ReasonRateLimited, 0},
		{500, "", `{"error":{"code":"InternalServerError","message":"Encountered internal server error."}}`, notify.Retry, notify.ReasonServerError, 0},
		{502, "", `Bad Gateway`, notify.Retry, notify.ReasonServerError, 0},
		{503, "5", ``, notify.Retry, notify.ReasonServerError, 5 * time.Second},
		{401, "", `{"error":{"code":"DirectApiAuthorizationRequired","message":"The request must be authenticated only by Shared Access scheme."}}`, notify.Permanent, notify.ReasonAuthError, 0},
		{403, "", `{"error":{"code":"AuthorizationFailed","message":"denied"}}`, notify.Permanent, notify.ReasonAuthError, 0},
		{404, "", `{"error":{"code":"TriggerNotFound","message":"The request path does not match any known API routes."}}`, notify.Permanent, notify.ReasonAuthError, 0},
		{400, "", `{"error":{"code":"DirectApiRequestHasMoreThanOneAuthorization","message":"The request has both SAS authentication scheme and 'Bearer' authorization scheme."}}`, notify.Permanent, notify.ReasonAuthError, 0},
		{400, "", `{"error":{"code":"TriggerInputSchemaMismatch","message":"The input body for trigger 'manual' of type 'Request' did not match its schema definition."}}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{413, "", ``, notify.Permanent, notify.ReasonTooLarge, 0},
		{409, "", `{"error":{"code":"WorkflowTriggerIsNotEnabled","message":"disabled"}}`, notify.Permanent, notify.ReasonClientError, 0},
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

func TestClassifyRedactsTheSignature(t *testing.T) {
	n := newNotifier(t, nil)
	r := n.Classify(&notify.Response{StatusCode: 404, Header: http.Header{}, Body: []byte(`{"error":{"code":"x","message":"no route for ...&sig=SAS-sig_value"}}`)})
	if strings.Contains(r.Message, "SAS-sig_value") {
		t.Errorf("message %q contains the sig", r.Message)
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		m    *chat.Mention
		ok   bool
	}{
		{"no mentions", nil, true},
		{"upn and object id", &chat.Mention{Users: []string{"alice@example.com", "5f1c2d3e-0000-4000-8000-00000000db01"}}, true},
		{"everyone", &chat.Mention{All: true}, false},
		{"mobiles", &chat.Mention{Mobiles: []string{"13800000000"}}, false},
		{"angle brackets", &chat.Mention{Users: []string{"<at>x</at>"}}, false},
		{"space", &chat.Mention{Users: []string{"Alice Smith"}}, false},
		{"by_label tel", &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"tel:138"}}}}, false},
		{"by_label ok", &chat.Mention{ByLabel: map[string]map[string][]string{"team": {"db": {"bob@example.com"}}}}, true},
	}
	for _, tc := range tests {
		err := (&teams.Options{Common: chat.Common{Mention: tc.m}}).Validate()
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	if err := (&teams.Options{Common: chat.Common{MaxMessages: 51}}).Validate(); err == nil {
		t.Error("max_messages 51 accepted")
	}
}

// post sends body to url as JSON, with extra headers, and returns the
// status and body of the answer.
func post(t *testing.T, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestFakeIsStrict checks the fake Workflows trigger answers as the
// contract says, and records as violations the run failures its 202
// hides.
func TestFakeIsStrict(t *testing.T) {
	card := func(text, entities string) string {
		return `{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","contentUrl":null,"content":{"type":"AdaptiveCard","version":"1.4","body":[{"type":"TextBlock","text":"` + text + `","wrap":true}],"msteams":{"entities":[` + entities + `]}}}]}`
	}
	mention := `{"type":"mention","text":"<at>a@example.com</at>","mentioned":{"id":"a@example.com","name":"a@example.com"}}`
	tests := []struct {
		name      string
		url       func(f *teamsfake.Teams) string
		body      string
		header    map[string]string
		status    int
		answer    string // in the body
		violation bool
		text      string // visible, when accepted
	}{
		{"card", nil, card(`\\[FIRING\\] a\\_b`, ""), nil, 202, "", false, "[FIRING] a_b"},
		{"mention", nil, card("hi <at>a@example.com</at>", mention), nil, 202, "", false, "hi <at>a@example.com</at>"},
		{"mention not in the text", nil, card("hi", mention), nil, 202, "", true, ""},
		{"card over 28672 bytes", nil, card(strings.Repeat("x", teamsfake.TeamsMaxCardBytes), ""), nil, 202, "", true, ""},
		{"not a message", nil, `{"type":"event","attachments":[]}`, nil, 202, "", true, ""},
		{"no sig", func(f *teamsfake.Teams) string { return strings.Split(f.URL, "&sig=")[0] }, card("x", ""), nil, 401, "DirectApiAuthorizationRequired", true, ""},
		{"wrong sig", func(f *teamsfake.Teams) string { return f.URL + "x" }, card("x", ""), nil, 401, "DirectApiAuthorizationRequired", true, ""},
		{"two authorizations", nil, card("x", ""), map[string]string{"Authorization": "Bearer t"}, 400, "DirectApiRequestHasMoreThanOneAuthorization", true, ""},
		{"not JSON", nil, `{"type":`, nil, 400, "InvalidRequestContent", true, ""},
		{"wrong path", func(f *teamsfake.Teams) string { return strings.Replace(f.URL, "/invoke", "/run", 1) }, card("x", ""), nil, 404, "does not match any known API routes", true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := teamsfake.NewTeams(t, teamsfake.TeamsOptions{})
			u := f.URL
			if tc.url != nil {
				u = tc.url(f)
			}
			status, body := post(t, u, tc.body, tc.header)
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
