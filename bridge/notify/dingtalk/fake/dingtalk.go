// Package fake is a strict fake DingTalk robot for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// DingTalkOptions configure a fake DingTalk robot.
type DingTalkOptions struct {
	// Token is the robot's access_token (default "dt-token").
	Token string
	// Secret turns on signature checking.
	Secret string
	// Keyword turns on the keyword check.
	Keyword string
}

// DingTalk is a fake DingTalk custom robot enforcing the contract: POST,
// JSON, a known access_token (else errcode 300001), the query signature
// within an hour (310000), at most 20,000 bytes (460101), the keyword
// (310000), a msgtype with its object, mobiles and user ids in "at" also
// written in the text, and 20 messages per minute, after which the robot
// stays throttled for ten minutes (130101).
type DingTalk struct {
	*notifytest.Fake
	opts DingTalkOptions
}

// NewDingTalk starts a fake DingTalk robot; its URL carries the token.
func NewDingTalk(t testing.TB, opts DingTalkOptions) *DingTalk {
	if opts.Token == "" {
		opts.Token = "dt-token"
	}
	d := &DingTalk{opts: opts}
	minute := notifytest.NewWindow(20, time.Minute)
	var throttledUntil time.Time
	errReply := func(code int, msg string) *notifytest.Reply {
		return &notifytest.Reply{Status: http.StatusOK, Body: fmt.Sprintf(`{"errcode":%d,"errmsg":%q}`, code, msg)}
	}
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
		case r.URL.Path != "/robot/send":
			return "", "path " + r.URL.Path, &notifytest.Reply{Status: http.StatusNotFound}
		case q.Get("access_token") != opts.Token:
			return "", "unknown access_token", errReply(300001, "token is not exist")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), errReply(40035, "缺少参数 json")
		}
		if opts.Secret != "" {
			ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
			if err != nil || now.Sub(time.UnixMilli(ts)).Abs() > time.Hour {
				return "", "invalid timestamp " + q.Get("timestamp"), errReply(310000, "invalid timestamp")
			}
			mac := hmac.New(sha256.New, []byte(opts.Secret))
			fmt.Fprintf(mac, "%d\n%s", ts, opts.Secret)
			if !hmac.Equal([]byte(q.Get("sign")), []byte(base64.StdEncoding.EncodeToString(mac.Sum(nil)))) {
				return "", "sign not match", errReply(310000, "sign not match")
			}
		}
		if len(body) > 20000 {
			return "", fmt.Sprintf("body is %d bytes", len(body)), errReply(460101, "message too long, exceed 20000 bytes")
		}
		var m struct {
			MsgType    string `json:"msgtype"`
			Text       *struct{ Content string }
			Markdown   *struct{ Title, Text string }
			ActionCard *struct{ Title, Text, SingleTitle, SingleURL string }
			At         *struct {
				AtMobiles []string
				AtUserIds []string
				IsAtAll   bool
			}
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return "", "invalid JSON: " + err.Error(), errReply(40035, "invalid json")
		}
		var text, title string
		switch {
		case m.MsgType == "text" && m.Text != nil:
			text = m.Text.Content
		case m.MsgType == "markdown" && m.Markdown != nil && m.Markdown.Title != "":
			title, text = m.Markdown.Title, notifytest.UnescapeMarkdown(m.Markdown.Text)
		case m.MsgType == "actionCard" && m.ActionCard != nil && m.ActionCard.SingleURL != "":
			title, text = m.ActionCard.Title, notifytest.UnescapeMarkdown(m.ActionCard.Text)
		default:
			return "", "msgtype " + m.MsgType + " without its object", errReply(40035, "缺少参数 msgtype")
		}
		if strings.TrimSpace(text) == "" {
			return "", "empty text", errReply(40035, "缺少参数 text")
		}
		if opts.Keyword != "" && !strings.Contains(text+title, opts.Keyword) {
			return "", "keyword missing", errReply(310000, "keywords not in content")
		}
		if m.At != nil {
			for _, id := range append(append([]string(nil), m.At.AtMobiles...), m.At.AtUserIds...) {
				if !strings.Contains(text, "@"+id) {
					// DingTalk answers ok but notifies nobody.
					return "", "mention @" + id + " is in at but not in the text", errReply(0, "ok")
				}
			}
		}
		if now.Before(throttledUntil) {
			return "", "sent while throttled", errReply(130101, "send too fast, exceed 20 times per minute")
		}
		if !minute.Allow(now) {
			throttledUntil = now.Add(10 * time.Minute)
			return "", "more than 20 messages in a minute", errReply(130101, "send too fast, exceed 20 times per minute")
		}
		return text, "", nil
	}
	d.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":0,"errmsg":"ok"}`}, func(r notifytest.Reply) bool {
		return r.Status == http.StatusOK && strings.Contains(r.Body, `"errcode":0`)
	})
	d.URL = d.Server.URL + "/robot/send?access_token=" + opts.Token
	return d
}
