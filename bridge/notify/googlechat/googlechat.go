// Package googlechat delivers groups to Google Chat spaces through incoming
// webhooks (POST https://chat.googleapis.com/v1/spaces/{space}/
// messages?key=…&token=…): by default a card (cardsV2: a header, one
// section per alert, HTML-formatted textParagraph widgets) under a short
// text line that carries the headline and the mentions; with format: text a
// plain text message in Google Chat's markup. Its contract (URL, keys,
// limits, answers, mentions, a sample) is documented in
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

// ReplyOption is the messageReplyOption thread_by_group sends.
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

type platform struct {
	url    *url.URL
	key    string
	token  string
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
	p := &platform{url: u, key: q.Get("key"), token: q.Get("token"), thread: opts.ThreadByGroup, now: s.Clock()}
	return chat.New(s, "googlechat."+opts.Format+".body", p, &opts.Common)
}

// messagesPath is the path of a space's messages endpoint.
var messagesPath = regexp.MustCompile(`^/v1/spaces/[^/]+/messages$`)

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
		return notify.OK()
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
