package mattermost_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/mattermost"
	mattermostfake "github.com/alertbridge/alertbridge/bridge/notify/mattermost/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

const (
	server    = "https://chat.example.com/mm"
	token     = "xmmtokenxsecretx0123456789"
	channelID = "ch00000000000000000000ops0"
	postID    = "po000000000000000000000042"
)

func apiNotifier(t *testing.T, mode notify.Update, opts *mattermost.Options) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = &mattermost.Options{ChannelID: channelID}
	}
	return notifytest.NewNotifier(t, mattermost.New, opts, notify.Settings{Name: "mm", URL: server + "/", Secret: token, Update: mode})
}

func bodiesOf(reqs []*notify.Request) [][]byte {
	var out [][]byte
	for _, r := range reqs {
		out = append(out, r.Body)
	}
	return out
}

// TestGoldenAPIBodies: the API mode posts the preset bodies mapped onto a
// post (text the message, attachments in props), for both message types
// and the fixtures that matter for the shape (hostile values, several
// posts); then the patch and reply of the mixed fixture.
func TestGoldenAPIBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{mattermost.Markdown, mattermost.Attachments} {
		for _, name := range []string{"mixed", "hostile", "many"} {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				reqs, err := apiNotifier(t, notify.UpdateNew, &mattermost.Options{MsgType: msgType, ChannelID: channelID}).Build(context.Background(), notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range reqs {
					if r.Method != http.MethodPost || r.URL != server+"/api/v4/posts" || r.Header.Get("Authorization") != "Bearer "+token {
						t.Fatalf("%s %s %v", r.Method, r.URL, r.Header)
					}
				}
				notifytest.GoldenBodies(t, "api-"+msgType+"-"+name, bodiesOf(reqs))
			})
		}
		for _, mode := range []notify.Update{notify.UpdateEdit, notify.UpdateReply} {
			t.Run(msgType+"/"+string(mode), func(t *testing.T) {
				n := apiNotifier(t, mode, &mattermost.Options{MsgType: msgType, ChannelID: channelID})
				reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, fx["mixed"]))
				if err != nil {
					t.Fatal(err)
				}
				revised := n.Revise(reqs, []string{mattermost.Ref(channelID, postID)})
				notifytest.GoldenBodies(t, "api-"+msgType+"-"+string(mode)+"-mixed", bodiesOf(revised))
				r := revised[0]
				switch mode {
				case notify.UpdateEdit:
					if r.Method != http.MethodPut || r.URL != server+"/api/v4/posts/"+postID+"/patch" || r.Fallback != reqs[0] || r.Ref == "" {
						t.Errorf("edit %s %s fallback %v", r.Method, r.URL, r.Fallback)
					}
					if !strings.Contains(string(r.Body), `"props":{`) || strings.Contains(string(r.Body), "channel_id") {
						t.Errorf("edit body %s", r.Body)
					}
				case notify.UpdateReply:
					if r.Method != http.MethodPost || !strings.HasSuffix(r.URL, "/api/v4/posts") || r.Fallback != reqs[0] || !strings.Contains(string(r.Body), `"root_id":"`+postID+`"`) {
						t.Errorf("reply %s %s %s", r.Method, r.URL, r.Body)
					}
				}
			})
		}
	}
}

// TestReviseUsesOnlyPostsOfTheChannel: a ref of another channel (the
// target was moved) or a malformed one leaves the part a new post.
func TestReviseUsesOnlyPostsOfTheChannel(t *testing.T) {
	n := apiNotifier(t, notify.UpdateEdit, nil)
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"]))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"ch00000000000000000000dev0/" + postID, channelID + "/" + postID + "/x", channelID + "/../../users/me", channelID, ""} {
		if got := n.Revise(reqs, []string{ref}); got[0] != reqs[0] {
			t.Errorf("ref %q was used: %s %s", ref, got[0].Method, got[0].URL)
		}
	}
}

func TestClassifyAPIAnswers(t *testing.T) {
	n := apiNotifier(t, notify.UpdateEdit, nil)
	appErr := func(id string, status int) string {
		return `{"id":"` + id + `","message":"m","detailed_error":"","request_id":"r","status_code":` + strconv.Itoa(status) + `}`
	}
	post := `{"id":"` + postID + `","channel_id":"` + channelID + `","message":"x"}`
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		ref     string
		gone    bool
		wait    time.Duration
	}{
		{"created", 201, nil, post, notify.Delivered, "", channelID + "/" + postID, false, 0},
		{"patched", 200, nil, post, notify.Delivered, "", channelID + "/" + postID, false, 0},
		{"a post of another channel is not remembered", 201, nil, `{"id":"` + postID + `","channel_id":"ch00000000000000000000dev0"}`, notify.Delivered, "", "", false, 0},
		{"a webhook's ok is no post", 200, nil, "ok", notify.Permanent, notify.ReasonIMRejected, "", false, 0},
		{"a login page is no post", 200, nil, "<html>login</html>", notify.Permanent, notify.ReasonIMRejected, "", false, 0},
		{"bad token", 401, nil, appErr("api.context.session_expired.app_error", 401), notify.Permanent, notify.ReasonAuthError, "", false, 0},
		{"forbidden, or the post to patch is gone", 403, nil, appErr("api.context.permissions.app_error", 403), notify.Permanent, notify.ReasonAuthError, "", true, 0},
		{"not found", 404, nil, appErr("api.context.404.app_error", 404), notify.Permanent, notify.ReasonClientError, "", true, 0},
		{"the root post is gone", 400, nil, appErr("api.post.create_post.root_id.app_error", 400), notify.Permanent, notify.ReasonClientError, "", true, 0},
		{"too old to edit", 400, nil, appErr("api.post.update_post.permissions_time_limit.app_error", 400), notify.Permanent, notify.ReasonClientError, "", true, 0},
		{"too long", 400, nil, appErr("model.post.is_valid.message_length.app_error", 400), notify.Permanent, notify.ReasonClientError, "", false, 0},
		{"too large", 413, nil, appErr("api.context.request_body_too_large.app_error", 413), notify.Permanent, notify.ReasonTooLarge, "", false, 0},
		{"rate limited", 429, map[string]string{"Retry-After": "3", "X-Ratelimit-Reset": "9"}, "limit exceeded", notify.Retry, notify.ReasonRateLimited, "", false, 3 * time.Second},
		{"rate limited, reset only", 429, map[string]string{"X-Ratelimit-Reset": "9"}, "limit exceeded", notify.Retry, notify.ReasonRateLimited, "", false, 9 * time.Second},
		{"rate limited, absurd reset", 429, map[string]string{"X-Ratelimit-Reset": "99999999"}, "limit exceeded", notify.Retry, notify.ReasonRateLimited, "", false, 0},
		{"server error", 500, nil, appErr("app.post.save.app_error", 500), notify.Retry, notify.ReasonServerError, "", false, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tc.header {
				h.Set(k, v)
			}
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: h, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Reason != tc.reason || r.Ref != tc.ref || r.Gone != tc.gone || r.RetryAfter != tc.wait {
				t.Errorf("got %v/%s ref %q gone %v wait %s, want %v/%s %q %v %s (%s)", r.Verdict, r.Reason, r.Ref, r.Gone, r.RetryAfter, tc.verdict, tc.reason, tc.ref, tc.gone, tc.wait, r.Message)
			}
		})
	}
	r := n.Classify(&notify.Response{StatusCode: 401, Header: http.Header{}, Body: []byte(`{"id":"x","message":"token ` + token + ` is invalid"}`)})
	if strings.Contains(r.Message, token) {
		t.Errorf("the token is in the message: %s", r.Message)
	}
}

// TestCheckTarget: what each mode takes, reported at load.
func TestCheckTarget(t *testing.T) {
	in, _, _ := registry.Lookup("mattermost")
	hook, _ := url.Parse("https://chat.example.com/hooks/abc123")
	srv, _ := url.Parse("https://chat.example.com/mm/")
	tests := []struct {
		name   string
		target registry.Target
		want   []string // the error names these keys; none: accepted
	}{
		{"webhook", registry.Target{URL: hook, Options: &mattermost.Options{}}, nil},
		{"webhook, new", registry.Target{URL: hook, Update: notify.UpdateNew, Options: &mattermost.Options{}}, nil},
		{"api", registry.Target{URL: srv, Secret: true, Update: notify.UpdateEdit, Options: &mattermost.Options{ChannelID: channelID}}, nil},
		{"api, reply", registry.Target{URL: srv, Secret: true, Update: notify.UpdateReply, Options: &mattermost.Options{ChannelID: channelID, MsgType: mattermost.Attachments}}, nil},
		{"webhook cannot edit", registry.Target{URL: hook, Update: notify.UpdateEdit, Options: &mattermost.Options{}}, []string{"update: edit needs the API mode"}},
		{"webhook cannot reply", registry.Target{URL: hook, Update: notify.UpdateReply, Options: &mattermost.Options{}}, []string{"update: reply needs the API mode"}},
		{"webhook with channel_id", registry.Target{URL: hook, Options: &mattermost.Options{ChannelID: channelID}}, []string{"channel_id: only the API mode"}},
		{"server url without a secret", registry.Target{URL: srv, Options: &mattermost.Options{}}, []string{"url: not a Mattermost incoming webhook URL"}},
		{"api without channel_id", registry.Target{URL: srv, Secret: true, Options: &mattermost.Options{}}, []string{"channel_id: required with a secret"}},
		{"api with a webhook url", registry.Target{URL: hook, Secret: true, Options: &mattermost.Options{ChannelID: channelID}}, []string{"url: with a secret (the API mode) the url is the server's address"}},
		{"api with overrides", registry.Target{URL: srv, Secret: true, Options: &mattermost.Options{ChannelID: channelID, Channel: "ops", Username: "am", IconURL: "https://example.com/i.png"}},
			[]string{"channel: an incoming webhook's override", "icon_url: an incoming webhook's override", "username: an incoming webhook's override"}},
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
		"https://chat.example.com":               true,
		"https://chat.example.com/mm/":           true,
		"https://chat.example.com/api/v4":        false,
		"https://chat.example.com/api/v4/posts/": false,
		"https://chat.example.com/?x=1":          false,
	} {
		u, _ := url.Parse(raw)
		if err := mattermost.CheckServerURL(u); (err == nil) != ok {
			t.Errorf("%s: %v", raw, err)
		}
	}
}

// deliverer sends groups to the strict fake as the bridge does.
type deliverer struct {
	*notifytest.Deliverer
	fake *mattermostfake.Mattermost
}

func newDeliverer(t *testing.T, mode notify.Update, msgType string) *deliverer {
	fake := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Token: token, ChannelID: channelID})
	n := notifytest.NewNotifier(t, mattermost.New, &mattermost.Options{MsgType: msgType, ChannelID: channelID},
		notify.Settings{Name: "mm", URL: fake.ServerURL, Secret: token, Update: mode})
	return &deliverer{Deliverer: &notifytest.Deliverer{T: t, N: n}, fake: fake}
}

func ref(n int) string {
	return mattermost.Ref(channelID, "po"+strings.Repeat("0", 23)+strconv.Itoa(n))
}

// TestEditAgainstTheFake: firing then resolved is one post, patched, its
// attachments replaced; a deleted post is posted anew; more parts post the
// extra ones.
func TestEditAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateEdit, mattermost.Attachments)
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{ref(1)}) {
		t.Fatalf("first delivery refs %q", res.Refs)
	}
	d.Deliver(fx["resolved"])
	ps := d.fake.Posts()
	if len(ps) != 1 || ps[0].Edits != 1 || !strings.Contains(ps[0].Text, "RESOLVED") || strings.Contains(ps[0].Text, "FIRING") {
		t.Fatalf("after resolved: %+v, want the one post patched to RESOLVED", ps)
	}
	d.fake.Delete(ps[0].ID)
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{ref(2)}) {
		t.Errorf("after the post was deleted: refs %q, want the new post 2", res.Refs)
	}
	d.Deliver(fx["many"])
	ps = d.fake.Posts()
	if len(ps) < 2 || ps[0].ID != postIDOf(ref(2)) || ps[0].Edits != 1 {
		t.Errorf("many after one: %+v, want post 2 patched and the others new", ps)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

func postIDOf(ref string) string { return ref[strings.IndexByte(ref, '/')+1:] }

// TestReplyAgainstTheFake: later notifications answer the first post in
// its thread; once it is deleted they are posted as new posts.
func TestReplyAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateReply, mattermost.Markdown)
	d.Deliver(fx["firing"])
	d.Deliver(fx["resolved"])
	ps := d.fake.Posts()
	if len(ps) != 2 || ps[1].RootID != ps[0].ID || !strings.Contains(ps[1].Text, "RESOLVED") {
		t.Fatalf("posts %+v, want the resolved one in the thread of the first", ps)
	}
	d.fake.Delete(ps[0].ID)
	d.Deliver(fx["resolved"])
	ps = d.fake.Posts()
	if len(ps) != 2 || ps[1].RootID != "" {
		t.Errorf("posts %+v, want a new post once the thread's root is gone", ps)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestAPIPostsShowValuesAsWritten: the markup-laden values the reader
// sees through the API mode are the ones written, as with the webhook.
func TestAPIPostsShowValuesAsWritten(t *testing.T) {
	for _, msgType := range []string{mattermost.Markdown, mattermost.Attachments} {
		t.Run(msgType, func(t *testing.T) {
			d := newDeliverer(t, notify.UpdateNew, msgType)
			d.Deliver(notifytest.MarkupPayload())
			var got []notifytest.Received
			for _, p := range d.fake.Posts() {
				got = append(got, notifytest.Received{Text: p.Text})
			}
			notifytest.AssertMarkupShown(t, got)
			if v := d.fake.Violations(); len(v) > 0 {
				t.Errorf("violations %q", v)
			}
		})
	}
}

// TestFakeAPIContract: the fake answers the API as Mattermost does and
// refuses what it refuses.
func TestFakeAPIContract(t *testing.T) {
	fake := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Token: token, ChannelID: channelID})
	call := func(method, path, auth, body string) (int, string) {
		req, _ := http.NewRequest(method, fake.ServerURL+path, strings.NewReader(body))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	bearer := "Bearer " + token
	first := postIDOf(ref(1))
	tests := []struct {
		name, method, path, auth, body string
		status                         int
		id                             string // the AppError id, or the post id
		violation                      bool
	}{
		{"post", "POST", "/api/v4/posts", bearer, `{"channel_id":"` + channelID + `","message":"**x**"}`, 201, first, false},
		{"no token", "POST", "/api/v4/posts", "", `{"channel_id":"` + channelID + `","message":"x"}`, 401, "api.context.session_expired.app_error", true},
		{"wrong token", "POST", "/api/v4/posts", "Bearer nope", `{"channel_id":"` + channelID + `","message":"x"}`, 401, "api.context.session_expired.app_error", true},
		{"another channel", "POST", "/api/v4/posts", bearer, `{"channel_id":"ch00000000000000000000dev0","message":"x"}`, 403, "api.context.permissions.app_error", true},
		{"a webhook body", "POST", "/api/v4/posts", bearer, `{"channel_id":"` + channelID + `","text":"x"}`, 400, "api.context.invalid_body_param.app_error", true},
		{"too long", "POST", "/api/v4/posts", bearer, `{"channel_id":"` + channelID + `","message":"` + strings.Repeat("磁", 16384) + `"}`, 400, "model.post.is_valid.message_length.app_error", true},
		{"reply to an unknown post", "POST", "/api/v4/posts", bearer, `{"channel_id":"` + channelID + `","message":"x","root_id":"po000000000000000000000099"}`, 400, "api.post.create_post.root_id.app_error", false},
		{"patch", "PUT", "/api/v4/posts/" + first + "/patch", bearer, `{"message":"y","props":{}}`, 200, first, false},
		{"patch with a post's key", "PUT", "/api/v4/posts/" + first + "/patch", bearer, `{"message":"y","props":{},"channel_id":"` + channelID + `"}`, 400, "api.context.invalid_body_param.app_error", true},
		{"patch of an unknown post", "PUT", "/api/v4/posts/po000000000000000000000099/patch", bearer, `{"message":"y","props":{}}`, 403, "api.context.permissions.app_error", false},
		{"wrong method", "PATCH", "/api/v4/posts/" + first + "/patch", bearer, `{"message":"y","props":{}}`, 405, "", true},
		{"unknown path", "POST", "/api/v4/post", bearer, `{}`, 404, "api.context.404.app_error", true},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		status, body := call(tc.method, tc.path, tc.auth, tc.body)
		if status != tc.status || (tc.id != "" && !strings.Contains(body, `"id":"`+tc.id+`"`)) {
			t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.id)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.violation)
		}
	}
	if ps := fake.Posts(); len(ps) != 1 || ps[0].Text != "y" || ps[0].Edits != 1 {
		t.Errorf("posts %+v", ps)
	}
}
