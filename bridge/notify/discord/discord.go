// Package discord delivers groups to Discord channel webhooks (POST
// https://discord.com/api/webhooks/{id}/{token}): one embed per alert, at
// most ten per message, coloured by status and severity, and a content line
// with the notification's title, the "+N more" line and the mentions. Its
// contract (URL, keys, limits, answers, mentions, a sample) is documented
// in docs/targets.md#discord.
package discord

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// Discord's message limits, in characters (runes), and counts.
const (
	MaxContent           = 2000
	MaxEmbeds            = 10
	MaxTitle             = 256
	MaxDescription       = 4096
	MaxFields            = 25
	MaxFieldName         = 256
	MaxFieldValue        = 1024
	MaxFooter            = 2048
	MaxAuthorName        = 256
	MaxEmbedTotal        = 6000
	MaxMentionedUsers    = 100
	maxUsernameLength    = 80
	maxRetryAfterSeconds = 86400 // a day, as notify.RetryAfter
)

// Preset is the preset body template.
const Preset = "discord.default.body"

// Options are the discord target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// Username overrides the webhook's name for these messages (1 to 80
	// characters; Discord refuses names containing "clyde" or "discord").
	Username string `yaml:"username"`
	// AvatarURL overrides the webhook's avatar (an http(s) image URL).
	AvatarURL string `yaml:"avatar_url"`
}

// snowflake is a Discord id: a decimal 64-bit number.
var snowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// Validate checks the options. Mentions must be Discord user ids
// (snowflakes): Discord has no phone-number mentions, and a non-numeric
// id in allowed_mentions makes Discord refuse the whole message.
func (o *Options) Validate() error {
	var errs []error
	if o.Username != "" {
		lower := strings.ToLower(o.Username)
		switch {
		case utf8.RuneCountInString(strings.TrimSpace(o.Username)) == 0 || utf8.RuneCountInString(o.Username) > maxUsernameLength:
			errs = append(errs, fmt.Errorf("username: must be 1 to %d characters", maxUsernameLength))
		case strings.Contains(lower, "clyde") || strings.Contains(lower, "discord"):
			errs = append(errs, errors.New(`username: Discord refuses webhook names containing "clyde" or "discord"`))
		}
	}
	if o.AvatarURL != "" {
		if !chat.IsHTTPURL(o.AvatarURL) {
			errs = append(errs, errors.New("avatar_url: must be an http(s) URL"))
		}
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Discord", "user ids in mention.users", chat.MatchingIDs(snowflake, "a Discord user id (a number such as 80351110224678912)"))...)
		if len(m.Users) > MaxMentionedUsers {
			errs = append(errs, fmt.Errorf("mention.users: %d users, Discord allows at most %d per message", len(m.Users), MaxMentionedUsers))
		}
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

type platform struct {
	url   *url.URL
	token string
	now   func() time.Time
}

// New builds a Discord notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	p := &platform{url: WithWait(u), token: Token(u), now: s.Clock()}
	return chat.New(s, Preset, p, &opts.Common)
}

// WithWait returns a copy of u asking Discord to wait for the message to be
// saved (wait=true), keeping the other query parameters.
func WithWait(u *url.URL) *url.URL {
	c := *u
	q := c.Query()
	q.Set("wait", "true")
	c.RawQuery = q.Encode()
	return &c
}

// Token returns the webhook token, the last segment of the webhook path,
// so that it can be kept out of messages.
func Token(u *url.URL) string {
	p := strings.TrimRight(u.Path, "/")
	if i := strings.LastIndexByte(p, '/'); i >= 0 && i < len(p)-1 {
		return p[i+1:]
	}
	return ""
}

// CheckURL vets a target URL at load time: the Slack- and
// GitHub-compatible endpoints of a webhook take other bodies than this
// integration sends.
func CheckURL(u *url.URL) error {
	p := strings.ToLower(strings.TrimRight(u.Path, "/"))
	if strings.HasSuffix(p, "/slack") || strings.HasSuffix(p, "/github") {
		return errors.New("use the webhook URL itself (…/api/webhooks/{id}/{token}), not its /slack or /github variant")
	}
	return nil
}

// message is the part of a webhook body the limits concern.
type message struct {
	Content         string           `json:"content"`
	Embeds          []embed          `json:"embeds"`
	AllowedMentions *allowedMentions `json:"allowed_mentions"`
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Fields      []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	} `json:"fields"`
	Footer *struct {
		Text string `json:"text"`
	} `json:"footer"`
	Author *struct {
		Name string `json:"name"`
	} `json:"author"`
}

// text is one counted text of an embed.
type text struct {
	what, text string
	max        int
}

// texts lists the embed's texts that count towards its limits and the
// 6000-character total.
func (e *embed) texts() []text {
	out := []text{{"title", e.Title, MaxTitle}, {"description", e.Description, MaxDescription}}
	for j, f := range e.Fields {
		out = append(out,
			text{fmt.Sprintf("fields[%d].name", j), f.Name, MaxFieldName},
			text{fmt.Sprintf("fields[%d].value", j), f.Value, MaxFieldValue})
	}
	if e.Footer != nil {
		out = append(out, text{"footer.text", e.Footer.Text, MaxFooter})
	}
	if e.Author != nil {
		out = append(out, text{"author.name", e.Author.Name, MaxAuthorName})
	}
	return out
}

type allowedMentions struct {
	Parse []string `json:"parse"`
	Users []string `json:"users"`
}

// Check enforces the schema the presets rely on (allowed_mentions present,
// something to show, no empty field) and Discord's limits.
func (p *platform) Check(body []byte) error {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Discord webhook message: %v", err)
	}
	if m.AllowedMentions == nil {
		return errors.New(`body has no "allowed_mentions": without it, text from labels could ping users`)
	}
	if strings.TrimSpace(m.Content) == "" && len(m.Embeds) == 0 {
		return errors.New("body has neither content nor embeds (Discord: cannot send an empty message)")
	}
	for i, e := range m.Embeds {
		for j, f := range e.Fields {
			if strings.TrimSpace(f.Name) == "" || strings.TrimSpace(f.Value) == "" {
				return fmt.Errorf("embeds[%d].fields[%d]: name and value must not be empty", i, j)
			}
		}
	}

	if n := utf8.RuneCountInString(m.Content); n > MaxContent {
		return limit("content", n, MaxContent, "characters")
	}
	if len(m.Embeds) > MaxEmbeds {
		return limit("embeds", len(m.Embeds), MaxEmbeds, "items")
	}
	if n := len(m.AllowedMentions.Users); n > MaxMentionedUsers {
		return limit("allowed_mentions.users", n, MaxMentionedUsers, "items")
	}
	total := 0
	for i, e := range m.Embeds {
		if len(e.Fields) > MaxFields {
			return limit(fmt.Sprintf("embeds[%d].fields", i), len(e.Fields), MaxFields, "items")
		}
		for _, t := range e.texts() {
			n := utf8.RuneCountInString(strings.TrimSpace(t.text))
			if n > t.max {
				return limit(fmt.Sprintf("embeds[%d].%s", i, t.what), n, t.max, "characters")
			}
			total += n
		}
	}
	if total > MaxEmbedTotal {
		return limit("embeds (all text)", total, MaxEmbedTotal, "characters")
	}
	return nil
}

func limit(what string, size, max int, unit string) error {
	return &chat.LimitError{What: what, Size: size, Limit: max, Unit: unit}
}

// Request posts the body as JSON to the webhook URL with wait=true.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// editKeys are the webhook message keys an edit takes; the others
// (username, avatar_url, tts, thread_name) only concern a new message.
var editKeys = []string{"content", "embeds", "allowed_mentions", "flags", "components", "attachments", "poll"}

// Edit implements chat.Editor: PATCH {webhook url}/messages/{id} with the
// new content and embeds; the webhook's thread_id (if any) is kept, wait
// is not (an edit always answers the message).
func (p *platform) Edit(req *notify.Request, ref string) (*notify.Request, error) {
	if !snowflake.MatchString(ref) {
		return nil, fmt.Errorf("message %q is not a Discord message id", ref)
	}
	fields, err := chat.Members(req.Body)
	if err != nil {
		return nil, err
	}
	body := chat.Object(editKeys, fields)
	u := *p.url
	u.Path = strings.TrimRight(u.Path, "/") + "/messages/" + ref
	u.RawPath = ""
	q := u.Query()
	q.Del("wait")
	u.RawQuery = q.Encode()
	return &notify.Request{
		Method: http.MethodPatch, URL: u.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// Reply implements chat.Editor: a webhook cannot reply to a message, so
// config refuses update: reply for discord and this is never called.
func (p *platform) Reply(*notify.Request, string) (*notify.Request, error) {
	return nil, errors.New("Discord webhooks cannot reply to a message")
}

// apiError is Discord's error body; 429 answers add retry_after and global.
type apiError struct {
	Code       int      `json:"code"`
	Message    string   `json:"message"`
	RetryAfter *float64 `json:"retry_after"`
	Global     bool     `json:"global"`
}

// Classify reads the status and Discord's JSON error code.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		r := notify.OK()
		var m struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(resp.Body, &m) == nil && snowflake.MatchString(m.ID) {
			r.Ref = m.ID
		}
		return r
	}
	var ans apiError
	_ = json.Unmarshal(resp.Body, &ans) // an unparsable body leaves the zero answer
	detail := p.redact(notify.Snippet(resp.Body))
	switch {
	case status == http.StatusTooManyRequests:
		wait := RetryAfter(ans.RetryAfter)
		if wait == 0 {
			wait = notify.RetryAfter(resp.Header, p.now())
		}
		scope := "webhook"
		if ans.Global {
			scope = "global"
		} else if ans.Code == 20028 {
			scope = "channel write"
		}
		return notify.Retryable(notify.ReasonRateLimited, wait, "Discord %s rate limit, retry after %s: %s", scope, wait, detail)
	case status >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Discord HTTP %d: %s", status, detail)
	case ans.Code == 10008:
		// The message an edit names was deleted.
		r := notify.Failed(notify.ReasonClientError, "Discord HTTP %d (unknown message): %s", status, detail)
		r.Gone = true
		return r
	case ans.Code == 50027 || status == http.StatusUnauthorized || status == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Discord HTTP %d (invalid webhook token; was the webhook's URL regenerated?): %s", status, detail)
	case ans.Code == 10015 || status == http.StatusNotFound:
		return notify.Failed(notify.ReasonAuthError, "Discord HTTP %d (unknown webhook; was it deleted?): %s", status, detail)
	case ans.Code == 40005 || status == http.StatusRequestEntityTooLarge:
		return notify.Failed(notify.ReasonTooLarge, "Discord HTTP %d (request entity too large): %s", status, detail)
	case ans.Code == 50035 && tooLong(resp.Body):
		return notify.Failed(notify.ReasonTooLarge, "Discord HTTP %d (a length limit): %s", status, detail)
	case ans.Code == 50035 || ans.Code == 50006:
		return notify.Failed(notify.ReasonIMRejected, "Discord HTTP %d code %d: %s", status, ans.Code, detail)
	}
	return notify.Failed(notify.ReasonClientError, "Discord HTTP %d: %s", status, detail)
}

// tooLong reports whether a 50035 answer blames a length limit.
func tooLong(body []byte) bool {
	s := string(body)
	return strings.Contains(s, "BASE_TYPE_MAX_LENGTH") || strings.Contains(s, "MAX_EMBED_SIZE_EXCEEDED") || strings.Contains(s, "or fewer in length")
}

// RetryAfter converts Discord's retry_after (float seconds, millisecond
// precision) to a wait: zero when absent or not positive, at most a day.
func RetryAfter(secs *float64) time.Duration {
	if secs == nil || math.IsNaN(*secs) || *secs <= 0 {
		return 0
	}
	// Discord gives milliseconds as a float: round, not truncate, them.
	return time.Duration(math.Round(min(*secs, maxRetryAfterSeconds)*1000)) * time.Millisecond
}

// redact keeps the webhook token out of messages, should an answer echo it.
func (p *platform) redact(s string) string {
	if p.token == "" {
		return s
	}
	return strings.ReplaceAll(s, p.token, "<token>")
}
