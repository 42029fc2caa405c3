// Package telegram delivers groups to a Telegram chat through the Bot API's
// sendMessage method: POST https://api.telegram.org/bot<token>/sendMessage
// (the target's url, token included) with a JSON body
// {"chat_id":…,"text":…,"parse_mode":"HTML","link_preview_options":{"is_disabled":true}}.
// Its contract (URL, keys, limits, answers, mentions, a sample) is
// documented in docs/targets.md#telegram.
package telegram

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram/tgmarkdown"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// MaxText is Telegram's message limit, after entity parsing.
const MaxText = 4096

// Preset is the preset body template.
const Preset = "telegram.default.body"

// Parse modes, as the Bot API names them (it matches them ignoring case).
const (
	ParseModeHTML       = "HTML"
	ParseModeMarkdownV2 = "MarkdownV2"
	ParseModeMarkdown   = "Markdown"
)

// Markup is where a sendMessage body keeps its text and how it declares
// the text's markup: a target's own template gets the values it prints
// into "text" escaped for its "parse_mode".
var Markup = &render.MarkupRule{
	TextKey: "text",
	ModeKey: "parse_mode",
	Modes: map[string]render.Markup{
		ParseModeHTML:       render.MarkupHTML,
		ParseModeMarkdownV2: render.MarkupTelegramMarkdownV2,
		ParseModeMarkdown:   render.MarkupTelegramMarkdown,
	},
}

// visible returns what Telegram shows of a text in a parse mode ("" is
// plain text), or why it would refuse to parse it.
func visible(mode, text string) (string, error) {
	switch {
	case mode == "":
		return text, nil
	case strings.EqualFold(mode, ParseModeHTML):
		return Visible(text)
	case strings.EqualFold(mode, ParseModeMarkdownV2):
		return tgmarkdown.V2(text)
	case strings.EqualFold(mode, ParseModeMarkdown):
		return tgmarkdown.Legacy(text)
	}
	return "", errUnknownMode
}

var errUnknownMode = errors.New(`Telegram knows "HTML", "MarkdownV2" and "Markdown" (or no parse_mode, plain text)`)

// Options are the telegram target's own keys.
type Options struct {
	chat.Common `yaml:",inline"`
	// ChatID is the chat to post to: its integer id or @channelusername.
	// Required.
	ChatID string `yaml:"chat_id"`
	// MessageThreadID posts into a forum topic of the chat.
	MessageThreadID int64 `yaml:"message_thread_id"`
	// DisableNotification delivers the messages silently.
	DisableNotification bool `yaml:"disable_notification"`
}

var (
	numericChatID = regexp.MustCompile(`^-?[0-9]{1,20}$`)
	channelName   = regexp.MustCompile(`^@[A-Za-z][A-Za-z0-9_]{3,31}$`)
)

// Validate checks the options.
func (o *Options) Validate() error {
	var errs []error
	o.ChatID = strings.TrimSpace(o.ChatID)
	switch {
	case o.ChatID == "":
		errs = append(errs, errors.New("chat_id: required: the chat's integer id (for example -1001234567890) or @channelusername"))
	case numericChatID.MatchString(o.ChatID):
		if _, err := strconv.ParseInt(o.ChatID, 10, 64); err != nil {
			errs = append(errs, fmt.Errorf("chat_id: %s is out of range", o.ChatID))
		}
	case !channelName.MatchString(o.ChatID):
		errs = append(errs, fmt.Errorf("chat_id: %q is neither an integer chat id nor @channelusername", o.ChatID))
	}
	if o.MessageThreadID < 0 {
		errs = append(errs, errors.New("message_thread_id: must not be negative"))
	}
	if m := o.Mention; m != nil {
		if m.All {
			errs = append(errs, errors.New("mention.all: Telegram bots cannot mention everyone"))
		}
		errs = append(errs, m.CheckUsers("Telegram", "user ids or usernames in mention.users", func(string) error { return nil })...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ChatIDJSON is chat_id as a JSON value: a number for an integer id, a
// string for @channelusername.
func (o *Options) ChatIDJSON() string {
	if numericChatID.MatchString(o.ChatID) {
		return o.ChatID
	}
	return strconv.Quote(o.ChatID)
}

type platform struct {
	url    string
	token  string
	chatID string
	now    func() time.Time
}

// New builds a Telegram notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	if err := CheckURL(u); err != nil {
		return nil, err
	}
	p := &platform{url: s.URL, token: Token(u), chatID: opts.ChatID, now: s.Clock()}
	return chat.New(s, Preset, p, &opts.Common)
}

var methodPath = regexp.MustCompile(`(?i)/bot([^/]+)/sendMessage$`)

// CheckURL vets a target URL at load time: it must be the sendMessage
// method URL, token included. Errors never quote the URL.
func CheckURL(u *url.URL) error {
	if !methodPath.MatchString(u.Path) {
		return errors.New("must be the Bot API sendMessage URL: https://api.telegram.org/bot<token>/sendMessage")
	}
	return nil
}

// Token returns the bot token from the URL path, so that it can be kept
// out of messages.
func Token(u *url.URL) string {
	if m := methodPath.FindStringSubmatch(u.Path); m != nil {
		return m[1]
	}
	return ""
}

// message is the part of a sendMessage body Check concerns.
type message struct {
	ChatID    json.RawMessage `json:"chat_id"`
	Text      *string         `json:"text"`
	ParseMode string          `json:"parse_mode"`
}

// Check enforces the schema (the configured chat_id, a known parse mode, a
// text that parses in that mode and is not empty) and the 4096 limit
// counted in UTF-16 code units after entity parsing.
func (p *platform) Check(body []byte) error {
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a sendMessage request: %v", err)
	}
	var id any
	if err := json.Unmarshal(m.ChatID, &id); err != nil {
		return errors.New(`body has no "chat_id"`)
	}
	if got := strings.Trim(string(m.ChatID), `"`); got != p.chatID {
		return fmt.Errorf("body's chat_id %s is not the configured chat_id %s", got, p.chatID)
	}
	if m.Text == nil {
		return errors.New(`body has no "text"`)
	}
	shown, err := visible(m.ParseMode, *m.Text)
	switch {
	case errors.Is(err, errUnknownMode):
		return fmt.Errorf("body's parse_mode %q: %w", m.ParseMode, err)
	case err != nil:
		return fmt.Errorf("text is not valid Telegram %s (Telegram: can't parse entities): %v", m.ParseMode, err)
	}
	if strings.TrimSpace(shown) == "" {
		return errors.New("text is empty once markup is removed (Telegram: message text is empty)")
	}
	if n := UTF16Len(shown); n > MaxText {
		return &chat.LimitError{What: "text (after entity parsing)", Size: n, Limit: MaxText, Unit: "UTF-16 code units"}
	}
	return nil
}

// UTF16Len counts s in UTF-16 code units, as Telegram measures entities.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += max(utf16.RuneLen(r), 1)
	}
	return n
}

// Request posts the body as JSON to the sendMessage URL.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url, Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// sendMethod is sendMessage at the end of the target's URL.
var sendMethod = regexp.MustCompile(`(?i)/sendMessage$`)

// Ref is how the bridge names a message it posted: the configured chat_id
// and the message_id Telegram answered, "<chat_id>/<message_id>".
func Ref(chatID string, messageID int64) string {
	return chatID + "/" + strconv.FormatInt(messageID, 10)
}

// messageID reads a ref of the configured chat.
func (p *platform) messageID(ref string) (int64, error) {
	chatID, id, ok := strings.Cut(ref, "/")
	if !ok || chatID != p.chatID {
		return 0, fmt.Errorf("message %q is not of chat %s", ref, p.chatID)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("message %q has no valid message_id", ref)
	}
	return n, nil
}

// editKeys are the sendMessage keys editMessageText takes too, in the
// order an edit is written; the others (message_thread_id,
// disable_notification, reply_parameters, ...) only concern a new message.
var editKeys = []string{"chat_id", "message_id", "text", "parse_mode", "entities", "link_preview_options", "reply_markup"}

// Edit implements chat.Editor: editMessageText with the message's chat_id
// and message_id and the new text, parse mode and link preview options.
func (p *platform) Edit(req *notify.Request, ref string) (*notify.Request, error) {
	id, err := p.messageID(ref)
	if err != nil {
		return nil, err
	}
	fields, err := chat.Members(req.Body)
	if err != nil {
		return nil, err
	}
	fields["message_id"] = strconv.AppendInt(nil, id, 10)
	return &notify.Request{
		Method: http.MethodPost, URL: sendMethod.ReplaceAllString(p.url, "/editMessageText"), Body: chat.Object(editKeys, fields),
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// Reply implements chat.Editor: the new message with reply_parameters
// naming the message, sent even if that message is gone
// (allow_sending_without_reply). A body that sets reply_parameters itself
// (a target's own template) is left as it is.
func (p *platform) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	id, err := p.messageID(ref)
	if err != nil {
		return nil, err
	}
	body, ok := chat.WithMember(req.Body, "reply_parameters", fmt.Appendf(nil, `{"message_id":%d,"allow_sending_without_reply":true}`, id))
	if !ok {
		return nil, errors.New("the body sets reply_parameters")
	}
	r := *req
	r.Body = body
	return &r, nil
}

// answer is the Bot API's response envelope.
type answer struct {
	OK          *bool           `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *struct {
		RetryAfter      *float64 `json:"retry_after"`
		MigrateToChatID *int64   `json:"migrate_to_chat_id"`
	} `json:"parameters"`
}

// maxRetryAfterSeconds bounds parameters.retry_after (a day, as
// notify.RetryAfter bounds Retry-After).
const maxRetryAfterSeconds = 86400

// Classify reads the ok flag and error_code of Telegram's answer.
//
// A 400 with migrate_to_chat_id (the group became a supergroup) is not
// followed automatically: the target's chat_id comes from the
// configuration, and a notifier that silently posted elsewhere would
// disagree with it (and forget the switch at the next reload or restart,
// failing again), so the operator is told which chat_id to configure.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	var ans answer
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.OK == nil {
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			return notify.Retryable(notify.ReasonIMRejected, 0, "Telegram answered HTTP %d without an ok field: %s", resp.StatusCode, p.redact(notify.Snippet(resp.Body)))
		}
		r := notify.ClassifyHTTP(resp, p.now())
		r.Message = p.redact(r.Message)
		return r
	}
	if *ans.OK && resp.StatusCode >= 200 && resp.StatusCode < 300 {
		r := notify.OK()
		var m struct {
			MessageID int64 `json:"message_id"`
		}
		if json.Unmarshal(ans.Result, &m) == nil && m.MessageID > 0 {
			r.Ref = Ref(p.chatID, m.MessageID)
		}
		return r
	}
	code := ans.ErrorCode
	if code == 0 {
		code = resp.StatusCode
	}
	desc := p.redact(notify.Snippet([]byte(ans.Description)))
	var retryAfter time.Duration
	if ans.Parameters != nil {
		retryAfter = seconds(ans.Parameters.RetryAfter)
	}
	switch {
	case code == http.StatusTooManyRequests:
		if retryAfter == 0 {
			retryAfter = notify.RetryAfter(resp.Header, p.now())
		}
		return notify.Retryable(notify.ReasonRateLimited, retryAfter, "Telegram 429, retry after %s: %s", retryAfter, desc)
	case ans.Parameters != nil && ans.Parameters.MigrateToChatID != nil:
		return notify.Failed(notify.ReasonClientError, "Telegram %d: %s: the group is now the supergroup %d; set chat_id: %d for this target (the bridge does not switch chats on its own)",
			code, desc, *ans.Parameters.MigrateToChatID, *ans.Parameters.MigrateToChatID)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, retryAfter, "Telegram %d: %s", code, desc)
	case code == http.StatusUnauthorized:
		return notify.Failed(notify.ReasonAuthError, "Telegram 401: %s (the bot token in url is wrong or was revoked)", desc)
	case code == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Telegram 403: %s (the bot cannot post to the chat)", desc)
	case code == http.StatusNotFound:
		return notify.Failed(notify.ReasonAuthError, "Telegram 404: %s (url must be https://api.telegram.org/bot<token>/sendMessage with a valid token)", desc)
	case code == http.StatusBadRequest:
		lower := strings.ToLower(ans.Description)
		switch {
		case strings.Contains(lower, "message is too long"):
			return notify.Failed(notify.ReasonTooLarge, "Telegram 400: %s", desc)
		case strings.Contains(lower, "chat not found"):
			return notify.Failed(notify.ReasonClientError, "Telegram 400: %s (check chat_id and that the bot is a member of the chat)", desc)
		case strings.Contains(lower, "can't parse entities"), strings.Contains(lower, "text is empty"):
			return notify.Failed(notify.ReasonIMRejected, "Telegram 400: %s", desc)
		case strings.Contains(lower, "message is not modified"):
			// An edit to the text the message already shows.
			return notify.OK()
		case strings.Contains(lower, "message to edit not found"), strings.Contains(lower, "message can't be edited"):
			r := notify.Failed(notify.ReasonClientError, "Telegram 400: %s", desc)
			r.Gone = true
			return r
		}
	}
	return notify.Failed(notify.ReasonClientError, "Telegram %d: %s", code, desc)
}

// seconds converts a retry_after in seconds to a wait: zero when absent
// or not positive, at most a day.
func seconds(secs *float64) time.Duration {
	if secs == nil || math.IsNaN(*secs) || *secs <= 0 {
		return 0
	}
	return time.Duration(min(*secs, maxRetryAfterSeconds) * float64(time.Second))
}

// redact keeps the bot token out of messages, should an answer echo it.
func (p *platform) redact(s string) string {
	if p.token == "" {
		return s
	}
	return strings.ReplaceAll(s, p.token, "<token>")
}

// tags are the tags Telegram's HTML parse mode knows.
var tags = map[string]bool{
	"b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true,
	"a": true, "tg-emoji": true, "code": true, "pre": true, "blockquote": true,
}

// Visible returns what Telegram shows of an HTML-mode text: tags removed,
// entities decoded. It fails, as Telegram does with "can't parse
// entities", on a tag Telegram does not know, an unbalanced tag, a link
// without href, or a <, > or & that is not part of a tag or an entity
// (&lt; &gt; &amp; &quot; or numeric).
func Visible(s string) (string, error) {
	var b strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := tagEnd(s, i)
			if end < 0 {
				return "", fmt.Errorf("unclosed tag at byte offset %d", i)
			}
			tag := s[i+1 : end]
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(open) == 0 || open[len(open)-1] != name {
					return "", fmt.Errorf("unexpected end tag </%s> at byte offset %d", name, i)
				}
				open = open[:len(open)-1]
			} else {
				name, attrs := tag, ""
				if k := strings.IndexAny(tag, " \t\r\n"); k >= 0 {
					name, attrs = tag[:k], tag[k:]
				}
				name = strings.ToLower(name)
				switch {
				case !tags[name]:
					return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
				case name == "a" && !strings.Contains(attrs, "href="):
					return "", fmt.Errorf("<a> without href at byte offset %d", i)
				}
				open = append(open, name)
			}
			i = end + 1
		case '>':
			return "", fmt.Errorf("unescaped > at byte offset %d", i)
		case '&':
			r, n := entity(s[i:])
			if n == 0 {
				return "", fmt.Errorf("& that starts no entity at byte offset %d", i)
			}
			b.WriteRune(r)
			i += n
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("<%s> is never closed", open[len(open)-1])
	}
	return b.String(), nil
}

// tagEnd returns the index of the > closing the tag that starts at i,
// skipping quoted attribute values, or -1.
func tagEnd(s string, i int) int {
	var quote byte
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '<':
			return -1
		case c == '>':
			return j
		}
	}
	return -1
}

// entity decodes the entity at the start of s (which starts with &) and
// returns its character and length; length 0 means no entity Telegram
// supports.
func entity(s string) (rune, int) {
	semi := strings.IndexByte(s, ';')
	if semi < 2 || semi > 10 {
		return 0, 0
	}
	name := s[1:semi]
	switch name {
	case "lt":
		return '<', semi + 1
	case "gt":
		return '>', semi + 1
	case "amp":
		return '&', semi + 1
	case "quot":
		return '"', semi + 1
	}
	var (
		n   uint64
		err error
	)
	switch {
	case strings.HasPrefix(name, "#x"), strings.HasPrefix(name, "#X"):
		n, err = strconv.ParseUint(name[2:], 16, 32)
	case strings.HasPrefix(name, "#"):
		n, err = strconv.ParseUint(name[1:], 10, 32)
	default:
		return 0, 0
	}
	if err != nil || n == 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return 0, 0
	}
	return rune(n), semi + 1
}
