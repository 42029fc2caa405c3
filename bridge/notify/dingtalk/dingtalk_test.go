package dingtalk_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/dingtalk"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func TestSignMatchesTheContractVector(t *testing.T) {
	if got, want := dingtalk.Sign("SEC0123456789abcdef", 1700000000000), "TSZbRFUuvaSQaRKUpF970OPCb2/LcQAP3wOvwZIzBZk="; got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func newNotifier(t testing.TB, opts *dingtalk.Options, secret string) *chat.Notifier {
	t.Helper()
	return notifytest.NewNotifier(t, dingtalk.New, opts, notify.Settings{Name: "dt", URL: "https://oapi.dingtalk.com/robot/send?access_token=TOKEN", Secret: secret, Now: func() time.Time { return time.UnixMilli(1700000000000) }})
}

func TestSignedURLIsTheContractQuery(t *testing.T) {
	n := newNotifier(t, nil, "SEC0123456789abcdef")
	reqs, err := n.Build(context.Background(), notifytest.BuildGroup(t, notifytest.MixedPayload()))
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(reqs[0].URL)
	if want := "access_token=TOKEN&sign=TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D&timestamp=1700000000000"; u.RawQuery != want {
		t.Errorf("query = %s\nwant    %s", u.RawQuery, want)
	}
}

func TestGoldenBodies(t *testing.T) {
	fx := notifytest.ChatFixtures(t)
	for _, msgType := range []string{dingtalk.Markdown, dingtalk.Text, dingtalk.ActionCard} {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(msgType+"/"+name, func(t *testing.T) {
				n := newNotifier(t, &dingtalk.Options{MsgType: msgType}, "")
				bodies, err := n.Pack(notifytest.BuildGroup(t, fx[name]))
				if err != nil {
					t.Fatal(err)
				}
				notifytest.GoldenBodies(t, msgType+"-"+name, bodies)
			})
		}
	}
}

func TestClassify(t *testing.T) {
	n := newNotifier(t, nil, "")
	tests := []struct {
		status  int
		body    string
		verdict notify.Verdict
		reason  notify.Reason
		wait    time.Duration
	}{
		{200, `{"errcode":0,"errmsg":"ok"}`, notify.Delivered, "", 0},
		{200, `{"errcode":130101,"errmsg":"send too fast, exceed 20 times per minute"}`, notify.Retry, notify.ReasonRateLimited, 10 * time.Minute},
		{200, `{"errcode":660026,"errmsg":"rate limited"}`, notify.Retry, notify.ReasonRateLimited, time.Minute},
		{200, `{"errcode":-1,"errmsg":"system busy"}`, notify.Retry, notify.ReasonServerError, 0},
		{200, `{"errcode":310000,"errmsg":"invalid timestamp"}`, notify.Retry, notify.ReasonAuthError, 0},
		{200, `{"errcode":310000,"errmsg":"sign not match"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, `{"errcode":310000,"errmsg":"keywords not in content"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, `{"errcode":300001,"errmsg":"token is not exist"}`, notify.Permanent, notify.ReasonAuthError, 0},
		{200, `{"errcode":460101,"errmsg":"message too long, exceed 20000 bytes"}`, notify.Permanent, notify.ReasonTooLarge, 0},
		{200, `{"errcode":99999,"errmsg":"new"}`, notify.Permanent, notify.ReasonIMRejected, 0},
		{200, `<html>busy</html>`, notify.Retry, notify.ReasonIMRejected, 0},
		{200, `{"errmsg":"no code"}`, notify.Retry, notify.ReasonIMRejected, 0},
		{502, `bad gateway`, notify.Retry, notify.ReasonServerError, 0},
		{404, `not found`, notify.Permanent, notify.ReasonClientError, 0},
	}
	for _, tc := range tests {
		r := n.Classify(&notify.Response{StatusCode: tc.status, Header: http.Header{}, Body: []byte(tc.body)})
		if r.Verdict != tc.verdict || r.Reason != tc.reason || r.RetryAfter != tc.wait {
			t.Errorf("%d %s: got %v/%s/%s, want %v/%s/%s", tc.status, tc.body, r.Verdict, r.Reason, r.RetryAfter, tc.verdict, tc.reason, tc.wait)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	if err := (&dingtalk.Options{MsgType: "feedCard"}).Validate(); err == nil {
		t.Error("msg_type feedCard accepted")
	}
	o := &dingtalk.Options{}
	if err := o.Validate(); err != nil || o.MsgType != dingtalk.Markdown {
		t.Errorf("default msg_type = %q, %v", o.MsgType, err)
	}
}

// TestActionCardRefusesMentions: actionCard bodies have no "at" block, so
// a mention there would print "@id" and notify no one.
func TestActionCardRefusesMentions(t *testing.T) {
	o := &dingtalk.Options{MsgType: dingtalk.ActionCard, Common: chat.Common{Mention: &chat.Mention{Users: []string{"u1"}}}}
	if err := o.Validate(); err == nil || !strings.Contains(err.Error(), "actionCard messages cannot mention") {
		t.Errorf("Validate = %v, want the actionCard mention refusal", err)
	}
}
