package googlechat_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/googlechat"
	googlechatfake "github.com/alertbridge/alertbridge/bridge/notify/googlechat/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const thread = "spaces/AAAAbcd/threads/kTtU2x_ab-1"

func replyNotifier(t *testing.T, opts *googlechat.Options) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, googlechat.New, opts, notify.Settings{Name: "gchat", URL: webhookURL, Update: notify.UpdateReply})
}

// TestClassifyUpdateAnswers: the ref of a delivered post is the thread of
// the created Message, and only a thread of the webhook's space.
func TestClassifyUpdateAnswers(t *testing.T) {
	n := replyNotifier(t, nil)
	tests := []struct {
		name    string
		status  int
		body    string
		verdict notify.Verdict
		ref     string
	}{
		{"created", 200, `{"name":"spaces/AAAAbcd/messages/m1.kTtU2x_ab-1","thread":{"name":"` + thread + `"},"space":{"name":"spaces/AAAAbcd"}}`, notify.Delivered, thread},
		{"a reply names the same thread", 200, `{"name":"spaces/AAAAbcd/messages/m2","thread":{"name":"` + thread + `","threadKey":"k"},"threadReply":true}`, notify.Delivered, thread},
		{"another space's thread", 200, `{"thread":{"name":"spaces/AAAAother/threads/x"}}`, notify.Delivered, ""},
		{"a thread name with a path in it", 200, `{"thread":{"name":"spaces/AAAAbcd/threads/x/../../y"}}`, notify.Delivered, ""},
		{"no thread", 200, `{"name":"spaces/AAAAbcd/messages/m1"}`, notify.Delivered, ""},
		{"not JSON", 200, `<html>ok</html>`, notify.Delivered, ""},
		{"a thread that is no string", 200, `{"thread":{"name":42}}`, notify.Delivered, ""},
		{"refused", 400, `{"error":{"code":400,"message":"Invalid thread name","status":"INVALID_ARGUMENT"}}`, notify.Permanent, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Ref != tc.ref || r.Gone {
				t.Errorf("got %v ref %q gone %v, want %v %q (%s)", r.Verdict, r.Ref, r.Gone, tc.verdict, tc.ref, r.Message)
			}
		})
	}
}

// TestGoldenReplyBodies: a reply is the new message with thread.name
// added at its end and the reply option in the query, in both formats.
func TestGoldenReplyBodies(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	for _, format := range []string{googlechat.Card, googlechat.Text} {
		t.Run(format, func(t *testing.T) {
			n := replyNotifier(t, &googlechat.Options{Format: format})
			reqs, err := n.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			revised := n.Revise(reqs, []string{thread})
			var bodies [][]byte
			for _, r := range revised {
				bodies = append(bodies, r.Body)
			}
			notifytest.GoldenBodies(t, "reply-"+format+"-mixed", bodies)
			r := revised[0]
			u, _ := url.Parse(r.URL)
			if r.Method != http.MethodPost || u.Path != "/v1/spaces/AAAAbcd/messages" ||
				u.RawQuery != "key=KEY-123&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD&token=TOKEN-abc" || r.Ref != "" || r.Fallback != nil {
				t.Errorf("reply %s %s ref %q fallback %v", r.Method, r.URL, r.Ref, r.Fallback)
			}
			if !strings.HasSuffix(string(r.Body), `,"thread":{"name":"`+thread+`"}}`) || !strings.HasPrefix(string(r.Body), string(reqs[0].Body[:len(reqs[0].Body)-1])) {
				t.Errorf("reply body %s", r.Body)
			}
			if err := googlechat.Check(r.Body); err != nil {
				t.Errorf("reply body fails the check: %v", err)
			}
		})
	}
}

// TestReplyRefusesUnusableRefs: a ref that is not a thread of the
// webhook's space leaves the message new, as does a body with a thread of
// its own.
func TestReplyRefusesUnusableRefs(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	n := replyNotifier(t, nil)
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{
		"spaces/AAAAother/threads/x",          // another space
		"spaces/AAAAbcd/messages/m1",          // a message, not a thread
		"spaces/AAAAbcd/threads/",             // no thread id
		"spaces/AAAAbcd/threads/x/../../evil", // a path
		`spaces/AAAAbcd/threads/x","name":"y`, // JSON injection
		"-1001234567890/42",                   // another type's ref
		"",
	} {
		if got := n.Revise(reqs, []string{ref}); got[0] != reqs[0] {
			t.Errorf("ref %q was used: %s %s", ref, got[0].URL, got[0].Body)
		}
	}
	set, err := render.New(render.Options{Inline: []render.Inline{{Name: "own", Text: `{"text":"x","thread":{"threadKey":"mine"}}`}}})
	if err != nil {
		t.Fatal(err)
	}
	own, err := googlechat.New(notify.Settings{Name: "gchat", URL: webhookURL, Templates: set, BodyTemplate: "own", Options: &googlechat.Options{Format: googlechat.Card}, Update: notify.UpdateReply})
	if err != nil {
		t.Fatal(err)
	}
	reqs, err = own.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	if got := own.Revise(reqs, []string{thread}); got[0] != reqs[0] {
		t.Errorf("a body with its own thread was rewritten: %s", got[0].Body)
	}
}

// TestReplyAgainstTheFake: the group's later notifications go into the
// thread of its first message; a thread deleted since starts a new one,
// which Google Chat does itself (REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD).
func TestReplyAgainstTheFake(t *testing.T) {
	fake := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{Space: "AAAAbcd"})
	set, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := googlechat.New(notify.Settings{Name: "gchat", URL: fake.URL, Templates: set, Options: &googlechat.Options{Format: googlechat.Card}, Update: notify.UpdateReply})
	if err != nil {
		t.Fatal(err)
	}
	deliver := func(fixture []byte, refs []string) notify.Result {
		t.Helper()
		res := (&notify.Sender{}).Deliver(context.Background(), http.DefaultClient, n, notifytest.BuildGroup(t, fixture), notify.Attempt{Refs: refs})
		if res.Verdict != notify.Delivered {
			t.Fatalf("delivery: %v %s %s", res.Verdict, res.Reason, res.Message)
		}
		return res
	}
	fx := notifytest.Fixtures(t)
	first := deliver(fx["firing"], nil)
	if len(first.Refs) != 1 || !strings.HasPrefix(first.Refs[0], "spaces/AAAAbcd/threads/") {
		t.Fatalf("first delivery refs %q", first.Refs)
	}
	deliver(fx["resolved"], first.Refs)
	ms := fake.Messages()
	if len(ms) != 2 || ms[0].Reply || !ms[1].Reply || ms[1].Thread != first.Refs[0] || !strings.Contains(ms[1].Text, "RESOLVED") {
		t.Fatalf("after resolved: %+v, want the second message in the first one's thread", ms)
	}
	fake.DeleteThread(first.Refs[0])
	again := deliver(fx["firing"], first.Refs)
	ms = fake.Messages()
	if len(ms) != 1 || ms[0].Reply || ms[0].Thread == first.Refs[0] || len(again.Refs) != 1 || again.Refs[0] != ms[0].Thread {
		t.Errorf("after the thread was deleted: %+v refs %q, want a new thread", ms, again.Refs)
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestFakeThreadContract: the fake threads messages as Google Chat does.
func TestFakeThreadContract(t *testing.T) {
	const (
		fallback = "&messageReplyOption=REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"
		orFail   = "&messageReplyOption=REPLY_MESSAGE_OR_FAIL"
	)
	f := googlechatfake.NewGoogleChat(t, googlechatfake.GoogleChatOptions{})
	if status, body := post(t, f.URL, `{"text":"first"}`); status != 200 || !strings.Contains(body, `"thread":{"name":"spaces/AAAAfakeSpace/threads/`) {
		t.Fatalf("first: %d %s", status, body)
	}
	first := f.Messages()[0].Thread
	tests := []struct {
		name, query, body string
		status            int
		violation         bool
		reply             bool // posted into an existing thread
	}{
		{"reply by name", fallback, `{"text":"x","thread":{"name":"` + first + `"}}`, 200, false, true},
		{"or fail, existing thread", orFail, `{"text":"x","thread":{"name":"` + first + `"}}`, 200, false, true},
		{"unknown thread falls back", fallback, `{"text":"x","thread":{"name":"spaces/AAAAfakeSpace/threads/nope"}}`, 200, false, false},
		{"unknown thread, or fail", orFail, `{"text":"x","thread":{"name":"spaces/AAAAfakeSpace/threads/nope"}}`, 404, false, false},
		{"another space's thread", fallback, `{"text":"x","thread":{"name":"spaces/AAAAother/threads/x"}}`, 400, true, false},
		{"a malformed thread name", fallback, `{"text":"x","thread":{"name":"spaces/AAAAfakeSpace/threads/a/b"}}`, 400, true, false},
		{"a thread without a reply option", "", `{"text":"x","thread":{"name":"` + first + `"}}`, 200, true, false},
		{"a new thread key", fallback, `{"text":"x","thread":{"threadKey":"k1"}}`, 200, false, false},
		{"the same thread key", fallback, `{"text":"x","thread":{"threadKey":"k1"}}`, 200, false, true},
		{"the key in the query", fallback + "&threadKey=k1", `{"text":"x"}`, 200, false, true},
		{"a key without a reply option starts a thread", "", `{"text":"x","thread":{"threadKey":"k1"}}`, 200, false, false},
	}
	for _, tc := range tests {
		before, violations := len(f.Messages()), len(f.Violations())
		status, body := post(t, f.URL+tc.query, tc.body)
		if status != tc.status {
			t.Errorf("%s: %d %s, want %d", tc.name, status, body, tc.status)
		}
		if got := len(f.Violations()) > violations; got != tc.violation {
			t.Errorf("%s: violation %v, want %v (%q)", tc.name, got, tc.violation, f.Violations())
		}
		ms := f.Messages()
		if status != 200 || tc.violation {
			if len(ms) != before {
				t.Errorf("%s: a refused message was kept", tc.name)
			}
			continue
		}
		if len(ms) != before+1 || ms[len(ms)-1].Reply != tc.reply {
			t.Errorf("%s: %+v, want reply %v", tc.name, ms[len(ms)-1], tc.reply)
		}
	}
	for _, method := range []string{http.MethodPatch, http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, strings.Replace(f.URL, "/messages?", "/messages/fakeMessage001?", 1), strings.NewReader(`{"text":"y"}`))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("%s of a message through the webhook was accepted", method)
		}
	}
}

// TestCheckTarget: reply and thread_by_group exclude each other; every
// other combination is fine.
func TestCheckTarget(t *testing.T) {
	tests := []struct {
		opts    *googlechat.Options
		mode    notify.Update
		wantErr bool
	}{
		{&googlechat.Options{ThreadByGroup: true}, notify.UpdateReply, true},
		{&googlechat.Options{}, notify.UpdateReply, false},
		{&googlechat.Options{ThreadByGroup: true}, notify.UpdateNew, false},
	}
	for _, tc := range tests {
		if err := googlechat.CheckTarget(registry.Target{Options: tc.opts, Update: tc.mode}); (err != nil) != tc.wantErr {
			t.Errorf("%+v %s: %v", tc.opts, tc.mode, err)
		}
	}
}
