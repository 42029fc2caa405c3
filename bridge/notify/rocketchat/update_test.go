package rocketchat_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	"github.com/alertbridge/alertbridge/bridge/notify/rocketchat"
	rocketchatfake "github.com/alertbridge/alertbridge/bridge/notify/rocketchat/fake"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const (
	server    = "https://chat.example.com/rc"
	userID    = "rcBotUserId0000x"
	authToken = "xrcauthxsecretx0123456789"
	roomID    = "rcOpsRoom00000000"
	msgID     = "rcMsg000000000042"
)

func apiNotifier(t *testing.T, mode notify.Update, opts *rocketchat.Options) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = &rocketchat.Options{UserID: userID, RoomID: roomID}
	}
	return notifytest.NewNotifier(t, rocketchat.New, opts, notify.Settings{Name: "rc", URL: server, Secret: authToken, Update: mode})
}

func bodiesOf(reqs []*notify.Request) [][]byte {
	var out [][]byte
	for _, r := range reqs {
		out = append(out, r.Body)
	}
	return out
}

// TestGoldenAPIBodies: the API mode posts the preset body to
// chat.postMessage with roomId first; a reply adds tmid.
func TestGoldenAPIBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	opts := &rocketchat.Options{UserID: userID, RoomID: roomID, Alias: "Alertmanager", Emoji: ":rotating_light:"}
	for _, name := range []string{"mixed", "hostile", "many"} {
		t.Run(name, func(t *testing.T) {
			reqs, err := apiNotifier(t, notify.UpdateNew, opts).Build(context.Background(), notifytest.BuildGroup(t, fx[name]))
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range reqs {
				if r.Method != http.MethodPost || r.URL != server+"/api/v1/chat.postMessage" || r.Header.Get("X-User-Id") != userID || r.Header.Get("X-Auth-Token") != authToken {
					t.Fatalf("%s %s %v", r.Method, r.URL, r.Header)
				}
				if !strings.HasPrefix(string(r.Body), `{"roomId":"`+roomID+`","text":`) {
					t.Errorf("body %s", r.Body)
				}
			}
			notifytest.GoldenBodies(t, "api-"+name, bodiesOf(reqs))
		})
	}
	t.Run("reply", func(t *testing.T) {
		n := apiNotifier(t, notify.UpdateReply, opts)
		reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, fx["mixed"]))
		if err != nil {
			t.Fatal(err)
		}
		revised := n.Revise(reqs, []string{rocketchat.Ref(roomID, msgID)})
		notifytest.GoldenBodies(t, "api-reply-mixed", bodiesOf(revised))
		if r := revised[0]; r.URL != reqs[0].URL || r.Ref != "" || !strings.HasSuffix(string(r.Body), `,"tmid":"`+msgID+`"}`) {
			t.Errorf("reply %s ref %q body %s", r.URL, r.Ref, r.Body)
		}
		for _, ref := range []string{"rcDevRoom00000000/" + msgID, roomID + "/" + msgID + "/x", roomID, ""} {
			if got := n.Revise(reqs, []string{ref}); got[0] != reqs[0] {
				t.Errorf("ref %q was used: %s", ref, got[0].Body)
			}
		}
	})
}

// TestAPIRefusesAChannelInTheBody: a target's own template that names a
// channel or a room cannot post elsewhere than room_id.
func TestAPIRefusesAChannelInTheBody(t *testing.T) {
	for _, body := range []string{`{"text":"x","channel":"#other"}`, `{"text":"x","roomId":"other"}`, `{"text":"x"}`} {
		set, err := render.New(render.Options{Inline: []render.Inline{{Name: "own", Text: body, JSON: true}}})
		if err != nil {
			t.Fatal(err)
		}
		n := notifytest.NewNotifier(t, rocketchat.New, &rocketchat.Options{UserID: userID, RoomID: roomID},
			notify.Settings{Name: "rc", URL: server, Secret: authToken, Templates: set, BodyTemplate: "own"})
		reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
		if ok := body == `{"text":"x"}`; (err == nil) != ok {
			t.Errorf("%s: %v", body, err)
		} else if ok && string(reqs[0].Body) != `{"roomId":"`+roomID+`","text":"x"}` {
			t.Errorf("%s: sent %s", body, reqs[0].Body)
		}
	}
}

func TestClassifyAPIAnswers(t *testing.T) {
	n := apiNotifier(t, notify.UpdateReply, nil)
	sent := `{"ts":1,"channel":"` + roomID + `","message":{"_id":"` + msgID + `","rid":"` + roomID + `","msg":"x"},"success":true}`
	tooMany := `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 52 seconds before trying this endpoint again. [error-too-many-requests]"}`
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		ref     string
		wait    time.Duration
	}{
		{"posted", 200, nil, sent, notify.Delivered, "", roomID + "/" + msgID, 0},
		{"posted in another room is not remembered", 200, nil, strings.ReplaceAll(sent, `"rid":"`+roomID, `"rid":"rcDevRoom00000000`), notify.Delivered, "", "", 0},
		{"an old server's bare success", 200, nil, `{"success":true}`, notify.Delivered, "", "", 0},
		{"refused", 400, nil, `{"success":false,"error":"error-message-size-exceeded"}`, notify.Permanent, notify.ReasonClientError, "", 0},
		{"a 200 without success", 200, nil, `<!DOCTYPE html><html>Rocket.Chat</html>`, notify.Permanent, notify.ReasonIMRejected, "", 0},
		{"bad token", 401, nil, `{"status":"error","message":"You must be logged in to do this."}`, notify.Permanent, notify.ReasonAuthError, "", 0},
		{"forbidden", 403, nil, `{"success":false,"error":"unauthorized"}`, notify.Permanent, notify.ReasonAuthError, "", 0},
		{"not found", 404, nil, `Not found`, notify.Permanent, notify.ReasonClientError, "", 0},
		{"rate limited", 429, nil, tooMany, notify.Retry, notify.ReasonRateLimited, "", 52 * time.Second},
		{"rate limited, reset", 429, map[string]string{"X-RateLimit-Reset": strconv.FormatInt(notifytest.FixedNow.Add(7*time.Second).UnixMilli(), 10)}, tooMany, notify.Retry, notify.ReasonRateLimited, "", 7 * time.Second},
		{"server error", 500, nil, `{"success":false,"error":"Internal server error"}`, notify.Retry, notify.ReasonServerError, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.Ref != tc.ref || r.RetryAfter != tc.wait || r.Gone {
				t.Errorf("got %v/%s ref %q wait %s gone %v, want %v/%s %q %s (%s)", r.Verdict, r.Reason, r.Ref, r.RetryAfter, r.Gone, tc.verdict, tc.reason, tc.ref, tc.wait, r.Message)
			}
		})
	}
	r := n.Classify(&notify.Response{StatusCode: 400, Header: http.Header{}, Body: []byte(`{"success":false,"error":"bad token ` + authToken + `"}`)})
	if strings.Contains(r.Message, authToken) {
		t.Errorf("the token is in the message: %s", r.Message)
	}
}

// TestCheckTarget: what each mode takes, reported at load.
func TestCheckTarget(t *testing.T) {
	in, _, _ := registry.Lookup("rocketchat")
	if in.SupportsUpdate(notify.UpdateEdit) || !in.SupportsUpdate(notify.UpdateReply) {
		t.Errorf("rocketchat registers %v: reply only (chat.update cannot change attachments)", in.Updates)
	}
	hook, _ := url.Parse("https://chat.example.com/hooks/id/token")
	srv, _ := url.Parse("https://chat.example.com/rc/")
	api := &rocketchat.Options{UserID: userID, RoomID: roomID}
	tests := []struct {
		name   string
		target registry.Target
		want   []string
	}{
		{"webhook", registry.Target{URL: hook, Options: &rocketchat.Options{}}, nil},
		{"api", registry.Target{URL: srv, Secret: true, Update: notify.UpdateReply, Options: api}, nil},
		{"webhook cannot reply", registry.Target{URL: hook, Update: notify.UpdateReply, Options: &rocketchat.Options{}}, []string{"update: reply needs the API mode"}},
		{"api keys without a secret", registry.Target{URL: hook, Options: api}, []string{"room_id: a key of the API mode", "user_id: a key of the API mode"}},
		{"server url without a secret", registry.Target{URL: srv, Options: &rocketchat.Options{}}, []string{"url: not a Rocket.Chat incoming webhook URL"}},
		{"api without ids", registry.Target{URL: srv, Secret: true, Options: &rocketchat.Options{}}, []string{"room_id: required with a secret", "user_id: required with a secret"}},
		{"api with a webhook url", registry.Target{URL: hook, Secret: true, Options: api}, []string{"url: with a secret (the API mode) the url is the server's address"}},
		{"api with a channel", registry.Target{URL: srv, Secret: true, Options: &rocketchat.Options{UserID: userID, RoomID: roomID, Channel: "#ops"}}, []string{"channel: an incoming webhook's override"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := in.CheckTarget(tc.target)
			if (err == nil) != (len(tc.want) == 0) {
				t.Fatalf("error %v, want %q", err, tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
	for raw, ok := range map[string]bool{
		"https://chat.example.com":                         true,
		"https://chat.example.com/rc/":                     true,
		"https://chat.example.com/api/v1":                  false,
		"https://chat.example.com/api/v1/chat.postMessage": false,
		"https://chat.example.com/#x":                      false,
	} {
		u, _ := url.Parse(raw)
		if err := rocketchat.CheckServerURL(u); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
	for name, o := range map[string]*rocketchat.Options{"user_id": {UserID: "a b"}, "room_id": {RoomID: "#ops"}} {
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestReplyAgainstTheFake: the first notification of a group is a new
// message, later ones answer it in its thread; the reader sees the values
// as written.
func TestReplyAgainstTheFake(t *testing.T) {
	fake := rocketchatfake.NewRocketChat(t, rocketchatfake.RocketChatOptions{UserID: userID, AuthToken: authToken, RoomID: roomID})
	n := notifytest.NewNotifier(t, rocketchat.New, &rocketchat.Options{UserID: userID, RoomID: roomID},
		notify.Settings{Name: "rc", URL: fake.ServerURL, Secret: authToken, Update: notify.UpdateReply})
	var refs []string
	for i, fixture := range [][]byte{notifytest.MarkupPayload(), notifytest.Fixtures(t)["resolved"], notifytest.Fixtures(t)["firing"]} {
		res := (&notify.Sender{}).Deliver(context.Background(), http.DefaultClient, n, notifytest.BuildGroup(t, fixture), notify.Attempt{Refs: refs})
		if res.Verdict != notify.Delivered {
			t.Fatalf("delivery %d: %v %s", i, res.Verdict, res.Message)
		}
		if refs == nil {
			refs = res.Refs
		}
	}
	ms := fake.Messages()
	if len(ms) != 3 || ms[0].TMID != "" || ms[1].TMID != ms[0].ID || ms[2].TMID != ms[0].ID || !strings.Contains(ms[1].Text, "RESOLVED") {
		t.Fatalf("messages %+v, want the later two in the thread of the first", ms)
	}
	notifytest.AssertMarkupShown(t, []notifytest.Received{{Text: ms[0].Text}})
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestFakeAPIContract: the fake answers chat.postMessage as Rocket.Chat
// does and refuses what it refuses.
func TestFakeAPIContract(t *testing.T) {
	fake := rocketchatfake.NewRocketChat(t, rocketchatfake.RocketChatOptions{UserID: userID, AuthToken: authToken, RoomID: roomID})
	call := func(path, user, token, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, fake.ServerURL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-User-Id", user)
		req.Header.Set("X-Auth-Token", token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const post = "/api/v1/chat.postMessage"
	tests := []struct {
		name, path, user, token, body string
		status                        int
		want                          string
		violation                     bool
	}{
		{"post", post, userID, authToken, `{"roomId":"` + roomID + `","text":"x"}`, 200, `"_id":"rcMsg000000000001"`, false},
		{"reply", post, userID, authToken, `{"roomId":"` + roomID + `","text":"y","tmid":"rcMsg000000000001"}`, 200, `"tmid":"rcMsg000000000001"`, false},
		{"reply to an unknown message", post, userID, authToken, `{"roomId":"` + roomID + `","text":"y","tmid":"rcMsg000000000099"}`, 400, `"success":false`, false},
		{"no token", post, userID, "", `{"roomId":"` + roomID + `","text":"x"}`, 401, "You must be logged in", true},
		{"another user", post, "someone", authToken, `{"roomId":"` + roomID + `","text":"x"}`, 401, "You must be logged in", true},
		{"another room", post, userID, authToken, `{"roomId":"rcDevRoom00000000","text":"x"}`, 400, `"success":false`, true},
		{"a channel too", post, userID, authToken, `{"roomId":"` + roomID + `","channel":"#ops","text":"x"}`, 400, `"success":false`, true},
		{"empty", post, userID, authToken, `{"roomId":"` + roomID + `","text":" "}`, 400, `"success":false`, true},
		{"unknown path", "/api/v1/chat.update", userID, authToken, `{}`, 404, "Not found", true},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		status, body := call(tc.path, tc.user, tc.token, tc.body)
		if status != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.want)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.violation)
		}
	}
	// The API's limiter counts apart from the webhook's: 10 per minute,
	// the authenticated calls above (6) included.
	for i := 0; i < 4; i++ {
		call(post, userID, authToken, `{"roomId":"`+roomID+`","text":"z"}`)
	}
	if status, body := call(post, userID, authToken, `{"roomId":"`+roomID+`","text":"z"}`); status != 429 || !strings.Contains(body, "You must wait") {
		t.Errorf("the 11th call in a minute: %d %s", status, body)
	}
}
