// Package lark delivers groups to Lark / Feishu custom bots (open.feishu.cn
// or open.larksuite.com /open-apis/bot/v2/hook/{token}): interactive cards
// (default; JSON 2.0 schema, header coloured by status, markdown body),
// post (rich text in en_us or zh_cn) or text messages. With app_id it
// posts the same messages through an app's bot instead (the open
// platform's message API, see app.go), which can also edit its cards and
// reply to its messages. Its contract (URL, keys, limits, answers,
// mentions, a sample) is documented in docs/targets.md#lark--feishu.
package lark

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// MaxBodyBytes is Lark's request body limit, 20 KB (code 9499 beyond it).
const MaxBodyBytes = 20 * 1024

// signReserve is what the signature fields add to a body:
// "timestamp":"<10 digits>","sign":"<44 Base64 characters>", — Check keeps
// this much room so the signed body still fits.
const signReserve = len(`"timestamp":"1599360473","sign":"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=",`)

// Message types.
const (
	Interactive = "interactive"
	Post        = "post"
	Text        = "text"
)

// Post locales.
const (
	EnUS = "en_us"
	ZhCN = "zh_cn"
)

// Options are the lark target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// MsgType is interactive (a card, default), post or text.
	MsgType string `yaml:"msg_type"`
	// Locale is the language key of post messages: en_us (default) or
	// zh_cn.
	Locale string `yaml:"locale"`
	// Keyword is the bot's security keyword; the presets put it in every
	// message's title, and a message without it is not sent.
	Keyword string `yaml:"keyword"`
	// AppID (cli_…) selects the app mode: the target posts as the app's
	// bot to ChatID through the open platform's message API, url being
	// the platform's address and secret the app's App Secret.
	AppID string `yaml:"app_id"`
	// ChatID is the chat (oc_…) the app's bot posts to; app mode only.
	ChatID string `yaml:"chat_id"`
}

// Validate checks the options and fills defaults.
func (o *Options) Validate() error {
	var errs []error
	switch o.MsgType {
	case "":
		o.MsgType = Interactive
	case Interactive, Post, Text:
	default:
		errs = append(errs, fmt.Errorf("msg_type: %q is not one of interactive, post, text", o.MsgType))
	}
	switch o.Locale {
	case "":
		o.Locale = EnUS
	case EnUS, ZhCN:
	default:
		errs = append(errs, fmt.Errorf("locale: %q is not one of en_us, zh_cn", o.Locale))
	}
	switch {
	case o.AppID == "" && o.ChatID != "":
		errs = append(errs, errors.New("chat_id: only with app_id: a custom bot posts to the chat it was added to"))
	case o.AppID != "" && !appIDPattern.MatchString(o.AppID):
		errs = append(errs, errors.New("app_id: must be the app's App ID, cli_ and letters or digits"))
	case o.AppID != "" && o.ChatID == "":
		errs = append(errs, errors.New("chat_id: required with app_id: the chat's id, oc_…"))
	case o.AppID != "" && !chatIDPattern.MatchString(o.ChatID):
		errs = append(errs, errors.New("chat_id: must be a chat id, oc_ and letters or digits"))
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Lark", "open_ids or user_ids in mention.users", func(string) error { return nil })...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type platform struct {
	url     string
	secret  string
	keyword string
	now     func() time.Time
}

// New builds a Lark notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	if opts.AppID != "" {
		return newApp(s, opts)
	}
	if _, err := url.Parse(s.URL); err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	p := &platform{url: s.URL, secret: s.Secret, keyword: opts.Keyword, now: s.Clock()}
	return chat.New(s, "lark."+opts.MsgType+".body", p, &opts.Common)
}

// Known hosts of the Lark (international) and Feishu (China) open
// platforms, whose custom-bot webhooks live under webhookPath.
var knownHosts = map[string]bool{"open.feishu.cn": true, "open.larksuite.com": true}

const webhookPath = "/open-apis/bot/v2/hook/"

// CheckURL refuses a Lark or Feishu URL that is neither a custom-bot
// webhook nor the platform's bare address (the app mode's; which of the
// two the target's keys need, CheckTarget checks): an API URL or the
// retired v1 hook pasted by mistake. Other hosts (proxies, test servers)
// are accepted as they are. Errors never quote the URL: its path is the
// bot's token.
func CheckURL(u *url.URL) error {
	if !knownHosts[strings.ToLower(u.Hostname())] || strings.Trim(u.Path, "/") == "" {
		return nil
	}
	if !strings.HasPrefix(u.Path, webhookPath) || strings.Trim(strings.TrimPrefix(u.Path, webhookPath), "/") == "" {
		return fmt.Errorf("must be a custom bot webhook, https://%s%s<token>", u.Hostname(), webhookPath)
	}
	return nil
}

// Check enforces the body limit (leaving room for the signature), the
// message schema and the keyword.
func (p *platform) Check(body []byte) error {
	limit := MaxBodyBytes
	if p.secret != "" {
		limit -= signReserve
	}
	if len(body) > limit {
		return &chat.LimitError{What: "body", Size: len(body), Limit: limit, Unit: "bytes"}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a JSON object: %v", err)
	}
	var msgType string
	if err := json.Unmarshal(m["msg_type"], &msgType); err != nil || msgType == "" {
		return errors.New(`body has no "msg_type"`)
	}
	switch msgType {
	case Interactive:
		if !isObject(m["card"]) {
			return errors.New(`an interactive message needs the card in a top-level "card" object (not inside "content")`)
		}
	case Post, Text, "image", "share_chat":
		if !isObject(m["content"]) {
			return fmt.Errorf(`a %s message needs a "content" object`, msgType)
		}
	default:
		return fmt.Errorf("msg_type %q is not one of text, post, image, share_chat, interactive", msgType)
	}
	if p.secret != "" {
		if _, ok := m["sign"]; ok {
			return errors.New(`the body must not set "sign": the bridge signs it`)
		}
		if _, ok := m["timestamp"]; ok {
			return errors.New(`the body must not set "timestamp": the bridge signs it`)
		}
	}
	return chat.Keyword(body, p.keyword)
}

func isObject(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && raw[0] == '{'
}

// Request signs the body when the target has a secret: "timestamp" and
// "sign" are spliced in right after the object's opening brace, leaving
// the rendered JSON untouched.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	if p.secret != "" {
		trimmed := bytes.TrimLeft(body, " \t\r\n")
		if len(trimmed) == 0 || trimmed[0] != '{' {
			return nil, errors.New("body is not a JSON object")
		}
		ts := p.now().Unix()
		fields := fmt.Sprintf(`"timestamp":"%d","sign":"%s",`, ts, Sign(p.secret, ts))
		signed := make([]byte, 0, len(trimmed)+len(fields))
		signed = append(signed, '{')
		signed = append(signed, fields...)
		signed = append(signed, trimmed[1:]...)
		body = signed
	}
	return &notify.Request{
		Method: http.MethodPost, URL: p.url, Body: body,
		Header: http.Header{"Content-Type": []string{"application/json; charset=utf-8"}},
	}, nil
}

// Sign is Lark's signature: Base64(HMAC-SHA256(key = timestamp+"\n"+secret,
// message = "")), timestamp in seconds. The key is the string to sign and
// the message is empty, unlike DingTalk's.
func Sign(secret string, tsSeconds int64) string {
	h := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// rateLimitWait is the wait after code 11232 (frequency limited) when no
// Retry-After says otherwise. The limits are 5 per second and 100 per
// rolling minute per bot, and Lark also throttles around round times
// (:00, :30): after a minute every earlier message has left the window
// and the round-time peak has passed.
const rateLimitWait = time.Minute

// classifyOverload judges the answers both of Lark's modes treat alike,
// whatever their body: 429 and 5xx, retried as everywhere, a rate limit
// without Retry-After waiting rateLimitWait. ok is false for any other
// status, whose body the mode reads.
func classifyOverload(resp *notify.Response, now time.Time) (r notify.Result, ok bool) {
	if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return notify.Result{}, false
	}
	r = notify.ClassifyHTTP(resp, now)
	if r.Reason == notify.ReasonRateLimited && r.RetryAfter == 0 {
		r.RetryAfter = rateLimitWait
	}
	return r, true
}

// Classify reads the body's code whatever the HTTP status (Lark reports
// errors with HTTP 200, and 4xx answers carry the same codes); 429 and
// 5xx are retried like everywhere.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	now := p.now()
	if r, ok := classifyOverload(resp, now); ok {
		return r
	}
	var ans struct {
		Code          *int   `json:"code"`
		Msg           string `json:"msg"`
		StatusCode    *int   `json:"StatusCode"`
		StatusMessage string `json:"StatusMessage"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || (ans.Code == nil && ans.StatusCode == nil) {
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			// Gateways in front of Lark have been seen answering with
			// HTML pages; the message may not have arrived.
			return notify.Retryable(notify.ReasonIMRejected, 0, "Lark answered without a code: %s", notify.Snippet(resp.Body))
		}
		return notify.ClassifyHTTP(resp, now)
	}
	code, text := 0, ans.Msg
	if ans.Code != nil {
		code = *ans.Code
	} else {
		code, text = *ans.StatusCode, ans.StatusMessage
	}
	msg := notify.Snippet([]byte(text))
	switch code {
	case 0:
		if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
			return notify.OK()
		}
		return notify.ClassifyHTTP(resp, now)
	case 11232:
		wait := notify.RetryAfter(resp.Header, now)
		if wait == 0 {
			wait = rateLimitWait
		}
		return notify.Retryable(notify.ReasonRateLimited, wait, "Lark code 11232 (frequency limited): %s", msg)
	case 19001:
		return notify.Failed(notify.ReasonAuthError, "Lark code 19001: %s (is the webhook URL right, or was the bot removed?)", msg)
	case 19021:
		// Sign mismatch and a timestamp over an hour off share the code.
		// Every attempt is signed afresh at send time, so retrying fixes
		// neither a wrong secret nor a clock an hour off: fail at once so
		// the operator sees it.
		return notify.Failed(notify.ReasonAuthError, "Lark code 19021: %s (check the secret and the clock)", msg)
	case 19022:
		return notify.Failed(notify.ReasonAuthError, "Lark code 19022: %s (the bot's IP allowlist refuses this host)", msg)
	case 19024:
		return notify.Failed(notify.ReasonIMRejected, "Lark code 19024: %s (set the bot's keyword as keyword:)", msg)
	}
	// 9499 (malformed or too large), 19002 (invalid parameter) and codes
	// not documented: the message itself is refused.
	return notify.Failed(notify.ReasonIMRejected, "Lark code %d: %s", code, msg)
}
