package lark

import (
	"bytes"
	stdjson "encoding/json"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// The app mode: with app_id, a target posts through the Lark / Feishu
// app's bot, the open platform's message API, instead of a custom bot's
// webhook. The body the template renders is the custom bot's (msg_type
// and card or content); the app mode turns it into the API's (receive_id,
// msg_type and content, the message as a JSON string).
const (
	// TokenPath is where an app's tenant access token is got from its id
	// and secret.
	TokenPath = "/open-apis/auth/v3/tenant_access_token/internal"
	// MessagesPath is the message API; a message's own URL is
	// MessagesPath/{message_id}, its reply endpoint …/{message_id}/reply.
	MessagesPath = "/open-apis/im/v1/messages"
	// MaxAppCardBytes is the API's limit on the request body of a card or
	// post message; MaxAppTextBytes that of a text message.
	MaxAppCardBytes = 30 * 1024
	MaxAppTextBytes = 150 * 1024
	// tokenMargin is how long before its expiry a token is no longer
	// used: Lark issues a new one in the last 30 minutes of the old one's
	// life, while the old one stays valid.
	tokenMargin = 5 * time.Minute
)

// Lark's answer codes the app mode reads.
const (
	codeTokenMissing     = 99991661
	codeTokenInvalid     = 99991663
	codeTokenInvalidUser = 99991668
	codeTokenExpired     = 99991677
	codeRateLimited      = 99991400
	codeRecalled         = 230011
	codeTooOld           = 230031
	codeFrequency        = 230020
	codeBotNotInChat     = 230002
	codeNoBot            = 230006
	codeNoPermission     = 230027
	codeTooLong          = 230025
)

var (
	appIDPattern  = regexp.MustCompile(`^cli_[0-9a-zA-Z]{1,64}$`)
	chatIDPattern = regexp.MustCompile(`^oc_[0-9a-zA-Z]{1,64}$`)
	// messageID is a message's id as the API names it.
	messageID = regexp.MustCompile(`^om_[0-9a-zA-Z_-]{1,128}$`)
)

// CheckTarget vets the mode a target's keys select: a custom bot (the
// default) cannot edit or reply and takes a webhook url; the app mode
// (app_id) needs its App Secret as the target's secret and the open
// platform's base as url, and edits cards only.
func CheckTarget(t registry.Target) error {
	o, ok := t.Options.(*Options)
	if !ok {
		return nil
	}
	var errs []error
	hook := t.URL != nil && strings.HasPrefix(t.URL.Path, webhookPath)
	if o.AppID == "" {
		if t.Update != "" && t.Update != notify.UpdateNew {
			errs = append(errs, fmt.Errorf("update: %q needs the app mode (app_id, chat_id, and the app's App Secret as secret): a custom bot's webhook can neither edit nor reply", t.Update))
		}
		if t.URL != nil && knownHosts[strings.ToLower(t.URL.Hostname())] && !hook {
			errs = append(errs, fmt.Errorf("url: must be a custom bot webhook, https://%s%s<token> (or set app_id to post as an app's bot)", t.URL.Hostname(), webhookPath))
		}
		return errors.Join(errs...)
	}
	if !t.Secret {
		errs = append(errs, errors.New("secret: required with app_id: the app's App Secret (secret or secret_file)"))
	}
	if hook {
		errs = append(errs, errors.New("url: with app_id, url is the open platform's address (https://open.feishu.cn or https://open.larksuite.com), not a custom bot webhook"))
	} else if t.URL != nil && knownHosts[strings.ToLower(t.URL.Hostname())] && strings.Trim(t.URL.Path, "/") != "" {
		errs = append(errs, fmt.Errorf("url: with app_id, url is the open platform's address, https://%s, without a path", t.URL.Hostname()))
	}
	if t.Update == notify.UpdateEdit && o.MsgType != Interactive {
		errs = append(errs, fmt.Errorf("update: edit needs msg_type: interactive (the bridge edits cards; a %s message is posted anew or replied to)", o.MsgType))
	}
	return errors.Join(errs...)
}

// appPlatform posts through an app's bot with its tenant access token,
// which it keeps until shortly before it expires.
type appPlatform struct {
	base    *url.URL // scheme, host and a proxy's path prefix
	appID   string
	secret  string
	chatID  string
	keyword string
	edit    bool // update: edit: cards must be shared to be edited
	now     func() time.Time

	mu      sync.Mutex
	token   string
	expires time.Time
}

var _ chat.Authorizer = (*appPlatform)(nil)

func newApp(s notify.Settings, opts *Options) (*chat.Notifier, error) {
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	base := *u
	base.Path, base.RawPath, base.RawQuery, base.Fragment = strings.TrimRight(u.Path, "/"), "", "", ""
	p := &appPlatform{base: &base, appID: opts.AppID, secret: s.Secret, chatID: opts.ChatID, keyword: opts.Keyword,
		edit: s.Update == notify.UpdateEdit, now: s.Clock()}
	return chat.New(s, "lark."+opts.MsgType+".body", p, &opts.Common)
}

func (p *appPlatform) endpoint(path string) string {
	u := *p.base
	u.Path += path
	return u.String()
}

// appMessage is a message as the API takes it.
type appMessage struct {
	ReceiveID string `json:"receive_id,omitempty"`
	MsgType   string `json:"msg_type,omitempty"`
	Content   string `json:"content"`
}

// convert turns a custom bot body into the API's message: an
// interactive message's card, a post's localized content (what is inside
// "post"), and the content of the others, each as compact JSON text.
func convert(body []byte) (msgType string, content string, err error) {
	m, err := chat.Members(body)
	if err != nil {
		return "", "", fmt.Errorf("body is not a JSON object: %v", err)
	}
	if json.Unmarshal(m["msg_type"], &msgType) != nil || msgType == "" {
		return "", "", errors.New(`body has no "msg_type"`)
	}
	raw := m["content"]
	switch msgType {
	case Interactive:
		raw = m["card"]
		if !isObject(raw) {
			return "", "", errors.New(`an interactive message needs the card in a top-level "card" object (not inside "content")`)
		}
	case Post:
		var c map[string]stdjson.RawMessage
		if stdjson.Unmarshal(raw, &c) != nil || !isObject(c["post"]) {
			return "", "", errors.New(`a post message needs its locales in "content":{"post":{…}}`)
		}
		raw = c["post"]
	case Text, "image", "share_chat":
		if !isObject(raw) {
			return "", "", fmt.Errorf(`a %s message needs a "content" object`, msgType)
		}
	default:
		return "", "", fmt.Errorf("msg_type %q is not one of text, post, image, share_chat, interactive", msgType)
	}
	var b bytes.Buffer
	if err := stdjson.Compact(&b, raw); err != nil {
		return "", "", err
	}
	return msgType, b.String(), nil
}

// encode writes an API body; HTML characters stay as they are.
func encode(v any) []byte {
	var b bytes.Buffer
	enc := stdjson.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // strings only: cannot fail
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// Check enforces the custom bot body's schema, the API's size limit on
// the message it becomes, the keyword, and, with update: edit, a card
// Lark lets the bot update (a shared card: JSON 2.0, or
// config.update_multi true).
func (p *appPlatform) Check(body []byte) error {
	msgType, content, err := convert(body)
	if err != nil {
		return err
	}
	limit := MaxAppCardBytes
	if msgType == Text {
		limit = MaxAppTextBytes
	}
	if n := len(encode(appMessage{ReceiveID: p.chatID, MsgType: msgType, Content: content})); n > limit {
		return &chat.LimitError{What: "body (as the message API's content)", Size: n, Limit: limit, Unit: "bytes"}
	}
	if p.edit && msgType == Interactive && !sharedCard([]byte(content)) {
		return errors.New(`with update: edit the card must be shared: "schema":"2.0", or "config":{"update_multi":true}`)
	}
	return chat.Keyword(body, p.keyword)
}

// sharedCard reports whether Lark updates the card for everyone.
func sharedCard(card []byte) bool {
	var c struct {
		Schema string `json:"schema"`
		Config struct {
			UpdateMulti bool `json:"update_multi"`
		} `json:"config"`
	}
	return json.Unmarshal(card, &c) == nil && (c.Schema == "2.0" || c.Config.UpdateMulti)
}

var jsonHeader = http.Header{"Content-Type": []string{"application/json; charset=utf-8"}}

// Request posts the message to the chat: POST
// {url}/open-apis/im/v1/messages?receive_id_type=chat_id. The token is
// added when it is sent (Authorize).
func (p *appPlatform) Request(body []byte) (*notify.Request, error) {
	msgType, content, err := convert(body)
	if err != nil {
		return nil, err
	}
	return &notify.Request{
		Method: http.MethodPost, URL: p.endpoint(MessagesPath) + "?receive_id_type=chat_id",
		Body:   encode(appMessage{ReceiveID: p.chatID, MsgType: msgType, Content: content}),
		Header: jsonHeader.Clone(),
	}, nil
}

// posted reads back what Request made.
func posted(req *notify.Request) (appMessage, error) {
	var m appMessage
	if err := json.Unmarshal(req.Body, &m); err != nil || m.MsgType == "" {
		return m, errors.New("not a message API body")
	}
	return m, nil
}

// Edit implements chat.Editor: PATCH {url}/open-apis/im/v1/messages/{id}
// with the new card as content. Only cards are edited this way.
func (p *appPlatform) Edit(req *notify.Request, ref string) (*notify.Request, error) {
	if !messageID.MatchString(ref) {
		return nil, fmt.Errorf("%q is not a Lark message id", ref)
	}
	m, err := posted(req)
	if err != nil {
		return nil, err
	}
	if m.MsgType != Interactive {
		return nil, fmt.Errorf("a %s message cannot be updated, only a card", m.MsgType)
	}
	return &notify.Request{
		Method: http.MethodPatch, URL: p.endpoint(MessagesPath + "/" + ref),
		Body: encode(appMessage{Content: m.Content}), Header: jsonHeader.Clone(),
	}, nil
}

// Reply implements chat.Editor: POST
// {url}/open-apis/im/v1/messages/{id}/reply with the message; if the
// message replied to was recalled, the new message is posted instead
// (its Fallback).
func (p *appPlatform) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	if !messageID.MatchString(ref) {
		return nil, fmt.Errorf("%q is not a Lark message id", ref)
	}
	m, err := posted(req)
	if err != nil {
		return nil, err
	}
	return &notify.Request{
		Method: http.MethodPost, URL: p.endpoint(MessagesPath + "/" + ref + "/reply"),
		Body: encode(appMessage{MsgType: m.MsgType, Content: m.Content}), Header: jsonHeader.Clone(),
		Fallback: req,
	}, nil
}

// TokenRequest implements chat.Authorizer: POST
// {url}/open-apis/auth/v3/tenant_access_token/internal with the app's id
// and secret, unless the token held is good for a while yet.
func (p *appPlatform) TokenRequest(stale bool) *notify.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	if stale {
		p.token = ""
	}
	if p.token != "" && p.now().Before(p.expires) {
		return nil
	}
	body := encode(map[string]string{"app_id": p.appID, "app_secret": p.secret})
	return &notify.Request{Method: http.MethodPost, URL: p.endpoint(TokenPath), Body: body, Header: jsonHeader.Clone()}
}

// TokenAnswer implements chat.Authorizer: it keeps tenant_access_token
// until tokenMargin before expire (seconds) runs out.
func (p *appPlatform) TokenAnswer(resp *notify.Response) notify.Result {
	now := p.now()
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 {
		return notify.ClassifyHTTP(resp, now)
	}
	var ans struct {
		Code   *int   `json:"code"`
		Msg    string `json:"msg"`
		Token  string `json:"tenant_access_token"`
		Expire int64  `json:"expire"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.Code == nil {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return notify.Retryable(notify.ReasonServerError, 0, "Lark answered the token request without a code")
		}
		return notify.ClassifyHTTP(resp, now)
	}
	switch {
	case *ans.Code == 0 && ans.Token != "" && resp.StatusCode >= 200 && resp.StatusCode <= 299:
		life := time.Duration(ans.Expire) * time.Second
		p.mu.Lock()
		p.token, p.expires = ans.Token, now.Add(life-min(tokenMargin, life/2))
		p.mu.Unlock()
		return notify.OK()
	case *ans.Code == codeRateLimited:
		return notify.Retryable(notify.ReasonRateLimited, rateLimitWait, "Lark code %d: %s", *ans.Code, notify.Snippet([]byte(ans.Msg)))
	}
	return notify.Failed(notify.ReasonAuthError, "Lark code %d: %s (check app_id and the App Secret, and that the app is a custom app of this tenant)",
		*ans.Code, notify.Snippet([]byte(ans.Msg)))
}

// Authorize implements chat.Authorizer: req with the token held as its
// bearer token.
func (p *appPlatform) Authorize(req *notify.Request) *notify.Request {
	p.mu.Lock()
	token := p.token
	p.mu.Unlock()
	out := *req
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	out.Header.Set("Authorization", "Bearer "+token)
	return &out
}

// Classify reads the API's answer: code 0 with the message's id, a token
// refused (fetched again), a message recalled or too old to edit (Gone),
// rate limits, and the bot's missing rights.
func (p *appPlatform) Classify(resp *notify.Response) notify.Result {
	now := p.now()
	if r, ok := classifyOverload(resp, now); ok {
		return r
	}
	var ans struct {
		Code *int   `json:"code"`
		Msg  string `json:"msg"`
		Data struct {
			MessageID string `json:"message_id"`
			ChatID    string `json:"chat_id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.Code == nil {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return notify.Retryable(notify.ReasonIMRejected, 0, "Lark answered without a code: %s", notify.Snippet(resp.Body))
		}
		return notify.ClassifyHTTP(resp, now)
	}
	code, msg := *ans.Code, notify.Snippet([]byte(ans.Msg))
	switch code {
	case 0:
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return notify.ClassifyHTTP(resp, now)
		}
		r := notify.OK()
		if messageID.MatchString(ans.Data.MessageID) && (ans.Data.ChatID == "" || ans.Data.ChatID == p.chatID) {
			r.Ref = ans.Data.MessageID
		}
		return r
	case codeTokenMissing, codeTokenInvalid, codeTokenInvalidUser, codeTokenExpired:
		r := notify.Failed(notify.ReasonAuthError, "Lark code %d: %s (the tenant access token was refused)", code, msg)
		r.Reauth = true
		return r
	case codeRecalled, codeTooOld:
		r := notify.Failed(notify.ReasonClientError, "Lark code %d: %s", code, msg)
		r.Gone = true
		return r
	case codeFrequency, codeRateLimited, 11232:
		wait := notify.RetryAfter(resp.Header, now)
		if wait == 0 {
			wait = rateLimitWait
		}
		return notify.Retryable(notify.ReasonRateLimited, wait, "Lark code %d (frequency limited): %s", code, msg)
	case codeBotNotInChat:
		return notify.Failed(notify.ReasonAuthError, "Lark code %d: %s (add the app's bot to the chat %s)", code, msg, p.chatID)
	case codeNoBot, codeNoPermission:
		return notify.Failed(notify.ReasonAuthError, "Lark code %d: %s (enable the app's bot and the im:message:send_as_bot permission, then publish the app)", code, msg)
	case codeTooLong:
		return notify.Failed(notify.ReasonTooLarge, "Lark code %d: %s", code, msg)
	}
	return notify.Failed(notify.ReasonIMRejected, "Lark code %d: %s", code, msg)
}
