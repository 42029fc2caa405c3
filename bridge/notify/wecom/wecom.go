// Package wecom delivers groups to WeCom (企业微信) group robots
// (qyapi.weixin.qq.com/cgi-bin/webhook/send?key=...): markdown (default) or
// text messages. Its contract (URL, keys, limits, answers, mentions, a
// sample) is documented in docs/targets.md#wecom.
package wecom

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// Content limits in bytes (errcode 40058 beyond them).
const (
	MaxTextBytes     = 2048
	MaxMarkdownBytes = 4096
)

// Message types.
const (
	Markdown = "markdown"
	Text     = "text"
)

// Options are the wecom target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// MsgType is markdown (default) or text.
	MsgType string `yaml:"msg_type"`
}

// Validate checks the options and fills defaults.
func (o *Options) Validate() error {
	var errs []error
	switch o.MsgType {
	case "":
		o.MsgType = Markdown
	case Markdown, Text:
	default:
		errs = append(errs, fmt.Errorf("msg_type: %q is not one of markdown, text", o.MsgType))
	}
	if m := o.Mention; m != nil && o.MsgType == Markdown {
		if m.All {
			errs = append(errs, errors.New("mention.all: WeCom markdown messages cannot mention everyone; use msg_type: text"))
		}
		errs = append(errs, m.CheckUsers("WeCom markdown", "msg_type: text or userids in mention.users", func(string) error { return nil })...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type platform struct {
	url string
	now func() time.Time
}

// New builds a WeCom notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	if s.Secret != "" {
		return nil, errors.New("secret: WeCom group robots do not sign requests; the key in the url is the only credential")
	}
	if _, err := url.Parse(s.URL); err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	return chat.New(s, "wecom."+opts.MsgType+".body", &platform{url: s.URL, now: s.Clock()}, &opts.Common)
}

// CheckURL refuses a qyapi.weixin.qq.com URL that is not a group robot
// webhook with a key. Other hosts (proxies, test servers) are accepted as
// they are. Errors never quote the URL: its key is the credential.
func CheckURL(u *url.URL) error {
	if !strings.EqualFold(u.Hostname(), "qyapi.weixin.qq.com") {
		return nil
	}
	if u.Path != "/cgi-bin/webhook/send" || u.Query().Get("key") == "" {
		return errors.New("must be a group robot webhook, https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<key>")
	}
	return nil
}

// limits maps the message types with a content field to its byte limit.
var limits = map[string]int{Text: MaxTextBytes, Markdown: MaxMarkdownBytes, "markdown_v2": MaxMarkdownBytes}

// Check enforces the content's byte limit and the message schema.
func (p *platform) Check(body []byte) error {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a JSON object: %v", err)
	}
	var msgType string
	if err := json.Unmarshal(m["msgtype"], &msgType); err != nil || msgType == "" {
		return errors.New(`body has no "msgtype"`)
	}
	obj, ok := m[msgType]
	if !ok {
		return fmt.Errorf("body has msgtype %q but no %q object", msgType, msgType)
	}
	limit, ok := limits[msgType]
	if !ok {
		return nil // image, news, file, template_card: no content to measure
	}
	var c struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(obj, &c); err != nil || c.Content == nil || strings.TrimSpace(*c.Content) == "" {
		return fmt.Errorf("%s.content is missing or empty", msgType)
	}
	if n := len(*c.Content); n > limit {
		return &chat.LimitError{What: msgType + ".content", Size: n, Limit: limit, Unit: "bytes"}
	}
	return nil
}

// Request posts the body to the webhook URL as it is.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url, Body: body,
		Header: http.Header{"Content-Type": []string{"application/json; charset=utf-8"}},
	}, nil
}

// rateLimitWait is the wait after errcode 45009 (api freq out of limit)
// when no Retry-After says otherwise. The limit is 20 messages in a rolling
// minute per robot: after a minute every message it counted has left the
// window.
const rateLimitWait = time.Minute

// Classify reads errcode: WeCom answers HTTP 200 for its errors.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	now := p.now()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		r := notify.ClassifyHTTP(resp, now)
		if r.Reason == notify.ReasonRateLimited && r.RetryAfter == 0 {
			r.RetryAfter = rateLimitWait
		}
		return r
	}
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.ErrCode == nil {
		// A proxy or gateway page: the message may not have arrived.
		return notify.Retryable(notify.ReasonIMRejected, 0, "WeCom answered without an errcode: %s", notify.Snippet(resp.Body))
	}
	code, msg := *ans.ErrCode, notify.Snippet([]byte(ans.ErrMsg))
	switch code {
	case 0:
		return notify.OK()
	case 45009:
		wait := notify.RetryAfter(resp.Header, now)
		if wait == 0 {
			wait = rateLimitWait
		}
		return notify.Retryable(notify.ReasonRateLimited, wait, "WeCom errcode 45009: %s", msg)
	case -1:
		return notify.Retryable(notify.ReasonServerError, 0, "WeCom errcode -1 (system busy): %s", msg)
	case 93000:
		return notify.Failed(notify.ReasonAuthError, "WeCom errcode 93000: %s (is the key right, or was the robot removed?)", msg)
	case 40058:
		return notify.Failed(notify.ReasonTooLarge, "WeCom errcode 40058: %s", msg)
	}
	return notify.Failed(notify.ReasonIMRejected, "WeCom errcode %d: %s", code, msg)
}
