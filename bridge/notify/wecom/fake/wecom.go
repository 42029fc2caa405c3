// Package fake is a strict fake WeCom group robot for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// WeCom is a fake WeCom (企业微信) group robot enforcing the contract: POST
// to /cgi-bin/webhook/send with a known key (else errcode 93000), JSON
// (40035), a known msgtype (40008) with its object and non-empty content
// (44004), mention lists of strings, content within 2,048 bytes for text
// and 4,096 for markdown and markdown_v2 (40058, with WeCom's message), and
// 20 messages in any 60 seconds (45009). Errors come with HTTP 200, as
// WeCom answers.
type WeCom struct {
	*notifytest.Fake
	key string
}

// wecomLimits are the content limits in bytes by msgtype.
var wecomLimits = map[string]int{"text": 2048, "markdown": 4096, "markdown_v2": 4096}

// wecomTypes are the msgtypes a group robot accepts.
var wecomTypes = map[string]bool{
	"text": true, "markdown": true, "markdown_v2": true, "image": true, "news": true, "file": true, "voice": true, "template_card": true,
}

// NewWeCom starts a fake WeCom robot whose key is key; its URL carries it.
func NewWeCom(t testing.TB, key string) *WeCom {
	w := &WeCom{key: key}
	minute := notifytest.NewWindow(20, time.Minute)
	errReply := func(code int, msg string) *notifytest.Reply {
		msg += fmt.Sprintf(", hint: [1700000000_13_fake], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=%d", code)
		return &notifytest.Reply{Status: http.StatusOK, Body: fmt.Sprintf(`{"errcode":%d,"errmsg":%q}`, code, msg)}
	}
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
		case r.URL.Path != "/cgi-bin/webhook/send" || r.URL.Query().Get("key") != key:
			return "", "unknown key or path", errReply(93000, "invalid webhook url")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), errReply(40035, "invalid args")
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return "", "invalid JSON: " + err.Error(), errReply(40035, "invalid args, invalid json")
		}
		var msgType string
		if json.Unmarshal(m["msgtype"], &msgType) != nil || !wecomTypes[msgType] {
			return "", "msgtype " + string(m["msgtype"]), errReply(40008, "invalid message type")
		}
		limit, ok := wecomLimits[msgType]
		if !ok {
			return "", "msgtype " + msgType + " is not sent by the bridge", errReply(40008, "invalid message type")
		}
		var obj struct {
			Content             *string
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		}
		if err := json.Unmarshal(m[msgType], &obj); err != nil {
			return "", msgType + " object: " + err.Error(), errReply(40035, "invalid args")
		}
		if obj.Content == nil || strings.TrimSpace(*obj.Content) == "" {
			return "", "empty " + msgType + ".content", errReply(44004, "empty content")
		}
		if n := len(*obj.Content); n > limit {
			return "", fmt.Sprintf("%s.content is %d bytes", msgType, n),
				errReply(40058, fmt.Sprintf("%s.content exceed max length %d. Invalid input invalid Request Parameter", msgType, limit))
		}
		if !minute.Allow(now) {
			return "", "more than 20 messages in a minute", errReply(45009, "api freq out of limit")
		}
		text := *obj.Content
		if msgType != "text" {
			text = wecomMarkdownVisible(text)
		}
		return text, "", nil
	}
	w.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: `{"errcode":0,"errmsg":"ok"}`}, func(r notifytest.Reply) bool {
		return (r.Status == 0 || r.Status == http.StatusOK) && strings.Contains(r.Body, `"errcode":0`)
	})
	w.URL = w.Server.URL + "/cgi-bin/webhook/send?key=" + key
	return w
}

var (
	wecomFont    = regexp.MustCompile(`(?i)</?font[^>]*>`)
	wecomMention = regexp.MustCompile(`<@([^<>\s]+)>`)
)

// wecomMarkdownVisible renders WeCom markdown to what a reader sees:
// backslash escapes resolved, font tags dropped, <@userid> shown as
// @userid. Other markers and links stay as written.
func wecomMarkdownVisible(s string) string {
	s = notifytest.UnescapeMarkdown(s)
	s = wecomFont.ReplaceAllString(s, "")
	return wecomMention.ReplaceAllString(s, "@$1")
}
