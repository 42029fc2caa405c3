package telegram_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	"github.com/alertbridge/alertbridge/bridge/render"
)

const chatID = "-1001234567890"

func updateNotifier(t *testing.T, mode notify.Update, opts *telegram.Options) *chat.Notifier {
	t.Helper()
	if opts == nil {
		opts = &telegram.Options{ChatID: chatID, MessageThreadID: 3, DisableNotification: true}
	}
	return notifytest.NewNotifier(t, telegram.New, opts, notify.Settings{Name: "tg", URL: botURL, Update: mode})
}

func TestClassifyUpdateAnswers(t *testing.T) {
	n := updateNotifier(t, notify.UpdateEdit, nil)
	tests := []struct {
		name    string
		status  int
		body    string
		verdict notify.Verdict
		ref     string
		gone    bool
	}{
		{"sent", 200, `{"ok":true,"result":{"message_id":42,"chat":{"id":-1001234567890}}}`, notify.Delivered, chatID + "/42", false},
		{"edited", 200, `{"ok":true,"result":{"message_id":42,"edit_date":1}}`, notify.Delivered, chatID + "/42", false},
		{"inline edit answers true", 200, `{"ok":true,"result":true}`, notify.Delivered, "", false},
		{"not modified", 400, `{"ok":false,"error_code":400,"description":"Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"}`, notify.Delivered, "", false},
		{"gone", 400, `{"ok":false,"error_code":400,"description":"Bad Request: message to edit not found"}`, notify.Permanent, "", true},
		{"cannot be edited", 400, `{"ok":false,"error_code":400,"description":"Bad Request: message can't be edited"}`, notify.Permanent, "", true},
		{"chat not found is not gone", 400, `{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}`, notify.Permanent, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := n.Classify(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
			if r.Verdict != tc.verdict || r.Ref != tc.ref || r.Gone != tc.gone {
				t.Errorf("got %v ref %q gone %v, want %v %q %v (%s)", r.Verdict, r.Ref, r.Gone, tc.verdict, tc.ref, tc.gone, r.Message)
			}
		})
	}
}

// TestGoldenEditBodies: the editMessageText and reply bodies of the
// mixed fixture: the sendMessage keys an edit takes, message_id, nothing
// that only concerns a new message (message_thread_id,
// disable_notification).
func TestGoldenEditBodies(t *testing.T) {
	g := notifytest.BuildGroup(t, notifytest.MixedPayload())
	for _, mode := range []notify.Update{notify.UpdateEdit, notify.UpdateReply} {
		t.Run(string(mode), func(t *testing.T) {
			n := updateNotifier(t, mode, nil)
			reqs, err := n.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			revised := n.Revise(reqs, []string{chatID + "/42"})
			var bodies [][]byte
			for _, r := range revised {
				bodies = append(bodies, r.Body)
			}
			notifytest.GoldenBodies(t, string(mode)+"-mixed", bodies)
			r := revised[0]
			switch mode {
			case notify.UpdateEdit:
				if r.URL != strings.TrimSuffix(botURL, "sendMessage")+"editMessageText" || r.Ref != chatID+"/42" || r.Fallback != reqs[0] {
					t.Errorf("edit %s ref %q fallback %v", r.URL, r.Ref, r.Fallback)
				}
				if s := string(r.Body); strings.Contains(s, "message_thread_id") || strings.Contains(s, "disable_notification") || !strings.Contains(s, `"message_id":42`) {
					t.Errorf("edit body %s", s)
				}
			case notify.UpdateReply:
				if r.URL != botURL || r.Ref != "" || r.Fallback != nil || !strings.Contains(string(r.Body), `"reply_parameters":{"message_id":42,"allow_sending_without_reply":true}`) {
					t.Errorf("reply %s ref %q body %s", r.URL, r.Ref, r.Body)
				}
			}
		})
	}
}

// TestRevisePartByPart maps the parts of a new rendering onto the
// remembered messages.
func TestRevisePartByPart(t *testing.T) {
	many := notifytest.BuildGroup(t, notifytest.ManyPayload())
	firing := notifytest.BuildGroup(t, notifytest.Fixtures(t)["firing"])
	ref := func(i int) string { return chatID + "/" + string(rune('1'+i)) }
	tests := []struct {
		name  string
		mode  notify.Update
		group bool // true: many (several parts), false: firing (one)
		refs  []string
		edits []bool // per part: an edit (else new)
	}{
		{"no refs", notify.UpdateEdit, true, nil, []bool{false, false, false, false, false}},
		{"more parts than refs: the extra ones new", notify.UpdateEdit, true, []string{ref(0), ref(1)}, []bool{true, true, false, false, false}},
		{"fewer parts than refs: the extra messages left", notify.UpdateEdit, false, []string{ref(0), ref(1), ref(2)}, []bool{true}},
		{"a part without a ref is new", notify.UpdateEdit, true, []string{ref(0), "", ref(2)}, []bool{true, false, true, false, false}},
		{"a ref of another chat is not used", notify.UpdateEdit, false, []string{"-42/1"}, []bool{false}},
		{"a malformed ref is not used", notify.UpdateEdit, false, []string{chatID + "/x"}, []bool{false}},
		{"new mode never edits", notify.UpdateNew, false, []string{ref(0)}, []bool{false}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := firing
			if tc.group {
				g = many
			}
			n := updateNotifier(t, tc.mode, nil)
			reqs, err := n.Build(context.Background(), g)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != len(tc.edits) {
				t.Fatalf("%d parts, the table expects %d", len(reqs), len(tc.edits))
			}
			for i, r := range n.Revise(reqs, tc.refs) {
				edit := strings.HasSuffix(r.URL, "/editMessageText")
				if edit != tc.edits[i] || (edit && (r.Ref != tc.refs[i] || r.Fallback != reqs[i])) || (!edit && r != reqs[i]) {
					t.Errorf("part %d: %s ref %q, want edit %v", i, r.URL, r.Ref, tc.edits[i])
				}
			}
		})
	}
}

// deliverer sends groups to the strict fake the way the bridge does.
type deliverer struct {
	*notifytest.Deliverer
	fake *telegramfake.Telegram
}

func newDeliverer(t *testing.T, mode notify.Update) *deliverer {
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{ChatID: chatID})
	set, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	n, err := telegram.New(notify.Settings{Name: "tg", URL: fake.URL, Templates: set, Options: &telegram.Options{ChatID: chatID}, Update: mode})
	if err != nil {
		t.Fatal(err)
	}
	return &deliverer{Deliverer: &notifytest.Deliverer{T: t, N: n}, fake: fake}
}

func texts(ms []telegramfake.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Text)
	}
	return out
}

// TestEditAgainstTheFake: firing then resolved is one message, edited;
// the same text again is "not modified", delivered; a deleted message is
// posted anew; more parts post the extra ones.
func TestEditAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateEdit)
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{chatID + "/1"}) {
		t.Fatalf("first delivery refs %q", res.Refs)
	}
	d.Deliver(fx["resolved"])
	ms := d.fake.Messages()
	if len(ms) != 1 || ms[0].Edits != 1 || !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Fatalf("after resolved: %d messages %q, want the one edited", len(ms), texts(ms))
	}
	if res := d.Deliver(fx["resolved"]); !slices.Equal(res.Refs, []string{chatID + "/1"}) {
		t.Errorf("not modified: refs %q, want the message kept", res.Refs)
	}
	d.fake.Delete(1)
	if res := d.Deliver(fx["firing"]); !slices.Equal(res.Refs, []string{chatID + "/2"}) {
		t.Errorf("after the message was deleted: refs %q, want the new message 2", res.Refs)
	}
	d.Deliver(fx["many"])
	ms = d.fake.Messages()
	if len(ms) != 5 || ms[0].ID != 2 || ms[0].Edits != 1 {
		t.Errorf("many after one: %d messages (first %+v), want message 2 edited and 4 new", len(ms), ms[0])
	}
	d.Deliver(fx["firing"])
	if ms := d.fake.Messages(); len(ms) != 5 || ms[0].Edits != 2 {
		t.Errorf("one after many: %d messages, first edited %d times; want the first edited, the others left", len(ms), ms[0].Edits)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestReplyAgainstTheFake: later notifications answer the first message.
func TestReplyAgainstTheFake(t *testing.T) {
	fx := notifytest.Fixtures(t)
	d := newDeliverer(t, notify.UpdateReply)
	d.Deliver(fx["firing"])
	d.Deliver(fx["resolved"])
	d.fake.Delete(1)
	d.Deliver(fx["resolved"]) // allow_sending_without_reply: still sent
	ms := d.fake.Messages()
	if len(ms) != 2 || ms[0].ReplyTo != 1 || ms[1].ReplyTo != 0 || !strings.Contains(ms[0].Text, "RESOLVED") {
		t.Errorf("messages %+v, want the resolved one replying to 1, then one sent without reply", ms)
	}
	if v := d.fake.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// TestFakeEditContract: the fake answers edits as Telegram does.
func TestFakeEditContract(t *testing.T) {
	fake := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{})
	edit := strings.TrimSuffix(fake.URL, "sendMessage") + "editMessageText"
	if a := post(t, fake.URL, "application/json", `{"chat_id":-1001234567890,"text":"<b>x</b>","parse_mode":"HTML"}`); !a.OK || !strings.Contains(string(a.raw), `"message_id":1`) {
		t.Fatalf("send: %s", a.raw)
	}
	tests := []struct {
		name, body string
		status     int
		desc       string
		violation  bool
	}{
		{"edit", `{"chat_id":-1001234567890,"message_id":1,"text":"<b>y</b>","parse_mode":"HTML"}`, 200, "", false},
		{"same text", `{"chat_id":-1001234567890,"message_id":1,"text":"<b>y</b>","parse_mode":"HTML"}`, 400, "Bad Request: message is not modified", false},
		{"unknown message", `{"chat_id":-1001234567890,"message_id":9,"text":"z"}`, 400, "Bad Request: message to edit not found", false},
		{"no message_id", `{"chat_id":-1001234567890,"text":"z"}`, 400, "Bad Request: message identifier is not specified", true},
		{"a sendMessage-only key", `{"chat_id":-1001234567890,"message_id":1,"text":"z","message_thread_id":3}`, 400, "Bad Request: unknown parameter message_thread_id", true},
		{"other chat", `{"chat_id":-1,"message_id":1,"text":"z"}`, 400, "Bad Request: chat not found", true},
		{"bad html", `{"chat_id":-1001234567890,"message_id":1,"text":"<b>z","parse_mode":"HTML"}`, 400, "Bad Request: can't parse entities", true},
	}
	for _, tc := range tests {
		before := len(fake.Violations())
		a := post(t, edit, "application/json", tc.body)
		if a.Status != tc.status || !strings.HasPrefix(a.Description, tc.desc) {
			t.Errorf("%s: %d %s, want %d %q", tc.name, a.Status, a.raw, tc.status, tc.desc)
		}
		if got := len(fake.Violations()) > before; got != tc.violation {
			t.Errorf("%s: violation %v, want %v", tc.name, got, tc.violation)
		}
	}
	if ms := fake.Messages(); len(ms) != 1 || ms[0].Text != "y" || ms[0].Edits != 1 {
		t.Errorf("messages %+v", ms)
	}
	if a := post(t, fake.URL, "application/json", `{"chat_id":-1001234567890,"text":"r","reply_parameters":{"message_id":7}}`); a.Status != 400 || a.Description != "Bad Request: message to be replied not found" {
		t.Errorf("reply to a missing message: %s", a.raw)
	}
}
