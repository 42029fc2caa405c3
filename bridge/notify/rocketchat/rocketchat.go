// Package rocketchat delivers groups to Rocket.Chat, through an incoming
// webhook (POST https://{server}/hooks/{integrationId}/{token}, the id and
// token in the path being the only credential; the default) or, when the
// target has a secret, through the REST API as a user or bot (POST
// https://{server}/api/v1/chat.postMessage with X-User-Id and
// X-Auth-Token), which names the messages it posts, so that later
// notifications of a group can answer them in their thread (tmid). Its
// contract (URL, keys, limits, answers, mentions, a sample) is documented
// in docs/targets.md#rocketchat.
package rocketchat

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// MaxMessageSize is Rocket.Chat's default Message_MaxAllowedSize, in
// UTF-16 code units.
const MaxMessageSize = 5000

// maxWait bounds a rate-limit wait read from an answer (a day, as
// notify.RetryAfter).
const maxWait = 24 * time.Hour

// Options are the rocketchat target's own keys, each sent only when set.
type Options struct {
	chat.Common `yaml:",inline"`
	// Alias is the name shown as the sender.
	Alias string `yaml:"alias"`
	// Emoji (":rotating_light:") or Avatar (an image URL) replaces the
	// sender's avatar.
	Emoji  string `yaml:"emoji"`
	Avatar string `yaml:"avatar"`
	// Channel (#channel or @user) overrides the integration's channel,
	// where the integration allows it.
	Channel string `yaml:"channel"`
	// UserID is the id of the account whose personal access token is the
	// target's secret, and RoomID the room it posts to: the API mode's
	// keys, both required with a secret and refused without one.
	UserID string `yaml:"user_id"`
	RoomID string `yaml:"room_id"`
}

var (
	username = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)
	emoji    = regexp.MustCompile(`^:[A-Za-z0-9_+-]+:$`)
	// id is a Rocket.Chat id: a user's, a room's (GENERAL, a direct
	// room's two user ids) or a message's.
	id = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Validate checks the options. Mentions must be usernames, without the
// "@"; Rocket.Chat has no phone-number mentions.
func (o *Options) Validate() error {
	var errs []error
	if o.Emoji != "" && !emoji.MatchString(o.Emoji) {
		errs = append(errs, fmt.Errorf("emoji: %q is not an emoji name such as :rotating_light:", o.Emoji))
	}
	if o.Avatar != "" {
		if !chat.IsHTTPURL(o.Avatar) {
			errs = append(errs, errors.New("avatar: must be an http(s) URL"))
		}
	}
	if o.Emoji != "" && o.Avatar != "" {
		errs = append(errs, errors.New("emoji, avatar: set one, not both"))
	}
	if o.Channel != "" && !strings.HasPrefix(o.Channel, "#") && !strings.HasPrefix(o.Channel, "@") {
		errs = append(errs, fmt.Errorf("channel: %q must start with # (a channel) or @ (a user)", o.Channel))
	}
	if o.UserID != "" && !id.MatchString(o.UserID) {
		errs = append(errs, fmt.Errorf("user_id: %q is not a Rocket.Chat user id (letters and digits, as the personal access token's page shows it)", o.UserID))
	}
	if o.RoomID != "" && !id.MatchString(o.RoomID) {
		errs = append(errs, fmt.Errorf("room_id: %q is not a Rocket.Chat room id (letters and digits; not a #name)", o.RoomID))
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Rocket.Chat", "usernames in mention.users", chat.MatchingIDs(username, "a Rocket.Chat username (write it without the @)"))...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// CheckURL requires an incoming webhook URL: a path ending in
// /hooks/{integrationId}/{token} (or /hooks/{id}/{userId}/{token}). The
// REST API's chat.postMessage, which Alertmanager's own notifier uses,
// needs auth headers and is not this type.
func CheckURL(u *url.URL) error {
	_, rest, found := strings.Cut(strings.TrimSuffix(u.Path, "/"), "/hooks/")
	parts := strings.Split(rest, "/")
	if !found || len(parts) < 2 || len(parts) > 3 || slices.Contains(parts, "") {
		return errors.New("not a Rocket.Chat incoming webhook URL: the path must end in /hooks/ followed by the integration's id and token")
	}
	return nil
}

// CheckServerURL requires the server's address for the API mode: no
// incoming webhook or API path (the bridge adds /api/v1/...), no query.
func CheckServerURL(u *url.URL) error { return chat.CheckServerURL(u, "/api/v1") }

// CheckTarget vets the keys each mode takes (registry.Integration's
// CheckTarget): a secret (a personal access token) selects the API mode,
// which needs the server's address, user_id and room_id and posts to
// room_id (no channel override); without one, the url is an incoming
// webhook's, which cannot answer what it posted. Neither mode edits: the
// API's chat.update changes a message's text only, never its
// attachments, where the presets show each alert, so an edited message
// would keep showing the alerts as they were.
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
		for key, set := range map[string]bool{"room_id": o.RoomID != "", "user_id": o.UserID != ""} {
			if set {
				errs = append(errs, fmt.Errorf("%s: a key of the API mode: set secret to the account's personal access token and url to the server's address too", key))
			}
		}
		if t.Update == notify.UpdateReply {
			errs = append(errs, errors.New("update: reply needs the API mode (secret: a personal access token, user_id, room_id, url: the server's address): an incoming webhook answers without the message's id"))
		}
	} else {
		if o.UserID == "" {
			errs = append(errs, errors.New("user_id: required with a secret (the API mode): the id of the account whose personal access token the secret is"))
		}
		if o.RoomID == "" {
			errs = append(errs, errors.New("room_id: required with a secret (the API mode): the id of the room to post to"))
		}
		if o.Channel != "" {
			errs = append(errs, errors.New("channel: an incoming webhook's override; the API mode posts to room_id"))
		}
	}
	return chat.JoinSorted(errs)
}

// platform posts to an incoming webhook.
type platform struct {
	url *url.URL
	now func() time.Time
}

// New builds a Rocket.Chat notifier: for the API mode when s has a secret
// (the personal access token), else for the incoming webhook at s.URL.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	if s.Secret == "" {
		return chat.New(s, "rocketchat.default.body", &platform{url: u, now: s.Clock()}, &opts.Common)
	}
	if opts.UserID == "" || opts.RoomID == "" {
		return nil, errors.New("user_id, room_id: required with a secret (the API mode)")
	}
	p := &apiPlatform{platform: platform{url: u, now: s.Clock()}, server: strings.TrimRight(u.String(), "/"),
		userID: opts.UserID, token: s.Secret, roomID: opts.RoomID}
	return chat.New(s, "rocketchat.default.body", p, &opts.Common)
}

// Size counts s as JavaScript's String.length does: UTF-16 code units.
func Size(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// Check requires a text or attachments and keeps the message within
// Message_MaxAllowedSize.
func (p *platform) Check(body []byte) error {
	var m struct {
		Text        string `json:"text"`
		Attachments []struct {
			Pretext string `json:"pretext"`
			Title   string `json:"title"`
			Text    string `json:"text"`
			Fields  []struct {
				Title string `json:"title"`
				Value string `json:"value"`
			} `json:"fields"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Rocket.Chat message: %v", err)
	}
	if strings.TrimSpace(m.Text) == "" && len(m.Attachments) == 0 {
		return errors.New(`body has no "text" or "attachments"`)
	}
	n := Size(m.Text)
	if n > MaxMessageSize {
		return &chat.LimitError{What: "text", Size: n, Limit: MaxMessageSize, Unit: "characters"}
	}
	for _, a := range m.Attachments {
		n += Size(a.Pretext) + Size(a.Title) + Size(a.Text)
		for _, f := range a.Fields {
			n += Size(f.Title) + Size(f.Value)
		}
	}
	if n > MaxMessageSize {
		return &chat.LimitError{What: "text and attachments", Size: n, Limit: MaxMessageSize, Unit: "characters"}
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

// mustWait is how Rocket.Chat's rate limiter words the wait.
var mustWait = regexp.MustCompile(`must wait (\d+) seconds`)

// invalidToken is Rocket.Chat's answer to an unknown id or token.
const invalidToken = "Invalid integration id or token"

// Classify reads Rocket.Chat's {"success":…} answer.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	var ans struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
	}
	parsed := json.Unmarshal(resp.Body, &ans) == nil && ans.Success != nil
	detail := notify.Snippet(resp.Body)
	if parsed && ans.Error != "" {
		detail = notify.Snippet([]byte(ans.Error))
	}
	switch {
	case code == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, p.rateLimitWait(resp.Header, ans.Error), "Rocket.Chat HTTP 429: %s", detail)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Rocket.Chat HTTP %d: %s", code, detail)
	case code >= 200 && code < 300 && parsed && *ans.Success:
		return notify.OK()
	case code >= 200 && code < 300 && parsed:
		return notify.Failed(notify.ReasonIMRejected, "Rocket.Chat refused the message (is the integration enabled, its script sound?): %s", detail)
	case code >= 200 && code < 300:
		return notify.Failed(notify.ReasonIMRejected, "Rocket.Chat answered HTTP %d without {\"success\":true} (is the url the integration's /hooks/ url?): %s", code, detail)
	case code == http.StatusNotFound || (code == http.StatusBadRequest && strings.Contains(ans.Error, invalidToken)):
		return notify.Failed(notify.ReasonAuthError, "Rocket.Chat HTTP %d: %s (the integration was deleted or the url is wrong)", code, detail)
	case code == http.StatusBadRequest:
		return notify.Failed(notify.ReasonClientError, "Rocket.Chat HTTP 400 (the message was refused): %s", detail)
	}
	r := notify.ClassifyHTTP(resp, p.now())
	r.Message = fmt.Sprintf("Rocket.Chat HTTP %d: %s", code, detail)
	return r
}

// rateLimitWait reads the wait of a 429: X-RateLimit-Reset (the end of
// the window, epoch milliseconds) when it lies ahead, else the seconds
// the error names, else Retry-After.
func (p *platform) rateLimitWait(h http.Header, errText string) time.Duration {
	now := p.now()
	if ms, err := strconv.ParseInt(strings.TrimSpace(h.Get("X-RateLimit-Reset")), 10, 64); err == nil {
		if d := time.UnixMilli(ms).Sub(now); d > 0 && d <= maxWait {
			return d
		}
	}
	if m := mustWait.FindStringSubmatch(errText); m != nil {
		if secs, err := strconv.Atoi(m[1]); err == nil && secs > 0 && time.Duration(secs)*time.Second <= maxWait {
			return time.Duration(secs) * time.Second
		}
	}
	return notify.RetryAfter(h, now)
}
