// Package mattermost delivers groups to Mattermost, through an incoming
// webhook (POST https://{server}/hooks/{key}, the key being the only
// credential; the default) or, when the target has a secret, through the
// REST API as a bot or user (POST https://{server}/api/v4/posts with
// "Authorization: Bearer {secret}"), which names the posts it creates, so
// that later notifications of a group can edit them (PUT
// /api/v4/posts/{id}/patch) or answer them in their thread (root_id). Its
// contract (URL, keys, limits, answers, mentions, a sample) is documented
// in docs/targets.md#mattermost.
package mattermost

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
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// MaxPostRunes is the most characters one Mattermost post holds.
const MaxPostRunes = 16383

// Message types.
const (
	Markdown    = "markdown"
	Attachments = "attachments"
)

// Options are the mattermost target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// MsgType is markdown (default: everything in the text) or attachments
	// (one coloured attachment per alert).
	MsgType string `yaml:"msg_type"`
	// Channel (a channel name, or @username for a direct message),
	// Username and IconURL override the webhook's defaults when set; the
	// server must allow overrides.
	Channel  string `yaml:"channel"`
	Username string `yaml:"username"`
	IconURL  string `yaml:"icon_url"`
	// ChannelID is the channel the API mode posts to: its id, 26
	// lower-case letters and digits. Required with a secret, refused
	// without one.
	ChannelID string `yaml:"channel_id"`
}

// id is a Mattermost id: channels', posts' and users' alike.
var id = regexp.MustCompile(`^[a-z0-9]{26}$`)

// username is what Mattermost allows in a username.
var username = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// Validate checks the options and fills defaults. Mentions must be
// usernames, without the "@"; Mattermost has no phone-number mentions.
func (o *Options) Validate() error {
	var errs []error
	switch o.MsgType {
	case "":
		o.MsgType = Markdown
	case Markdown, Attachments:
	default:
		errs = append(errs, fmt.Errorf("msg_type: %q is not one of markdown, attachments", o.MsgType))
	}
	if o.Channel != "" && strings.TrimSpace(o.Channel) != o.Channel {
		errs = append(errs, errors.New("channel: must not start or end with spaces"))
	}
	if o.IconURL != "" {
		if !chat.IsHTTPURL(o.IconURL) {
			errs = append(errs, errors.New("icon_url: must be an http(s) URL"))
		}
	}
	if o.ChannelID != "" && !id.MatchString(o.ChannelID) {
		errs = append(errs, fmt.Errorf("channel_id: %q is not a Mattermost channel id (26 lower-case letters and digits, shown in the channel's View Info)", o.ChannelID))
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Mattermost", "usernames in mention.users", chat.MatchingIDs(username, "a Mattermost username (write it without the @)"))...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckURL requires an incoming webhook URL: a path ending in
// /hooks/{key}. A server's address alone, or an API URL, would be
// answered with an error page on every alert.
func CheckURL(u *url.URL) error {
	_, key, found := strings.Cut(strings.TrimSuffix(u.Path, "/"), "/hooks/")
	if !found || key == "" || strings.Contains(key, "/") {
		return errors.New("not a Mattermost incoming webhook URL: the path must end in /hooks/ and the webhook's key")
	}
	return nil
}

// CheckServerURL requires the server's address for the API mode: no
// incoming webhook or API path (the bridge adds /api/v4/...), no query.
func CheckServerURL(u *url.URL) error { return chat.CheckServerURL(u, "/api/v4") }

// CheckTarget vets the keys each mode takes (registry.Integration's
// CheckTarget): a secret selects the API mode, which needs the server's
// address and channel_id and posts as the token's account (no channel,
// username or icon_url overrides); without one, the url is an incoming
// webhook's, which cannot edit or answer what it posted.
func CheckTarget(t registry.Target) error {
	o, ok := t.Options.(*Options)
	if !ok {
		return nil
	}
	var errs []error
	if err := chat.CheckModeURL(t, CheckURL, CheckServerURL); err != nil {
		errs = append(errs, err)
	}
	if !t.Secret {
		if o.ChannelID != "" {
			errs = append(errs, errors.New("channel_id: only the API mode posts to a channel id: set secret to a bot or personal access token and url to the server's address (or name the channel with channel, for the webhook)"))
		}
		if t.Update == notify.UpdateEdit || t.Update == notify.UpdateReply {
			errs = append(errs, fmt.Errorf("update: %s needs the API mode (secret: a bot or personal access token, url: the server's address, channel_id): an incoming webhook answers \"ok\" without the post's id", t.Update))
		}
		return errors.Join(errs...)
	}
	if o.ChannelID == "" {
		errs = append(errs, errors.New("channel_id: required with a secret (the API mode): the id of the channel to post to, shown in the channel's View Info"))
	}
	for key, set := range map[string]bool{"channel": o.Channel != "", "username": o.Username != "", "icon_url": o.IconURL != ""} {
		if set {
			errs = append(errs, fmt.Errorf("%s: an incoming webhook's override; the API mode posts to channel_id as the token's account (set its name and picture in Mattermost)", key))
		}
	}
	return chat.JoinSorted(errs)
}

// platform posts to an incoming webhook.
type platform struct {
	url *url.URL
	now func() time.Time
}

// New builds a Mattermost notifier: for the API mode when s has a secret
// (the token), else for the incoming webhook at s.URL.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	preset := "mattermost." + opts.MsgType + ".body"
	if s.Secret == "" {
		return chat.New(s, preset, &platform{url: u, now: s.Clock()}, &opts.Common)
	}
	if opts.ChannelID == "" {
		return nil, errors.New("channel_id: required with a secret (the API mode)")
	}
	p := &apiPlatform{platform: platform{url: u, now: s.Clock()}, server: strings.TrimRight(u.String(), "/"), token: s.Secret, channelID: opts.ChannelID}
	return chat.New(s, preset, p, &opts.Common)
}

// Attachment is the part of a Slack-compatible attachment whose text a
// reader sees.
type Attachment struct {
	Fallback   string `json:"fallback"`
	Pretext    string `json:"pretext"`
	AuthorName string `json:"author_name"`
	Title      string `json:"title"`
	Text       string `json:"text"`
	Footer     string `json:"footer"`
	Fields     []struct {
		Title string          `json:"title"`
		Value json.RawMessage `json:"value"`
	} `json:"fields"`
}

// Runes counts the characters of the attachment's texts.
func (a *Attachment) Runes() int {
	n := 0
	for _, s := range []string{a.Fallback, a.Pretext, a.AuthorName, a.Title, a.Text, a.Footer} {
		n += utf8.RuneCountInString(s)
	}
	for _, f := range a.Fields {
		n += utf8.RuneCountInString(f.Title)
		var v string
		if json.Unmarshal(f.Value, &v) == nil {
			n += utf8.RuneCountInString(v)
		} else {
			n += len(f.Value) // a number
		}
	}
	return n
}

// Check requires a text or attachments and keeps them within one post.
func (p *platform) Check(body []byte) error {
	var m struct {
		Text        string       `json:"text"`
		Attachments []Attachment `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Mattermost message: %v", err)
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0 {
		return errors.New(`body has no "text" or "attachments" (Mattermost answers web.incoming_webhook.text.app_error)`)
	}
	n := utf8.RuneCountInString(m.Text)
	for i := range m.Attachments {
		n += m.Attachments[i].Runes()
	}
	if n > MaxPostRunes {
		return &chat.LimitError{What: "text and attachments", Size: n, Limit: MaxPostRunes, Unit: "characters"}
	}
	return nil
}

// Request posts the body to the webhook URL.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// Classify reads Mattermost's answer: "ok", or an AppError.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	if code == http.StatusOK && strings.TrimSpace(string(resp.Body)) == "ok" {
		return notify.OK()
	}
	var appErr struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	}
	detail := notify.Snippet(resp.Body)
	if json.Unmarshal(resp.Body, &appErr) == nil && appErr.ID != "" {
		detail = notify.Snippet([]byte(appErr.ID + ": " + appErr.Message))
	}
	switch {
	case code >= 200 && code < 300:
		return notify.Failed(notify.ReasonIMRejected, "Mattermost answered HTTP %d without \"ok\" (is the url an incoming webhook?): %s", code, detail)
	case code == http.StatusNotImplemented:
		return notify.Failed(notify.ReasonIMRejected, "Mattermost HTTP 501: incoming webhooks are disabled on the server (System Console > Integrations): %s", detail)
	case code == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, notify.RetryAfter(resp.Header, p.now()), "Mattermost HTTP 429 (rate limited): %s", detail)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Mattermost HTTP %d: %s", code, detail)
	case code == http.StatusBadRequest && appErr.ID == "web.incoming_webhook.invalid.app_error":
		return notify.Failed(notify.ReasonAuthError, "Mattermost HTTP 400: %s (the webhook was deleted or the url is wrong)", detail)
	case code == http.StatusBadRequest && appErr.ID == "web.incoming_webhook.disabled.app_error":
		return notify.Failed(notify.ReasonIMRejected, "Mattermost HTTP 400: %s (incoming webhooks are disabled)", detail)
	case code == http.StatusBadRequest:
		return notify.Failed(notify.ReasonClientError, "Mattermost HTTP 400 (the message was refused): %s", detail)
	}
	r := notify.ClassifyHTTP(resp, p.now())
	r.Message = fmt.Sprintf("Mattermost HTTP %d: %s", code, detail)
	return r
}
