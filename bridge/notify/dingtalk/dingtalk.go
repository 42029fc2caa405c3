// Package dingtalk delivers groups to DingTalk custom robots: markdown
// (default), text or actionCard messages; the optional signature in the
// query (HMAC-SHA256 keyed by the secret over timestamp+"\n"+secret, in
// milliseconds); mentions through "at" and in the text, as DingTalk
// requires; errcode checked in every answer; bodies kept within 20,000
// bytes.
//
// What users configure and see (URL, keys, limits, answers, a sample) is
// documented in docs/targets.md#dingtalk ("DingTalk"); this comment is the
// contract as the code keeps it.
package dingtalk

import (
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

// MaxBodyBytes is DingTalk's message limit (errcode 460101 beyond it).
const MaxBodyBytes = 20000

// Message types.
const (
	Markdown   = "markdown"
	Text       = "text"
	ActionCard = "actionCard"
)

// Options are the dingtalk target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// MsgType is markdown (default), text or actionCard.
	MsgType string `yaml:"msg_type"`
	// Keyword is the robot's security keyword; the presets put it in every
	// message, and a message without it is not sent.
	Keyword string `yaml:"keyword"`
}

// Validate checks the options and fills defaults.
func (o *Options) Validate() error {
	var errs []error
	switch o.MsgType {
	case "":
		o.MsgType = Markdown
	case Markdown, Text, ActionCard:
	default:
		errs = append(errs, fmt.Errorf("msg_type: %q is not one of markdown, text, actionCard", o.MsgType))
	}
	if o.Mention != nil && o.MsgType == ActionCard {
		errs = append(errs, errors.New("mention: DingTalk actionCard messages cannot mention anyone; use msg_type markdown or text"))
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type platform struct {
	url     *url.URL
	secret  string
	keyword string
	msgType string
	now     func() time.Time
}

// New builds a DingTalk notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	p := &platform{url: u, secret: s.Secret, keyword: opts.Keyword, msgType: opts.MsgType, now: s.Clock()}
	return chat.New(s, "dingtalk."+opts.MsgType+".body", p, &opts.Common)
}

// Check enforces the byte limit, the message schema and the keyword.
func (p *platform) Check(body []byte) error {
	if len(body) > MaxBodyBytes {
		return &chat.LimitError{What: "body", Size: len(body), Limit: MaxBodyBytes, Unit: "bytes"}
	}
	var m map[string]member
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a JSON object: %v", err)
	}
	msgType := m["msgtype"].text
	if msgType == "" {
		return errors.New(`body has no "msgtype"`)
	}
	if _, ok := m[msgType]; !ok {
		return fmt.Errorf("body has msgtype %q but no %q object", msgType, msgType)
	}
	return chat.Keyword(body, p.keyword)
}

// member is one member of a message: its value kept only when it is a
// string (the msgtype), so checking a body does not copy the message.
type member struct{ text string }

func (m *member) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' && len(b) <= 64 {
		return json.Unmarshal(b, &m.text)
	}
	return nil
}

// Request adds the signature to the query when the target has a secret.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	u := *p.url
	if p.secret != "" {
		ts := p.now().UnixMilli()
		q := u.Query()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(p.secret, ts))
		u.RawQuery = q.Encode()
	}
	return &notify.Request{
		Method: http.MethodPost, URL: u.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json; charset=utf-8"}},
	}, nil
}

// Sign is DingTalk's signature: Base64(HMAC-SHA256(key=secret,
// message=timestamp+"\n"+secret)), timestamp in milliseconds.
func Sign(secret string, tsMillis int64) string {
	h := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(h, "%d\n%s", tsMillis, secret)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// throttleWait is how long DingTalk keeps a robot throttled after it sent
// more than 20 messages in a minute.
const throttleWait = 10 * time.Minute

// Classify reads errcode: DingTalk answers HTTP 200 for most errors.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	now := p.now()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return notify.ClassifyHTTP(resp, now)
	}
	var ans struct {
		ErrCode *int   `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.ErrCode == nil {
		// Throttled robots have been seen answering with HTML pages.
		return notify.Retryable(notify.ReasonIMRejected, 0, "DingTalk answered without an errcode: %s", notify.Snippet(resp.Body))
	}
	code, msg := *ans.ErrCode, notify.Snippet([]byte(ans.ErrMsg))
	switch code {
	case 0:
		return notify.OK()
	case 130101:
		return notify.Retryable(notify.ReasonRateLimited, throttleWait, "DingTalk errcode 130101: %s", msg)
	case 660026:
		return notify.Retryable(notify.ReasonRateLimited, time.Minute, "DingTalk errcode 660026: %s", msg)
	case -1:
		return notify.Retryable(notify.ReasonServerError, 0, "DingTalk errcode -1 (system busy): %s", msg)
	case 460101:
		return notify.Failed(notify.ReasonTooLarge, "DingTalk errcode 460101: %s", msg)
	case 310000:
		switch {
		case strings.Contains(msg, "timestamp"):
			// A fresh timestamp is signed on the next attempt.
			return notify.Retryable(notify.ReasonAuthError, 0, "DingTalk errcode 310000: %s (is the clock right?)", msg)
		case strings.Contains(msg, "keyword"):
			return notify.Failed(notify.ReasonIMRejected, "DingTalk errcode 310000: %s (set the robot's keyword as keyword:)", msg)
		}
		return notify.Failed(notify.ReasonAuthError, "DingTalk errcode 310000: %s", msg)
	case 300001, 300005, 400013, 400101, 400102:
		return notify.Failed(notify.ReasonAuthError, "DingTalk errcode %d: %s", code, msg)
	}
	return notify.Failed(notify.ReasonIMRejected, "DingTalk errcode %d: %s", code, msg)
}
