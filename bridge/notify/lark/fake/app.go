package fake

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// AppOptions configure a fake Lark / Feishu open platform with one app
// whose bot is in one chat.
type AppOptions struct {
	// AppID, AppSecret and ChatID default to "cli_fakeapp",
	// "fake-app-secret" and "oc_fakechat".
	AppID, AppSecret, ChatID string
	// TokenTTL is the life of a tenant access token (default 2 hours).
	TokenTTL time.Duration
	// Now is the fake's clock (default time.Now): tokens expire by it.
	Now func() time.Time
}

// App is a fake Lark / Feishu open platform enforcing the contract of the
// app API the bridge uses. Every answer is JSON with a code; errors are
// HTTP 400.
//
//   - POST /open-apis/auth/v3/tenant_access_token/internal with
//     {"app_id","app_secret"} answers {"code":0,"tenant_access_token",
//     "expire"} (seconds); a wrong id or secret is a non-zero code (10014
//     here). A token is "t-" and a number and lives TokenTTL.
//   - Every other call needs "Authorization: Bearer <token>": none is
//     code 99991661, one never issued, expired or revoked (RevokeTokens)
//     99991663; neither is a violation, as a token expiring is normal.
//   - POST /open-apis/im/v1/messages?receive_id_type=chat_id with
//     exactly receive_id (the chat), msg_type and content, a string of
//     JSON (uuid may be added): text {"text"}, post {"<locale>":{title,
//     content}} (not wrapped in "post"), interactive a card. A body over
//     30 KB (150 KB for text) is code 230025; another chat 230002.
//   - PATCH /open-apis/im/v1/messages/{id} with exactly {"content"}
//     updates a card the bot sent: a message recalled (Recall) is 230011,
//     none with the id 230001, a message that is no card 230001, and a
//     card that is not shared (neither JSON 2.0 nor config.update_multi,
//     before or after) a violation answered 230001.
//   - POST /open-apis/im/v1/messages/{id}/reply with msg_type and content
//     (reply_in_thread and uuid allowed) answers a message: 230011 if it
//     was recalled, 230001 if there is none.
//
// Anything else (another path, method, Content-Type, an unknown key) is
// a violation answered 400 code 230001 or 404. Token requests are no
// messages: Received leaves them out (TokensIssued counts them), and a
// scripted reply answers the next message call, never a token request.
type App struct {
	*notifytest.Fake
	opts AppOptions

	mu       sync.Mutex
	tokens   map[string]time.Time // token: expiry
	issued   int
	messages notifytest.MessageLog[AppMessage]
}

// AppMessage is one message of the chat as it stands now.
type AppMessage struct {
	ID, MsgType string
	// Text is what a reader sees; Content the JSON last sent.
	Text, Content string
	Edits         int
	// ReplyTo is the id of the message it answers, if any.
	ReplyTo string
	// Recalled marks a message recalled in the chat.
	Recalled bool
}

// Messages returns the chat's messages, recalled ones included, oldest
// first (copies).
func (a *App) Messages() []AppMessage {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.messages.Live()
}

// Recall recalls a message, as its sender can; editing or answering it
// is then code 230011.
func (a *App) Recall(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := a.messages.Get(appNumber(id)); m != nil {
		m.Recalled = true
	}
}

// RevokeTokens makes every token issued so far invalid (code 99991663),
// as an App Secret reset does.
func (a *App) RevokeTokens() {
	a.mu.Lock()
	defer a.mu.Unlock()
	clear(a.tokens)
}

// TokensIssued counts the tokens the fake issued.
func (a *App) TokensIssued() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.issued
}

var appMessagePath = regexp.MustCompile(`^/open-apis/im/v1/messages/(om_[0-9a-f]+)(/reply)?$`)

func appID(n int) string { return fmt.Sprintf("om_%032x", n+1) }

func appNumber(id string) int {
	var n int
	if _, err := fmt.Sscanf(id, "om_%x", &n); err != nil || appID(n-1) != id {
		return -1
	}
	return n - 1
}

func appError(code int, msg string) *notifytest.Reply {
	return &notifytest.Reply{Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
		Body: fmt.Sprintf(`{"code":%d,"msg":%q,"data":{}}`, code, msg)}
}

func appOK(v any) notifytest.Reply {
	b, _ := json.Marshal(map[string]any{"code": 0, "msg": "success", "data": v})
	return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: string(b)}
}

// appBody is every key the message endpoints take.
type appBody struct {
	ReceiveID     *string `json:"receive_id"`
	MsgType       *string `json:"msg_type"`
	Content       *string `json:"content"`
	UUID          string  `json:"uuid"`
	ReplyInThread bool    `json:"reply_in_thread"`
}

// NewApp starts a fake open platform; its URL is the platform's address.
func NewApp(t testing.TB, opts AppOptions) *App {
	opts.AppID = cmp.Or(opts.AppID, "cli_fakeapp")
	opts.AppSecret = cmp.Or(opts.AppSecret, "fake-app-secret")
	opts.ChatID = cmp.Or(opts.ChatID, "oc_fakechat")
	if opts.TokenTTL == 0 {
		opts.TokenTTL = 2 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	a := &App{opts: opts, tokens: map[string]time.Time{}}
	check := func(r *http.Request, body []byte, _ time.Time) (string, string, *notifytest.Reply) {
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			return "", "Content-Type " + r.Header.Get("Content-Type"), appError(230001, "invalid request parameter: Content-Type")
		}
		if r.URL.Path == tokenPath {
			if r.Method != http.MethodPost {
				return "", "token method " + r.Method, &notifytest.Reply{Status: http.StatusNotFound}
			}
			var c struct {
				AppID     string `json:"app_id"`
				AppSecret string `json:"app_secret"`
			}
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&c); err != nil {
				return "", "token request: " + err.Error(), appError(10003, "invalid param")
			}
			return "", "", nil
		}
		return a.checkMessage(r, body)
	}
	a.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK}, func(r notifytest.Reply) bool {
		return r.Status == http.StatusOK && strings.Contains(r.Body, `"code":0`)
	})
	a.Answer = a.answer
	a.Auxiliary = func(r *http.Request) bool { return r.URL.Path == tokenPath }
	return a
}

// checkMessage enforces the message endpoints' contract that needs no
// state; the answer checks the token and the messages.
func (a *App) checkMessage(r *http.Request, body []byte) (string, string, *notifytest.Reply) {
	m := appMessagePath.FindStringSubmatch(r.URL.Path)
	create := r.URL.Path == "/open-apis/im/v1/messages"
	switch {
	case !create && m == nil:
		return "", "path " + r.URL.Path, &notifytest.Reply{Status: http.StatusNotFound, Body: "404 page not found"}
	case create && r.Method != http.MethodPost, m != nil && m[2] != "" && r.Method != http.MethodPost, m != nil && m[2] == "" && r.Method != http.MethodPatch:
		return "", r.Method + " " + r.URL.Path, &notifytest.Reply{Status: http.StatusNotFound, Body: "404 page not found"}
	case create && r.URL.RawQuery != "receive_id_type=chat_id":
		return "", "query " + r.URL.RawQuery, appError(230001, "invalid request parameter: receive_id_type")
	}
	var b appBody
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return "", "body: " + err.Error(), appError(230001, "invalid request parameter: "+err.Error())
	}
	switch {
	case b.Content == nil:
		return "", "no content", appError(230001, "invalid request parameter: content")
	case m != nil && m[2] == "" && (b.MsgType != nil || b.ReceiveID != nil || b.UUID != "" || b.ReplyInThread):
		return "", "a card update takes only content", appError(230001, "invalid request parameter")
	case m == nil && b.ReplyInThread:
		return "", "reply_in_thread in a new message", appError(230001, "invalid request parameter")
	case create && (b.ReceiveID == nil || b.MsgType == nil), m != nil && m[2] != "" && (b.MsgType == nil || b.ReceiveID != nil):
		return "", "receive_id or msg_type missing or misplaced", appError(230001, "invalid request parameter")
	}
	if create && *b.ReceiveID != a.opts.ChatID {
		return "", "receive_id " + *b.ReceiveID, appError(codeBotNotInChat, "The bot can not be outside the group.")
	}
	msgType := "interactive"
	if b.MsgType != nil {
		msgType = *b.MsgType
	}
	limit := 30 * 1024
	if msgType == "text" {
		limit = 150 * 1024
	}
	if len(body) > limit {
		return "", fmt.Sprintf("body is %d bytes", len(body)), appError(230025, "The length of the message content reaches its limit.")
	}
	if m != nil && m[2] == "" {
		a.mu.Lock()
		target := a.messages.Get(appNumber(m[1]))
		unshared := target != nil && !target.Recalled && target.MsgType == "interactive" && (!sharedCard(target.Content) || !sharedCard(*b.Content))
		if target != nil {
			msgType = target.MsgType
		}
		a.mu.Unlock()
		if unshared {
			return "", "update of a card that is not shared (neither JSON 2.0 nor config.update_multi)", appError(230001, "invalid request parameter: the card is not shared")
		}
	}
	text, violation, problem := appVisible(msgType, *b.Content)
	if problem != "" {
		return "", problem, appError(230001, "invalid request parameter: "+problem)
	}
	if violation != "" {
		return text, violation, &notifytest.Reply{Status: http.StatusOK, Body: `{"code":0,"msg":"success","data":{}}`}
	}
	return text, "", nil
}

const (
	codeBotNotInChat = 230002
	tokenPath        = "/open-apis/auth/v3/tenant_access_token/internal"
)

// appVisible renders a message's content as a reader sees it, with the
// custom bot fake's rules.
func appVisible(msgType, content string) (text, violation, problem string) {
	var title string
	raw := json.RawMessage(content)
	if !json.Valid(raw) || !strings.HasPrefix(strings.TrimSpace(content), "{") {
		return "", "", "content is not a JSON object"
	}
	switch msgType {
	case "text":
		var c struct{ Text *string }
		if json.Unmarshal(raw, &c) != nil || c.Text == nil || strings.TrimSpace(*c.Text) == "" {
			return "", "", "text without content.text"
		}
		text = larkTextVisible(*c.Text)
	case "post":
		var c map[string]json.RawMessage
		_ = json.Unmarshal(raw, &c)
		if _, wrapped := c["post"]; wrapped {
			return "", "", `post content wrapped in "post" (the custom bot's shape)`
		}
		wrapped, _ := json.Marshal(map[string]json.RawMessage{"post": raw})
		title, text, problem = larkPostVisible(wrapped)
	case "interactive":
		title, text, violation, problem = larkCardVisible(raw)
	default:
		return "", "", "msg_type " + msgType + " is not sent by the bridge"
	}
	if title != "" {
		text = title + "\n" + text
	}
	return text, violation, problem
}

// sharedCard reports whether a card is shared: updates reach everyone.
func sharedCard(content string) bool {
	var c struct {
		Schema string `json:"schema"`
		Config struct {
			UpdateMulti bool `json:"update_multi"`
		} `json:"config"`
	}
	return json.Unmarshal([]byte(content), &c) == nil && (c.Schema == "2.0" || c.Config.UpdateMulti)
}

// answer issues tokens, checks them, and keeps the chat's messages.
func (a *App) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.opts.Now()
	if r.URL.Path == tokenPath {
		var c struct {
			AppID     string `json:"app_id"`
			AppSecret string `json:"app_secret"`
		}
		_ = json.Unmarshal(body, &c)
		if c.AppID != a.opts.AppID || c.AppSecret != a.opts.AppSecret {
			return *appError(10014, "app secret invalid")
		}
		a.issued++
		token := fmt.Sprintf("t-%040d", a.issued)
		a.tokens[token] = now.Add(a.opts.TokenTTL)
		b, _ := json.Marshal(map[string]any{"code": 0, "msg": "ok", "tenant_access_token": token, "expire": int(a.opts.TokenTTL / time.Second)})
		return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: string(b)}
	}
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return *appError(99991661, "Missing access token for authorization. Please make a request with token attached.")
	}
	if exp, ok := a.tokens[token]; !ok || !now.Before(exp) {
		return *appError(99991663, "Invalid access token for authorization. Please make a request with token attached.")
	}
	var b appBody
	_ = json.Unmarshal(body, &b) // the check read it
	m := appMessagePath.FindStringSubmatch(r.URL.Path)
	if m == nil { // a new message
		msg := &AppMessage{ID: appID(a.messages.Next()), MsgType: *b.MsgType, Text: text, Content: *b.Content}
		a.messages.Add(msg)
		return appOK(map[string]any{"message_id": msg.ID, "chat_id": a.opts.ChatID, "msg_type": msg.MsgType, "body": map[string]string{"content": msg.Content}})
	}
	target := a.messages.Get(appNumber(m[1]))
	switch {
	case target == nil:
		return *appError(230001, "invalid request parameter: message_id")
	case target.Recalled:
		return *appError(230011, "The message is recalled.")
	}
	if m[2] != "" { // a reply
		msg := &AppMessage{ID: appID(a.messages.Next()), MsgType: *b.MsgType, Text: text, Content: *b.Content, ReplyTo: target.ID}
		a.messages.Add(msg)
		return appOK(map[string]any{"message_id": msg.ID, "chat_id": a.opts.ChatID, "msg_type": msg.MsgType, "parent_id": target.ID, "root_id": target.ID})
	}
	if target.MsgType != "interactive" {
		return *appError(230001, "invalid request parameter: only cards can be updated")
	}
	target.Text, target.Content = text, *b.Content
	target.Edits++
	return appOK(map[string]any{})
}
