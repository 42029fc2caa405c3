// Package fake is a strict fake Lark / Feishu bot for tests: a real HTTP server
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
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// LarkOptions configure a fake Lark / Feishu custom bot.
type LarkOptions struct {
	// Token is the bot's webhook token, the last path segment (default
	// "lark-token").
	Token string
	// Secret turns on signature checking.
	Secret string
	// Keyword turns on the keyword check.
	Keyword string
}

// Lark is a fake Lark / Feishu custom bot enforcing the contract: POST to
// /open-apis/bot/v2/hook/{token} (else code 19001), JSON, a body of at
// most 20,480 bytes (9499), a known msg_type with its content, or for
// interactive the card in a top-level "card" (19002), post links with
// valid http(s) hrefs (9499), the body signature — "timestamp" (string or
// number) within an hour and "sign" = Base64(HMAC-SHA256(key =
// timestamp+"\n"+secret, message = "")) — (19021), the keyword in a text
// or title value (19024), and at most 5 messages per second and 100 per
// minute (11232). Every answer is HTTP 200 with a code, as Lark answers.
//
// Card markdown is also checked for tags Lark does not support (a value
// that was not escaped); those are violations although Lark would accept
// the message, because the reader would not see what was sent.
type Lark struct {
	*notifytest.Fake
	opts LarkOptions
}

// larkOK is Lark's success answer, legacy fields included.
const larkOK = `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`

// NewLark starts a fake Lark bot; its URL carries the token.
func NewLark(t testing.TB, opts LarkOptions) *Lark {
	if opts.Token == "" {
		opts.Token = "lark-token"
	}
	l := &Lark{opts: opts}
	second := notifytest.NewWindow(5, time.Second)
	minute := notifytest.NewWindow(100, time.Minute)
	errReply := func(code int, msg string) *notifytest.Reply {
		return &notifytest.Reply{Status: http.StatusOK, Body: fmt.Sprintf(`{"code":%d,"msg":%q,"data":{}}`, code, msg)}
	}
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
		case r.URL.Path != "/open-apis/bot/v2/hook/"+opts.Token:
			return "", "unknown token", errReply(19001, "param invalid: incoming webhook access token invalid")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), errReply(9499, "Bad Request")
		case len(body) > 20480:
			return "", fmt.Sprintf("body is %d bytes", len(body)), errReply(9499, "Bad Request")
		}
		var m struct {
			MsgType   string          `json:"msg_type"`
			Content   json.RawMessage `json:"content"`
			Card      json.RawMessage `json:"card"`
			Timestamp json.RawMessage `json:"timestamp"`
			Sign      string          `json:"sign"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return "", "invalid JSON: " + err.Error(), errReply(9499, "Bad Request: fail to parse content")
		}
		if opts.Secret != "" {
			ts, ok := larkTimestamp(m.Timestamp)
			if !ok || now.Sub(time.Unix(ts, 0)).Abs() > time.Hour ||
				!hmac.Equal([]byte(m.Sign), []byte(larkSign(opts.Secret, ts))) {
				return "", "bad signature or timestamp " + string(m.Timestamp), errReply(19021, "sign match fail or timestamp is not within one hour from current time")
			}
		}
		var (
			title, text string
			violation   string
		)
		switch m.MsgType {
		case "text":
			var c struct{ Text *string }
			if json.Unmarshal(m.Content, &c) != nil || c.Text == nil || strings.TrimSpace(*c.Text) == "" {
				return "", "text without content.text", errReply(19002, "param invalid: text is empty")
			}
			text = larkTextVisible(*c.Text)
		case "post":
			var problem string
			title, text, problem = larkPostVisible(m.Content)
			if problem != "" {
				return "", problem, errReply(9499, "Bad Request")
			}
		case "interactive":
			var problem string
			title, text, violation, problem = larkCardVisible(m.Card)
			if problem != "" {
				return "", problem, errReply(19002, "param invalid: "+problem)
			}
		case "image", "share_chat":
			return "", "msg_type " + m.MsgType + " is not sent by the bridge", errReply(19002, "param invalid")
		default:
			return "", "msg_type " + m.MsgType, errReply(19002, "param invalid: msg_type")
		}
		keywordText := title + "\n" + text
		if m.MsgType != "text" {
			// Link targets are not text values: Lark looks for the
			// keyword in texts and titles only.
			keywordText = larkHref.ReplaceAllString(keywordText, "")
		}
		if opts.Keyword != "" && !strings.Contains(keywordText, opts.Keyword) {
			return "", "keyword missing", errReply(19024, "Key Words Not Found")
		}
		if !larkAllow(now, second, minute) {
			return "", "more than 5 messages a second or 100 a minute", errReply(11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]")
		}
		visible := text
		if title != "" {
			visible = title + "\n" + text
		}
		if violation != "" {
			// Lark accepts it, but the reader does not see what was meant.
			return visible, violation, &notifytest.Reply{Status: http.StatusOK, Body: larkOK}
		}
		return visible, "", nil
	}
	l.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: larkOK}, func(r notifytest.Reply) bool {
		return (r.Status == 0 || r.Status == http.StatusOK) && strings.Contains(r.Body, `"code":0`)
	})
	l.URL = l.Server.URL + "/open-apis/bot/v2/hook/" + opts.Token
	return l
}

// larkAllow records an event in both windows only when both have room, so
// a refused message does not use up one window's quota.
func larkAllow(now time.Time, ws ...*notifytest.Window) bool {
	for _, w := range ws {
		if w.Full(now) {
			return false
		}
	}
	for _, w := range ws {
		w.Allow(now)
	}
	return true
}

// larkTimestamp reads the body's timestamp, a string or a number of
// seconds.
func larkTimestamp(raw json.RawMessage) (int64, bool) {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			return 0, false
		}
		s = n.String()
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	return ts, err == nil
}

// larkSign is the contract's formula, written out independently of the
// integration: the key is timestamp+"\n"+secret, the message empty.
func larkSign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(fmt.Sprintf("%d\n%s", ts, secret)))
	mac.Write(nil)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// larkHref matches a link target as the visible text shows it: (href)
// after a post link's text, or a markdown link's (url).
var larkHref = regexp.MustCompile(`\((https?://[^()\s]*)\)`)

var larkTextAt = regexp.MustCompile(`<at user_id="([^"]*)">([^<]*)</at>`)

// larkTextVisible resolves the <at> tags of a text message, the only
// markup Lark parses there.
func larkTextVisible(s string) string {
	return larkTextAt.ReplaceAllStringFunc(s, func(tag string) string {
		m := larkTextAt.FindStringSubmatch(tag)
		if m[2] != "" {
			return "@" + m[2]
		}
		return "@" + m[1]
	})
}

// larkPostVisible checks a post's content and returns its title and text,
// a line per paragraph, links as "text (href)" and mentions as @id.
func larkPostVisible(raw json.RawMessage) (title, text, problem string) {
	var c struct {
		Post map[string]struct {
			Title   string
			Content [][]map[string]any
		}
	}
	if err := json.Unmarshal(raw, &c); err != nil || len(c.Post) == 0 {
		return "", "", "post without content.post.<locale>"
	}
	var b strings.Builder
	for locale, p := range c.Post {
		switch locale {
		case "zh_cn", "en_us", "ja_jp":
		default:
			return "", "", "post locale " + locale
		}
		title = p.Title
		if len(p.Content) == 0 {
			return "", "", "post without paragraphs"
		}
		for _, para := range p.Content {
			for _, node := range para {
				str := func(k string) string { s, _ := node[k].(string); return s }
				switch str("tag") {
				case "text":
					if _, ok := node["text"].(string); !ok {
						return "", "", "post text node without text"
					}
					b.WriteString(str("text"))
				case "a":
					u, err := url.Parse(str("href"))
					if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						return "", "", fmt.Sprintf("post link with an invalid href %q", str("href"))
					}
					b.WriteString(str("text") + " (" + str("href") + ")")
				case "at":
					if str("user_id") == "" {
						return "", "", "post at node without user_id"
					}
					b.WriteString("@" + str("user_id"))
				case "img":
					if str("image_key") == "" {
						return "", "", "post img node without image_key"
					}
				default:
					return "", "", fmt.Sprintf("post node tag %q", str("tag"))
				}
			}
			b.WriteByte('\n')
		}
	}
	return title, b.String(), ""
}

// larkCardTemplates are the header colours a card may use.
var larkCardTemplates = map[string]bool{
	"": true, "default": true, "blue": true, "wathet": true, "turquoise": true, "green": true, "yellow": true,
	"orange": true, "red": true, "carmine": true, "violet": true, "purple": true, "indigo": true, "grey": true,
}

// larkMarkdownTags are the HTML-like tags card markdown (JSON 2.0)
// supports; any other tag means a value reached the card unescaped.
var larkMarkdownTags = map[string]bool{
	"br": true, "hr": true, "person": true, "local_datetime": true, "at": true, "a": true,
	"text_tag": true, "raw": true, "link": true, "font": true, "number_tag": true, "audio": true,
}

var (
	larkTag    = regexp.MustCompile(`<(/?)([A-Za-z_]+)([^<>]*)>`)
	larkCardAt = regexp.MustCompile(`^\s+id=([^\s>]+)`)
)

// larkCardVisible checks an interactive message's card (JSON 2.0, or 1.0
// with top-level elements) and returns its header title and the text of
// its markdown elements as a reader sees it.
func larkCardVisible(raw json.RawMessage) (title, text, violation, problem string) {
	type element struct {
		Tag     string
		Content *string
		Text    *struct{ Tag, Content string }
	}
	var card struct {
		Schema string
		Header *struct {
			Title    *struct{ Tag, Content string }
			Template string
		}
		Body *struct {
			Elements []element
		}
		Elements []element
	}
	if len(raw) == 0 || raw[0] != '{' || json.Unmarshal(raw, &card) != nil {
		return "", "", "", `interactive message without a top-level "card" object`
	}
	elements := card.Elements
	if card.Schema == "2.0" {
		if card.Body == nil {
			return "", "", "", "card 2.0 without body"
		}
		elements = card.Body.Elements
	}
	if h := card.Header; h != nil {
		if h.Title == nil || (h.Title.Tag != "plain_text" && h.Title.Tag != "lark_md") {
			return "", "", "", "card header without a plain_text title"
		}
		if !larkCardTemplates[h.Template] {
			return "", "", "", "card header template " + h.Template
		}
		title = h.Title.Content
	}
	if len(elements) == 0 {
		return "", "", "", "card without elements"
	}
	var b strings.Builder
	for _, e := range elements {
		switch {
		case e.Tag == "markdown" && e.Content != nil:
			v, bad := larkMarkdownVisible(*e.Content)
			if bad != "" && violation == "" {
				violation = bad
			}
			b.WriteString(v + "\n")
		case e.Tag == "div" && e.Text != nil:
			b.WriteString(e.Text.Content + "\n")
		case e.Tag == "markdown":
			return "", "", "", "markdown element without content"
		case e.Tag == "":
			return "", "", "", "card element without tag"
		}
	}
	return title, b.String(), violation, ""
}

// larkMarkdownVisible renders card markdown to what a reader sees: tags
// resolved (<at id=x></at> as @x, <br> and <hr> as line breaks), backslash
// escapes and HTML entities resolved. Markdown markers themselves are left
// in place, and links stay [text](url). It reports a tag Lark does not
// support.
func larkMarkdownVisible(s string) (string, string) {
	var violation string
	s = notifytest.UnescapeMarkdown(s)
	s = larkTag.ReplaceAllStringFunc(s, func(tag string) string {
		m := larkTag.FindStringSubmatch(tag)
		name := strings.ToLower(m[2])
		if !larkMarkdownTags[name] {
			if violation == "" {
				violation = "card markdown has an unsupported tag " + tag + " (an unescaped value?)"
			}
			return tag
		}
		switch {
		case name == "br" || name == "hr":
			return "\n"
		case name == "at" && m[1] == "":
			if id := larkCardAt.FindStringSubmatch(m[3]); id != nil {
				return "@" + id[1]
			}
		}
		return ""
	})
	return html.UnescapeString(s), violation
}
