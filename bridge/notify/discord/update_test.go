package discord_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/discord"
	discordfake "github.com/alertbridge/alertbridge/bridge/notify/discord/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const msgID = "1300000000000000042"

func TestClassifyUpdateAnswers(t *testing.T) {
	n := notifytest.NewNotifier(t, discord.New, &discord.Options{}, notify.Settings{Name: "dc", URL: webhookURL, Update: notify.UpdateEdit})
	tests := []struct {
		name    string
		status  int
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		ref     string
		gone    bool
	}{
		{"sent with wait", 200, `{"id":"` + msgID + `","channel_id":"1"}`, notify.Delivered, "", msgID, false},
		{"sent without wait", 204, ``, notify.Delivered, "", "", false},
		{"unknown message", 404, `{"message":"Unknown Message","code":10008}`, notify.Permanent, notify.ReasonClientError, "", true},
		{"unknown webhook is not gone", 404, `{"message":"Unknown Webhook","code":10015}`, notify.Permanent, notify.ReasonAuthError, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.Ref != tc.ref || r.Gone != tc.gone {
				t.Errorf("got %v/%s ref %q gone %v, want %v/%s %q %v (%s)", r.Verdict, r.Reason, r.Ref, r.Gone, tc.verdict, tc.reason, tc.ref, tc.gone, r.Message)
			}
		})
	}
}

// TestGoldenEditBodies: the PATCH of the mixed fixture: the webhook's
// URL with /messages/{id}, thread_id kept and wait dropped, and only the
// keys an edit takes.
func TestGoldenEditBodies(t *testing.T) {
	n := notifytest.NewNotifier(t, discord.New, &discord.Options{Username: "Alertmanager", AvatarURL: "https://example.com/a.png"},
		notify.Settings{Name: "dc", URL: webhookURL, Update: notify.UpdateEdit})
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	revised := n.Revise(reqs, []string{msgID})
	var bodies [][]byte
	for _, r := range revised {
		bodies = append(bodies, r.Body)
	}
	notifytest.GoldenBodies(t, "edit-mixed", bodies)
	r := revised[0]
	u, _ := url.Parse(r.URL)
	if r.Method != http.MethodPatch || u.Path != "/api/webhooks/123456789012345678/TOKEN-abc_123/messages/"+msgID || u.RawQuery != "thread_id=42" || r.Ref != msgID || r.Fallback != reqs[0] {
		t.Errorf("edit %s %s ref %q", r.Method, r.URL, r.Ref)
	}
	if s := string(r.Body); strings.Contains(s, `"username"`) || strings.Contains(s, `"avatar_url"`) || !strings.Contains(s, `"allowed_mentions"`) {
		t.Errorf("edit body %s", s)
	}
	if got := n.Revise(reqs, []string{"not-a-snowflake"}); got[0] != reqs[0] {
		t.Error("a malformed ref was used")
	}
}

// TestEditAgainstTheFake: firing then resolved is one message, edited; a
// deleted message is posted anew; more parts post the extra ones.
func TestEditAgainstTheFake(t *testing.T) {
	fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{Now: stepping()})
	set, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := discord.New(notify.Settings{Name: "dc", URL: fake.URL, Templates: set, Options: &discord.Options{Username: "Alertmanager"}, Update: notify.UpdateEdit})
	if err != nil {
		t.Fatal(err)
	}
	deliver := (&notifytest.Deliverer{T: t, N: n}).Deliver
	fx := notifytest.Fixtures(t)
	first := "1300000000000000001"
	if res := deliver(fx["firing"]); !slices.Equal(res.Refs, []string{first}) {
		t.Fatalf("first delivery refs %q", res.Refs)
	}
	deliver(fx["resolved"])
	ms := fake.Messages()
	if len(ms) != 1 || ms[0].Edits != 1 || !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Fatalf("after resolved: %d messages %+v, want the one edited", len(ms), ms)
	}
	fake.Delete(first)
	if res := deliver(fx["firing"]); !slices.Equal(res.Refs, []string{"1300000000000000002"}) {
		t.Errorf("after the message was deleted: refs %q, want the new message", res.Refs)
	}
	deliver(fx["many"])
	if ms := fake.Messages(); len(ms) < 2 || ms[0].Edits != 1 {
		t.Errorf("many after one: %+v, want the first edited and the others new", ms)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestFakeEditContract: the fake answers edits as Discord does.
func TestFakeEditContract(t *testing.T) {
	fake := discordfake.NewDiscord(t, discordfake.DiscordOptions{Now: stepping()})
	post := func(method, u, body string) (int, string) {
		req, _ := http.NewRequest(method, u, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b strings.Builder
		_, _ = io.Copy(&b, resp.Body)
		return resp.StatusCode, b.String()
	}
	const msg = `{"content":"x","allowed_mentions":{"parse":[]}}`
	if code, ans := post(http.MethodPost, fake.URL+"?wait=true", msg); code != 200 || !strings.Contains(ans, `"id":"1300000000000000001"`) {
		t.Fatalf("send: %d %s", code, ans)
	}
	edit := fake.URL + "/messages/1300000000000000001"
	tests := []struct {
		name, method, url, body string
		status                  int
		violation               bool
	}{
		{"edit", http.MethodPatch, edit, `{"content":"y","allowed_mentions":{"parse":[]}}`, 200, false},
		{"same again is fine", http.MethodPatch, edit, `{"content":"y","allowed_mentions":{"parse":[]}}`, 200, false},
		{"unknown message", http.MethodPatch, fake.URL + "/messages/1300000000000000009", msg, 404, false},
		{"username in an edit", http.MethodPatch, edit, `{"content":"y","username":"a","allowed_mentions":{"parse":[]}}`, 400, true},
		{"wait in an edit", http.MethodPatch, edit + "?wait=true", msg, 400, true},
		{"POST to a message", http.MethodPost, edit, msg, 405, true},
		{"PATCH the webhook", http.MethodPatch, fake.URL, msg, 405, true},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		code, ans := post(tc.method, tc.url, tc.body)
		if code != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, code, ans, tc.status)
		}
		if tc.status == 404 && !strings.Contains(ans, `"code": 10008`) && !strings.Contains(ans, `"code":10008`) {
			t.Errorf("%s: %s, want code 10008", tc.name, ans)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.violation)
		}
	}
	if ms := fake.Messages(); len(ms) != 1 || ms[0].Edits != 2 || ms[0].Text != "y" {
		t.Errorf("messages %+v", ms)
	}
}

// stepping is a clock 3 s further at each reading: clear of the rate
// limits, which other tests cover.
func stepping() func() time.Time {
	var mu sync.Mutex
	now := notifytest.FixedNow
	return func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(3 * time.Second)
		return now
	}
}
