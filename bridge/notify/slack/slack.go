// Package slack delivers groups to Slack: to incoming webhooks (POST
// https://hooks.slack.com/services/T…/B…/…, the URL being the only
// credential), or with a bot token in the secret through the Web API
// (chat.postMessage, and chat.update or thread replies for updates in
// place; see api.go). Its contract (URL, keys, limits, answers, mentions,
// a sample) is documented in docs/targets.md#slack.
package slack

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// Slack's message limits, in characters (runes) or items.
const (
	MaxText          = 40000
	MaxBlocks        = 50
	MaxAttachments   = 100
	MaxHeaderText    = 150
	MaxSectionText   = 3000
	MaxFields        = 10
	MaxFieldText     = 2000
	MaxContextItems  = 10
	MaxContextText   = 3000
	MaxMarkdownBlock = 12000
)

// Preset is the preset body template.
const Preset = "slack.default.body"

// Options are the slack target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// Channel, Username, IconEmoji and IconURL override the webhook's
	// defaults. Only legacy custom-integration webhooks honour them; app
	// webhooks post to their one channel as the app. Sent only when set.
	// With a bot token, Channel is required: the conversation the bot
	// posts to (an id such as C0123456789, or a #name); Username and the
	// icons need the chat:write.customize scope.
	Channel   string `yaml:"channel"`
	Username  string `yaml:"username"`
	IconEmoji string `yaml:"icon_emoji"`
	IconURL   string `yaml:"icon_url"`
}

var (
	// slackID is a user (U…, W…) or user group (S…) id.
	slackID = regexp.MustCompile(`^[UWS][A-Z0-9]{2,}$`)
	emoji   = regexp.MustCompile(`^:[a-z0-9_+'-]+:$`)
)

// Validate checks the options. Mentions must be Slack ids: member ids
// (U…, W…) or user group ids (S…); Slack has no phone-number mentions.
func (o *Options) Validate() error {
	var errs []error
	if o.IconEmoji != "" && !emoji.MatchString(o.IconEmoji) {
		errs = append(errs, fmt.Errorf("icon_emoji: %q is not an emoji name such as :rotating_light:", o.IconEmoji))
	}
	if o.IconURL != "" {
		if !chat.IsHTTPURL(o.IconURL) {
			errs = append(errs, errors.New("icon_url: must be an http(s) URL"))
		}
	}
	if o.IconEmoji != "" && o.IconURL != "" {
		errs = append(errs, errors.New("icon_emoji, icon_url: set one, not both"))
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Slack", "member ids in mention.users", chat.MatchingIDs(slackID, "a Slack member id (U…, W…) or user group id (S…)"))...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckURL refuses Workflow Builder webhooks (hooks.slack.com/triggers/…,
// /workflows/…): they take workflow variables, not messages, and would
// accept the blocks while posting nothing useful.
func CheckURL(u *url.URL) error {
	if strings.HasSuffix(u.Hostname(), "slack.com") && (strings.HasPrefix(u.Path, "/triggers/") || strings.HasPrefix(u.Path, "/workflows/")) {
		return errors.New("this is a Slack Workflow Builder webhook, which takes workflow variables; create an incoming webhook (https://hooks.slack.com/services/…) instead")
	}
	return nil
}

type platform struct {
	url *url.URL
	now func() time.Time
}

// New builds a Slack notifier: for the incoming webhook at s.URL, or,
// when s has a secret (a bot token), for the Web API, whose notifier can
// edit and reply.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	if s.Secret != "" {
		p, err := newAPI(s, opts)
		if err != nil {
			return nil, err
		}
		return chat.New(s, Preset, p, &opts.Common)
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	return chat.New(s, Preset, &platform{url: u, now: s.Clock()}, &opts.Common)
}

// textObject is a Block Kit text object (or a context element).
type textObject struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

type block struct {
	Type     string       `json:"type"`
	Text     *textObject  `json:"text"`
	Fields   []textObject `json:"fields"`
	Elements []textObject `json:"elements"`
}

type message struct {
	Text        string            `json:"text"`
	Blocks      []json.RawMessage `json:"blocks"`
	Attachments []json.RawMessage `json:"attachments"`
}

func runes(s string) int { return utf8.RuneCountInString(s) }

// Check enforces Slack's limits and the block schema the limits depend on.
func (p *platform) Check(body []byte) error {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Slack message: %v", err)
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Blocks) == 0 && len(m.Attachments) == 0 {
		return errors.New(`body has no "text", "blocks" or "attachments" (Slack answers no_text)`)
	}
	if n := runes(m.Text); n > MaxText {
		return &chat.LimitError{What: "text", Size: n, Limit: MaxText, Unit: "characters"}
	}
	if n := len(m.Blocks); n > MaxBlocks {
		return &chat.LimitError{What: "blocks", Size: n, Limit: MaxBlocks, Unit: "items"}
	}
	if n := len(m.Attachments); n > MaxAttachments {
		return &chat.LimitError{What: "attachments", Size: n, Limit: MaxAttachments, Unit: "items"}
	}
	for i, raw := range m.Blocks {
		if err := checkBlock(fmt.Sprintf("blocks[%d]", i), raw); err != nil {
			return err
		}
	}
	return nil
}

// checkBlock checks the limits of the block types the presets use (and
// markdown blocks); other types are Slack's to judge.
func checkBlock(what string, raw json.RawMessage) error {
	var typed struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &typed); err != nil {
		return fmt.Errorf("%s is not a block: %v", what, err)
	}
	limit := func(part string, s string, max int) error {
		if n := runes(s); n > max {
			return &chat.LimitError{What: what + part, Size: n, Limit: max, Unit: "characters"}
		}
		return nil
	}
	var b block
	switch typed.Type {
	case "":
		return fmt.Errorf(`%s has no "type"`, what)
	case "header", "section", "context":
		if err := json.Unmarshal(raw, &b); err != nil {
			return fmt.Errorf("%s is not a valid %s block: %v", what, typed.Type, err)
		}
	case "markdown":
		var md struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &md); err != nil {
			return fmt.Errorf(`%s: a markdown block takes a string "text": %v`, what, err)
		}
		return limit(".text", md.Text, MaxMarkdownBlock)
	default:
		return nil
	}
	switch b.Type {
	case "header":
		if b.Text == nil || b.Text.Type != "plain_text" || b.Text.Text == "" {
			return fmt.Errorf("%s: a header needs a non-empty plain_text text", what)
		}
		return limit(".text", b.Text.Text, MaxHeaderText)
	case "section":
		if (b.Text == nil || b.Text.Text == "") && len(b.Fields) == 0 {
			return fmt.Errorf("%s: a section needs a non-empty text or fields", what)
		}
		if b.Text != nil {
			if err := checkTextObject(what+".text", *b.Text); err != nil {
				return err
			}
			if err := limit(".text", b.Text.Text, MaxSectionText); err != nil {
				return err
			}
		}
		if n := len(b.Fields); n > MaxFields {
			return &chat.LimitError{What: what + ".fields", Size: n, Limit: MaxFields, Unit: "items"}
		}
		for j, f := range b.Fields {
			if err := checkTextObject(fmt.Sprintf("%s.fields[%d]", what, j), f); err != nil {
				return err
			}
			if err := limit(fmt.Sprintf(".fields[%d]", j), f.Text, MaxFieldText); err != nil {
				return err
			}
		}
	case "context":
		switch n := len(b.Elements); {
		case n == 0:
			return fmt.Errorf("%s: a context needs elements", what)
		case n > MaxContextItems:
			return &chat.LimitError{What: what + ".elements", Size: n, Limit: MaxContextItems, Unit: "items"}
		}
		for j, e := range b.Elements {
			if e.Type == "mrkdwn" || e.Type == "plain_text" {
				if err := limit(fmt.Sprintf(".elements[%d]", j), e.Text, MaxContextText); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkTextObject(what string, t textObject) error {
	if t.Type != "mrkdwn" && t.Type != "plain_text" {
		return fmt.Errorf("%s: text type %q is not mrkdwn or plain_text", what, t.Type)
	}
	if t.Text == "" {
		return fmt.Errorf("%s: empty text", what)
	}
	return nil
}

// Request posts the body to the webhook URL.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json; charset=utf-8"}},
	}, nil
}

// Classify reads Slack's plain-text answer: "ok", or an error string with
// a status code.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	answer := strings.TrimSpace(string(resp.Body))
	msg := notify.Snippet(resp.Body)
	switch {
	case code == http.StatusOK && answer == "ok":
		return notify.OK()
	case code >= 200 && code < 300:
		return notify.Failed(notify.ReasonIMRejected, "Slack answered HTTP %d without \"ok\" (is the url an incoming webhook?): %s", code, msg)
	case code == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, notify.RetryAfter(resp.Header, p.now()), "Slack HTTP 429 (rate limited): %s", msg)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Slack HTTP %d: %s", code, msg)
	case code == http.StatusBadRequest:
		if answer == "too_many_attachments" || answer == "msg_too_long" {
			return notify.Failed(notify.ReasonTooLarge, "Slack HTTP 400: %s", msg)
		}
		return notify.Failed(notify.ReasonClientError, "Slack HTTP 400 (the message was refused): %s", msg)
	case code == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Slack HTTP 403 (the webhook may not post here): %s", msg)
	case code == http.StatusNotFound && answer == "channel_not_found":
		return notify.Failed(notify.ReasonIMRejected, "Slack HTTP 404: %s (the webhook's channel was deleted)", msg)
	case code == http.StatusNotFound:
		return notify.Failed(notify.ReasonAuthError, "Slack HTTP 404: %s (the webhook was removed or the url is wrong)", msg)
	case code == http.StatusGone:
		return notify.Failed(notify.ReasonIMRejected, "Slack HTTP 410: %s (the webhook's channel is archived)", msg)
	}
	return notify.ClassifyHTTP(resp, p.now())
}
