// Package googlechat delivers groups to Google Chat spaces through incoming
// webhooks (POST https://chat.googleapis.com/v1/spaces/{space}/
// messages?key=…&token=…): by default a card (cardsV2: a header, one
// section per alert, HTML-formatted textParagraph widgets) under a short
// text line that carries the headline and the mentions; with format: text a
// plain text message in Google Chat's markup. With update: reply, a later
// notification of a group is posted in the thread of the group's first
// message (the thread's name, spaces/{space}/threads/{thread}, is what the
// bridge remembers); a webhook cannot edit a message, which needs the
// Chat API's app authentication. Its contract (URL, keys, limits,
// answers, mentions, a sample) is documented in
// docs/targets.md#google-chat.
package googlechat

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

const (
	// MaxBodyBytes is Google Chat's message size limit, applied to the
	// whole request body.
	MaxBodyBytes = 32000
	// MaxWidgets is how many widgets a card shows; sections past it are
	// ignored without an error.
	MaxWidgets = 100
	// MaxText is the longest text Google Chat has been seen to accept (400
	// INVALID_ARGUMENT "Message is longer than 4096 characters" beyond
	// it). The contract does not list it and the unit is not documented,
	// so it is counted in UTF-16 code units, never fewer than characters.
	MaxText = 4096
)

// RateLimitWait is how long to wait after a 429 that names no time. The
// per-space quota counts writes per minute; waiting a whole minute is
// sure to find it refilled under any windowing, where a shorter wait
// could spend another attempt of the retry budget on a second 429.
const RateLimitWait = time.Minute

// Formats.
const (
	Card = "card"
	Text = "text"
)

// ReplyOption is the messageReplyOption thread_by_group and replies send:
// reply in the thread the body names, or start a new thread when it no
// longer exists.
const ReplyOption = "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD"

// Options are the googlechat target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// Format is card (default: a cardsV2 card under a headline text) or
	// text (a plain text message).
	Format string `yaml:"format"`
	// ThreadByGroup posts every notification of an Alertmanager group in
	// one thread of the space.
	ThreadByGroup bool `yaml:"thread_by_group"`
}

// userID is what goes into <users/ID>: a Chat user id (the number of
// users/{id}) or an email address; "users/" may be written.
var userID = regexp.MustCompile(`^(users/)?[^\s<>|/]+$`)

// Validate checks the options and fills defaults. Google Chat mentions
// users by id, never by phone number.
func (o *Options) Validate() error {
	var errs []error
	switch o.Format {
	case "":
		o.Format = Card
	case Card, Text:
	default:
		errs = append(errs, fmt.Errorf("format: %q is not one of card, text", o.Format))
	}
	if m := o.Mention; m != nil {
		errs = append(errs, m.CheckUsers("Google Chat", "user ids in mention.users", chat.MatchingIDs(userID, "a Google Chat user id (users/123456789 or 123456789)"))...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ThreadKey is the thread key of a group: a hash of its group key, so it
// is stable across notifications, short, and free of label values.
func (o *Options) ThreadKey(groupKey string) string {
	sum := sha256.Sum256([]byte(groupKey))
	return "alertbridge-" + hex.EncodeToString(sum[:16])
}

// CheckTarget refuses update: reply together with thread_by_group: both
// put a group's notifications in one thread, and a body can name only one.
func CheckTarget(t registry.Target) error {
	if o, ok := t.Options.(*Options); ok && o.ThreadByGroup && t.Update == notify.UpdateReply {
		return errors.New(`update: "reply" and thread_by_group both thread a group's notifications; keep one (thread_by_group needs no stored message, reply follows the thread of the group's first message)`)
	}
	return nil
}

type platform struct {
	url    *url.URL
	key    string
	token  string
	space  string // the URL's space id, "" when its path names none
	thread bool
	now    func() time.Time
}

// New builds a Google Chat notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	q := u.Query()
	p := &platform{url: u, key: q.Get("key"), token: q.Get("token"), space: Space(u), thread: opts.ThreadByGroup, now: s.Clock()}
	return chat.New(s, "googlechat."+opts.Format+".body", p, &opts.Common)
}

// messagesPath is the path of a space's messages endpoint.
var messagesPath = regexp.MustCompile(`^/v1/spaces/[^/]+/messages$`)

// spacePath finds the space id in a webhook URL's path, a proxy's
// prefix allowed before it.
var spacePath = regexp.MustCompile(`/spaces/([^/]+)/messages$`)

// Space returns the id of the space a webhook URL posts to, or "" when
// its path names none (a proxy with a path of its own).
func Space(u *url.URL) string {
	if m := spacePath.FindStringSubmatch(u.Path); m != nil {
		return m[1]
	}
	return ""
}

// threadName is a thread's resource name; its space is the first group.
var threadName = regexp.MustCompile(`^spaces/([A-Za-z0-9_-]+)/threads/([A-Za-z0-9_.-]+)$`)

// googleHosts are Google's own hosts, where the webhook URL has a fixed
// shape. chat.google.com serves the Chat web app: its room URLs are pasted
// by mistake and never take a webhook post.
var googleHosts = map[string]bool{"chat.googleapis.com": true, "chat.google.com": true}

// CheckURL vets a webhook URL at load time. On Google's hosts it must be
// a space's messages endpoint with the key and token Google Chat shows
// when the webhook is created. Any other host is taken to be a proxy in
// front of Google Chat (with a path prefix of its own, and perhaps adding
// the key and token itself) and is accepted as it is, as Lark's check
// accepts proxies; that the URL is absolute http(s) with a host is checked
// for every target type. Errors never quote the URL.
func CheckURL(u *url.URL) error {
	if !googleHosts[strings.ToLower(u.Hostname())] {
		return nil
	}
	q := u.Query()
	switch {
	case !messagesPath.MatchString(u.Path):
		return errors.New("not a Google Chat webhook URL: the path must be /v1/spaces/{space}/messages (copy the URL from the space's Apps & integrations → Webhooks)")
	case q.Get("key") == "" || q.Get("token") == "":
		return errors.New("the Google Chat webhook URL must carry both its key= and token= parameters (copy the whole URL)")
	}
	return nil
}

// message is the part of a Chat Message the checks read.
type message struct {
	Text    *string `json:"text"`
	CardsV2 []struct {
		CardID string `json:"cardId"`
		Card   struct {
			Sections []struct {
				Widgets []json.RawMessage `json:"widgets"`
			} `json:"sections"`
		} `json:"card"`
	} `json:"cardsV2"`
}

// Check is the platform's Check.
func (p *platform) Check(body []byte) error { return Check(body) }

// Check enforces the size and widget limits, a non-empty text, and the
// card structure Google Chat requires (a cardId, a widget in every
// section).
func Check(body []byte) error {
	if len(body) > MaxBodyBytes {
		return &chat.LimitError{What: "body", Size: len(body), Limit: MaxBodyBytes, Unit: "bytes"}
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Google Chat message: %v", err)
	}
	if m.Text == nil || strings.TrimSpace(*m.Text) == "" {
		return errors.New(`body has no "text" or an empty one: Google Chat refuses an empty text, and the text is what notifications show`)
	}
	if n := len(utf16.Encode([]rune(*m.Text))); n > MaxText {
		return &chat.LimitError{What: "text", Size: n, Limit: MaxText, Unit: "characters"}
	}
	for i, c := range m.CardsV2 {
		if c.CardID == "" {
			return fmt.Errorf("cardsV2[%d] has no cardId", i)
		}
		widgets := 0
		for j, s := range c.Card.Sections {
			if len(s.Widgets) == 0 {
				return fmt.Errorf("cardsV2[%d].card.sections[%d] has no widgets (Google Chat requires at least one)", i, j)
			}
			widgets += len(s.Widgets)
		}
		if widgets > MaxWidgets {
			return &chat.LimitError{What: fmt.Sprintf("cardsV2[%d].card widgets", i), Size: widgets, Limit: MaxWidgets, Unit: "items"}
		}
	}
	return nil
}

// Request posts the body to the webhook URL, asking Google Chat to reply
// in the thread the body names when thread_by_group is on.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	u := *p.url
	if p.thread {
		q := u.Query()
		q.Set("messageReplyOption", ReplyOption)
		u.RawQuery = q.Encode()
	}
	return &notify.Request{
		Method: http.MethodPost, URL: u.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json; charset=UTF-8"}},
	}, nil
}

// Edit implements chat.Editor: an incoming webhook cannot change a
// message (spaces.messages.patch takes the Chat API's app or user
// authentication), so config refuses update: edit for googlechat and this
// is never called.
func (p *platform) Edit(*notify.Request, string) (*notify.Request, error) {
	return nil, errors.New("Google Chat webhooks cannot edit a message")
}

// Reply implements chat.Editor: the message is posted in the thread ref
// names (thread.name in the body, messageReplyOption
// REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD in the query, so a thread deleted
// since starts a new one). A ref that is not a thread of the webhook's
// space, or a body that names a thread already (a template's own), leaves
// the message new.
func (p *platform) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	m := threadName.FindStringSubmatch(ref)
	if m == nil {
		return nil, fmt.Errorf("%q is not a Google Chat thread name", ref)
	}
	if p.space != "" && m[1] != p.space {
		return nil, errors.New("the thread is in another space than the webhook's")
	}
	thread, _ := json.Marshal(map[string]string{"name": ref})
	body, ok := chat.WithMember(req.Body, "thread", thread)
	if !ok {
		return nil, errors.New(`the body names a thread of its own (or is not a JSON object)`)
	}
	u, err := url.Parse(req.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	q := u.Query()
	q.Set("messageReplyOption", ReplyOption)
	u.RawQuery = q.Encode()
	return &notify.Request{Method: req.Method, URL: u.String(), Body: body, Header: req.Header.Clone()}, nil
}

// threadOf returns the thread of the Message a webhook post answers, when
// it is one of the webhook's space (else "").
func (p *platform) threadOf(body []byte) string {
	var m struct {
		Thread struct {
			Name string `json:"name"`
		} `json:"thread"`
	}
	if json.Unmarshal(body, &m) != nil {
		return ""
	}
	t := threadName.FindStringSubmatch(m.Thread.Name)
	if t == nil || (p.space != "" && t[1] != p.space) {
		return ""
	}
	return m.Thread.Name
}

// apiError is Google's error envelope.
type apiError struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Status  string `json:"status"`
	} `json:"error"`
}

// Classify reads the status and Google's error envelope.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		r := notify.OK()
		r.Ref = p.threadOf(resp.Body)
		return r
	}
	var ans apiError
	_ = json.Unmarshal(resp.Body, &ans) // an unparsable body leaves the zero answer
	detail := p.redact(notify.Snippet(resp.Body))
	if ans.Error.Status != "" {
		detail = p.redact(notify.Snippet([]byte(ans.Error.Status + ": " + ans.Error.Message)))
	}
	switch {
	case status == http.StatusTooManyRequests || ans.Error.Status == "RESOURCE_EXHAUSTED":
		wait := notify.RetryAfter(resp.Header, p.now())
		if wait == 0 {
			wait = RateLimitWait
		}
		return notify.Retryable(notify.ReasonRateLimited, wait, "Google Chat HTTP %d (the space's 60 messages per minute are used up), retry after %s: %s", status, wait, detail)
	case status >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Google Chat HTTP %d: %s", status, detail)
	case status == http.StatusBadRequest && apiKeyInvalid(resp.Body):
		return notify.Failed(notify.ReasonAuthError, "Google Chat HTTP 400 (the URL's key is not valid; copy the webhook URL again): %s", detail)
	case status == http.StatusBadRequest && tooLong(ans.Error.Message):
		return notify.Failed(notify.ReasonTooLarge, "Google Chat HTTP 400 (a size limit): %s", detail)
	case status == http.StatusBadRequest:
		return notify.Failed(notify.ReasonIMRejected, "Google Chat HTTP 400 (the message was refused): %s", detail)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Google Chat HTTP %d (the webhook's key or token is wrong, or webhooks are not allowed in the space): %s", status, detail)
	case status == http.StatusNotFound:
		return notify.Failed(notify.ReasonAuthError, "Google Chat HTTP 404 (the webhook or the space no longer exists): %s", detail)
	case status == http.StatusRequestEntityTooLarge:
		return notify.Failed(notify.ReasonTooLarge, "Google Chat HTTP 413: %s", detail)
	}
	return notify.Failed(notify.ReasonClientError, "Google Chat HTTP %d: %s", status, detail)
}

// apiKeyInvalid reports whether a 400 blames the API key, as Google APIs
// do for a wrong key= (reason API_KEY_INVALID).
func apiKeyInvalid(body []byte) bool {
	s := string(body)
	return strings.Contains(s, "API_KEY_INVALID") || strings.Contains(s, "API key not valid")
}

// tooLong reports whether a 400 blames a size limit ("Message is longer
// than 4096 characters", "Maximum length of the field is 4096").
func tooLong(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "longer than") || strings.Contains(m, "maximum length") || strings.Contains(m, "maximum size")
}

// redact keeps the key and token out of messages, should an answer echo
// them.
func (p *platform) redact(s string) string {
	for _, secret := range []string{p.key, p.token} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "<redacted>")
			s = strings.ReplaceAll(s, url.QueryEscape(secret), "<redacted>")
		}
	}
	return s
}
