// Package fake is a strict fake Telegram Bot API for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/alertbridge/alertbridge/bridge/notify/telegram/tgmarkdown"
)

// TelegramOptions configure a fake Telegram Bot API.
type TelegramOptions struct {
	// Token is the bot token (default "123456:tg-token").
	Token string
	// ChatID is the one chat the bot may post to (default "-1001234567890");
	// an integer id or @channelusername.
	ChatID string
	// MigratedTo, when set, makes ChatID a group that was upgraded to this
	// supergroup: posting to ChatID answers 400 with migrate_to_chat_id,
	// posting to MigratedTo is accepted.
	MigratedTo int64
	// Now replaces the clock of the rate-limit window (tests of the
	// limit); nil means the real time.
	Now func() time.Time
}

// Telegram is a fake Telegram Bot API enforcing sendMessage's contract:
// the route /bot{token}/{method} (method names case-insensitive; an
// unknown method is 404) with the bot's token (else 401 Unauthorized);
// GET or POST with parameters in the query, a JSON body or a form; only
// documented parameters; chat_id the configured chat (else 400 chat not
// found, or the migration answer); parse_mode empty, HTML, MarkdownV2 or
// Markdown (ignoring case, else 400 unsupported parse_mode), and text that
// Telegram parses in it: for HTML known tags only, balanced, <a> with
// href, and every <, > and & outside tags escaped; for the Markdown modes
// Telegram's rules as package tgmarkdown reads them (every entity
// closed, MarkdownV2's reserved characters escaped) (else 400 can't parse
// entities);
// the text 1 to 4096 UTF-16 code units after entity parsing (else 400
// message text is empty / message is too long); and 20 messages per minute
// in the chat (else 429 with parameters.retry_after). Answers are the Bot
// API's JSON envelope.
//
// It keeps the messages it accepted, numbered from 1 in the chat, and
// answers sendMessage with the new message's message_id. editMessageText
// (chat_id, message_id and the new text, parse mode and link preview
// options; the same text checks) changes one: 400 "message to edit not
// found" for an id it never gave or a message deleted since (Delete), 400
// "message is not modified" when the text and parse mode are the ones the
// message has; neither is a violation, both are how Telegram answers. A
// sendMessage with reply_parameters names a message of the chat; without
// allow_sending_without_reply a missing one is 400 "message to be replied
// not found".
type Telegram struct {
	*notifytest.Fake
	opts TelegramOptions

	mu       sync.Mutex
	messages notifytest.MessageLog[Message] // numbered by message_id - 1
}

// Message is one message of the fake's chat as it stands now.
type Message struct {
	ID int64
	// Text is what a reader sees; Raw the text as sent, in ParseMode.
	Text, Raw, ParseMode string
	// ReplyTo is the message it answers (0: none).
	ReplyTo int64
	// Edits counts the edits that changed it.
	Edits int
}

// Messages returns the chat's messages that were not deleted, oldest
// first (copies).
func (tg *Telegram) Messages() []Message {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	return tg.messages.Live()
}

// Delete deletes a message, as a member of the chat can; an edit of it
// is then "message to edit not found".
func (tg *Telegram) Delete(id int64) {
	tg.mu.Lock()
	defer tg.mu.Unlock()
	tg.messages.Delete(int(id - 1))
}

// answer keeps the chat's messages and answers an accepted request.
func (tg *Telegram) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	params, _ := tgParams(r, body) // the check read them already
	tg.mu.Lock()
	defer tg.mu.Unlock()
	find := func(id string) *Message {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return nil
		}
		return tg.messages.Get(int(n - 1))
	}
	if strings.HasSuffix(strings.ToLower(r.URL.Path), "/editmessagetext") {
		m := find(params["message_id"])
		switch {
		case m == nil:
			return *tgError(http.StatusBadRequest, "Bad Request: message to edit not found", "")
		case m.Raw == params["text"] && strings.EqualFold(m.ParseMode, params["parse_mode"]):
			return *tgError(http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", "")
		}
		m.Text, m.Raw, m.ParseMode = text, params["text"], params["parse_mode"]
		m.Edits++
		return tg.ok(m)
	}
	m := &Message{ID: int64(tg.messages.Next() + 1), Text: text, Raw: params["text"], ParseMode: params["parse_mode"]}
	if rp, ok := params["reply_parameters"]; ok {
		var p struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		_ = json.Unmarshal([]byte(rp), &p) // the check read it already
		switch {
		case find(strconv.FormatInt(p.MessageID, 10)) != nil:
			m.ReplyTo = p.MessageID
		case !p.AllowSendingWithoutReply:
			return *tgError(http.StatusBadRequest, "Bad Request: message to be replied not found", "")
		}
	}
	tg.messages.Add(m)
	return tg.ok(m)
}

// ok is the answer with the message, as sendMessage and editMessageText
// give it.
func (tg *Telegram) ok(m *Message) notifytest.Reply {
	res := map[string]any{
		"message_id": m.ID, "date": 1795428300, "text": m.Text,
		"chat": map[string]any{"id": json.RawMessage(tgChatJSON(tg.opts.ChatID)), "title": "alerts", "type": "supergroup"},
	}
	if m.Edits > 0 {
		res["edit_date"] = 1795428400
	}
	if m.ReplyTo != 0 {
		res["reply_to_message"] = map[string]any{"message_id": m.ReplyTo}
	}
	b, _ := json.Marshal(map[string]any{"ok": true, "result": res})
	return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// NewTelegram starts a fake Bot API; its URL is the sendMessage URL.
func NewTelegram(t testing.TB, opts TelegramOptions) *Telegram {
	if opts.Token == "" {
		opts.Token = "123456:tg-token"
	}
	if opts.ChatID == "" {
		opts.ChatID = "-1001234567890"
	}
	tg := &Telegram{opts: opts}
	route := regexp.MustCompile(`^/bot([^/]*)/([^/]+)$`)
	minute := notifytest.NewWindow(20, time.Minute)
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		if opts.Now != nil {
			now = opts.Now()
		}
		m := route.FindStringSubmatch(r.URL.Path)
		switch {
		case m == nil:
			return "", "path " + r.URL.Path, tgError(http.StatusNotFound, "Not Found", "")
		case m[1] != opts.Token:
			return "", "wrong bot token", tgError(http.StatusUnauthorized, "Unauthorized", "")
		case !strings.EqualFold(m[2], "sendMessage") && !strings.EqualFold(m[2], "editMessageText"):
			return "", "method " + m[2], tgError(http.StatusNotFound, "Not Found", "")
		case r.Method != http.MethodPost && r.Method != http.MethodGet:
			return "", "HTTP method " + r.Method, tgError(http.StatusBadRequest, "Bad Request: unsupported HTTP method", "")
		}
		params, err := tgParams(r, body)
		if err != nil {
			return "", err.Error(), tgError(http.StatusBadRequest, "Bad Request: "+err.Error(), "")
		}
		known, edit := tgKnownParams, strings.EqualFold(m[2], "editMessageText")
		if edit {
			known = tgEditParams
		}
		for k := range params {
			if !known[k] {
				return "", "unknown parameter " + k + " of " + m[2], tgError(http.StatusBadRequest, "Bad Request: unknown parameter "+k, "")
			}
		}
		if edit {
			if id, err := strconv.ParseInt(params["message_id"], 10, 64); err != nil || id <= 0 {
				return "", "editMessageText without a valid message_id", tgError(http.StatusBadRequest, "Bad Request: message identifier is not specified", "")
			}
		}
		if rp, ok := params["reply_parameters"]; ok {
			var p struct {
				MessageID int64 `json:"message_id"`
			}
			if err := json.Unmarshal([]byte(rp), &p); err != nil || p.MessageID <= 0 {
				return "", "reply_parameters " + rp, tgError(http.StatusBadRequest, "Bad Request: invalid reply parameters specified", "")
			}
		}
		chatID := params["chat_id"]
		switch {
		case chatID == "":
			return "", "no chat_id", tgError(http.StatusBadRequest, "Bad Request: chat_id is empty", "")
		case opts.MigratedTo != 0 && chatID == opts.ChatID:
			return "", "posted to a migrated group", tgError(http.StatusBadRequest, "Bad Request: group chat was upgraded to a supergroup chat",
				fmt.Sprintf(`{"migrate_to_chat_id":%d}`, opts.MigratedTo))
		case chatID != opts.ChatID && (opts.MigratedTo == 0 || chatID != strconv.FormatInt(opts.MigratedTo, 10)):
			return "", "unknown chat_id " + chatID, tgError(http.StatusBadRequest, "Bad Request: chat not found", "")
		}
		for _, k := range []string{"message_thread_id"} {
			if v, ok := params[k]; ok {
				if _, err := strconv.ParseInt(v, 10, 64); err != nil {
					return "", k + " " + v, tgError(http.StatusBadRequest, "Bad Request: invalid "+k+" specified", "")
				}
			}
		}
		for _, k := range []string{"disable_notification", "protect_content", "disable_web_page_preview"} {
			if v, ok := params[k]; ok && v != "true" && v != "false" {
				return "", k + " " + v, tgError(http.StatusBadRequest, "Bad Request: invalid "+k, "")
			}
		}
		text := params["text"]
		var parse func(string) (string, error)
		switch strings.ToLower(params["parse_mode"]) {
		case "":
		case "html":
			parse = tgParseHTML
		case "markdownv2":
			parse = tgmarkdown.V2
		case "markdown":
			parse = tgmarkdown.Legacy
		default:
			return "", "parse_mode " + params["parse_mode"], tgError(http.StatusBadRequest, "Bad Request: unsupported parse_mode", "")
		}
		if parse != nil {
			var err error
			if text, err = parse(text); err != nil {
				return "", "can't parse entities: " + err.Error(), tgError(http.StatusBadRequest, "Bad Request: can't parse entities: "+err.Error(), "")
			}
		}
		n := 0
		for _, r := range text {
			n += max(utf16.RuneLen(r), 1)
		}
		switch {
		case strings.TrimSpace(text) == "":
			return "", "empty text", tgError(http.StatusBadRequest, "Bad Request: message text is empty", "")
		case n > 4096:
			return "", fmt.Sprintf("text is %d UTF-16 code units after entity parsing", n), tgError(http.StatusBadRequest, "Bad Request: message is too long", "")
		}
		if !minute.Allow(now) {
			wait := int((minute.Per() - now.Sub(minute.Oldest()) + time.Second - 1) / time.Second)
			return "", "more than 20 messages a minute in the chat", tgError(http.StatusTooManyRequests,
				fmt.Sprintf("Too Many Requests: retry after %d", wait), fmt.Sprintf(`{"retry_after":%d}`, wait))
		}
		return text, "", nil
	}
	ok := fmt.Sprintf(`{"ok":true,"result":{"message_id":1,"date":1795428300,"chat":{"id":%s,"title":"alerts","type":"supergroup"},"text":"…"}}`, tgChatJSON(opts.ChatID))
	tg.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: ok}, func(r notifytest.Reply) bool {
		return r.Status == http.StatusOK && strings.Contains(r.Body, `"ok":true`)
	})
	tg.Answer = tg.answer
	tg.URL = tg.Server.URL + "/bot" + opts.Token + "/sendMessage"
	return tg
}

// tgKnownParams are sendMessage's documented parameters.
var tgKnownParams = map[string]bool{
	"business_connection_id": true, "chat_id": true, "message_thread_id": true, "direct_messages_topic_id": true,
	"text": true, "parse_mode": true, "entities": true, "link_preview_options": true, "disable_web_page_preview": true,
	"disable_notification": true, "protect_content": true, "allow_paid_broadcast": true, "message_effect_id": true,
	"suggested_post_parameters": true, "reply_parameters": true, "reply_markup": true, "reply_to_message_id": true,
	"allow_sending_without_reply": true,
}

// tgEditParams are editMessageText's documented parameters.
var tgEditParams = map[string]bool{
	"business_connection_id": true, "chat_id": true, "message_id": true, "inline_message_id": true,
	"text": true, "parse_mode": true, "entities": true, "link_preview_options": true, "disable_web_page_preview": true,
	"reply_markup": true,
}

func tgChatJSON(id string) string {
	if _, err := strconv.ParseInt(id, 10, 64); err == nil {
		return id
	}
	return strconv.Quote(id)
}

// tgError is the Bot API's error envelope; parameters is a JSON object or
// empty.
func tgError(status int, description, parameters string) *notifytest.Reply {
	body := fmt.Sprintf(`{"ok":false,"error_code":%d,"description":%q`, status, description)
	if parameters != "" {
		body += `,"parameters":` + parameters
	}
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: body + "}"}
}

// tgParams collects the request's parameters as Telegram reads them: the
// query, then a JSON body (values that are not strings kept as JSON
// text) or a form.
func tgParams(r *http.Request, body []byte) (map[string]string, error) {
	params := map[string]string{}
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	if len(body) == 0 {
		return params, nil
	}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("can't parse JSON object: %v", err)
		}
		for k, raw := range m {
			var s string
			if json.Unmarshal(raw, &s) == nil {
				params[k] = s
			} else {
				params[k] = string(raw)
			}
		}
	case "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("can't parse form: %v", err)
		}
		for k, v := range form {
			params[k] = v[0]
		}
	default:
		return nil, fmt.Errorf("unsupported Content-Type %q", r.Header.Get("Content-Type"))
	}
	return params, nil
}

// tgTags maps the tags Telegram's HTML knows to the attribute each needs
// ("" when none).
var tgTags = map[string]string{
	"b": "", "strong": "", "i": "", "em": "", "u": "", "ins": "", "s": "", "strike": "", "del": "",
	"tg-spoiler": "", "code": "", "pre": "", "blockquote": "",
	"a": "href", "span": "class", "tg-emoji": "emoji-id",
}

var tgAttr = regexp.MustCompile(`^\s*([a-zA-Z-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?`)

// tgParseHTML resolves a text in Telegram's HTML parse mode to what a
// reader sees, or explains why Telegram would refuse it.
func tgParseHTML(s string) (string, error) {
	var b strings.Builder
	var open []string
	for i := 0; i < len(s); {
		switch s[i] {
		case '<':
			end := strings.IndexByte(s[i:], '>')
			if end < 0 {
				return "", fmt.Errorf("unclosed start tag at byte offset %d", i)
			}
			tag := s[i+1 : i+end]
			if strings.ContainsAny(tag, "<") {
				return "", fmt.Errorf("unexpected < inside a tag at byte offset %d", i)
			}
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				name = strings.ToLower(strings.TrimSpace(name))
				if len(open) == 0 {
					return "", fmt.Errorf("unexpected end tag at byte offset %d", i)
				}
				if want := open[len(open)-1]; name != want {
					return "", fmt.Errorf("can't find end tag corresponding to start tag %q", want)
				}
				open = open[:len(open)-1]
				i += end + 1
				continue
			}
			name := tag
			rest := ""
			if k := strings.IndexFunc(tag, unicode.IsSpace); k >= 0 {
				name, rest = tag[:k], tag[k:]
			}
			name = strings.ToLower(name)
			need, known := tgTags[name]
			if !known {
				return "", fmt.Errorf("unsupported start tag %q at byte offset %d", name, i)
			}
			attrs := map[string]string{}
			for strings.TrimSpace(rest) != "" {
				m := tgAttr.FindStringSubmatch(rest)
				if m == nil {
					return "", fmt.Errorf("malformed attributes in <%s> at byte offset %d", name, i)
				}
				v := m[2] + m[3] + m[4]
				if strings.ContainsAny(v, "<>") {
					return "", fmt.Errorf("unescaped < or > in an attribute of <%s>", name)
				}
				dv, err := tgEntities(v)
				if err != nil {
					return "", err
				}
				attrs[strings.ToLower(m[1])] = dv
				rest = rest[len(m[0]):]
			}
			if need != "" && attrs[need] == "" {
				return "", fmt.Errorf("<%s> needs its %s attribute", name, need)
			}
			if name == "span" && attrs["class"] != "tg-spoiler" {
				return "", fmt.Errorf(`<span> must be class="tg-spoiler"`)
			}
			if name == "a" && strings.ContainsAny(attrs["href"], " \t\r\n") {
				return "", fmt.Errorf("<a> href is not a URL")
			}
			open = append(open, name)
			i += end + 1
		case '>':
			return "", fmt.Errorf("unescaped > at byte offset %d", i)
		case '&':
			semi := strings.IndexByte(s[i:], ';')
			if semi < 0 {
				return "", fmt.Errorf("can't find end of the entity starting at byte offset %d", i)
			}
			r, err := tgEntity(s[i+1 : i+semi])
			if err != nil {
				return "", fmt.Errorf("%v at byte offset %d", err, i)
			}
			b.WriteRune(r)
			i += semi + 1
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	if len(open) > 0 {
		return "", fmt.Errorf("can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return b.String(), nil
}

// tgEntities decodes the entities of an attribute value.
func tgEntities(v string) (string, error) {
	var b strings.Builder
	for {
		amp := strings.IndexByte(v, '&')
		if amp < 0 {
			b.WriteString(v)
			return b.String(), nil
		}
		semi := strings.IndexByte(v[amp:], ';')
		if semi < 0 {
			return "", fmt.Errorf("can't find end of the entity in an attribute")
		}
		r, err := tgEntity(v[amp+1 : amp+semi])
		if err != nil {
			return "", err
		}
		b.WriteString(v[:amp])
		b.WriteRune(r)
		v = v[amp+semi+1:]
	}
}

// tgEntity decodes one entity name (between & and ;): the four named
// entities Telegram supports or a numeric one.
func tgEntity(name string) (rune, error) {
	switch name {
	case "lt":
		return '<', nil
	case "gt":
		return '>', nil
	case "amp":
		return '&', nil
	case "quot":
		return '"', nil
	}
	var (
		n   uint64
		err error
	)
	switch {
	case strings.HasPrefix(name, "#x") || strings.HasPrefix(name, "#X"):
		n, err = strconv.ParseUint(name[2:], 16, 32)
	case strings.HasPrefix(name, "#"):
		n, err = strconv.ParseUint(name[1:], 10, 32)
	default:
		return 0, fmt.Errorf("unsupported HTML entity &%s;", name)
	}
	if err != nil || n == 0 || n > unicode.MaxRune || (n >= 0xD800 && n <= 0xDFFF) {
		return 0, fmt.Errorf("invalid numeric entity &%s;", name)
	}
	return rune(n), nil
}
