package fake

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// APIOptions configure a fake Slack Web API.
type APIOptions struct {
	// Token is the bot token it accepts (default
	// "xoxb-1111-2222-fakeslacktoken").
	Token string
	// ChannelID and ChannelName are the one channel the bot is a member of
	// (defaults "C0ALERTS01" and "alerts").
	ChannelID, ChannelName string
	// Burst is how many chat.postMessage calls Slack lets through at once
	// before its one-per-second limit applies (default 1).
	Burst int
}

// API is a fake Slack Web API with the two methods a bot posting alerts
// calls, enforcing their contract:
//
//   - POST /api/chat.postMessage and /api/chat.update (another method is
//     404 unknown_method); JSON bodies only (the fake takes no forms), the
//     token as "Authorization: Bearer …" (none: not_authed; another:
//     invalid_auth; Slack answers these with HTTP 200 and ok false, as
//     every error but the rate limit);
//   - the documented keys of each method only (else invalid_arguments):
//     chat.update takes no username, icon_emoji, icon_url, thread_ts,
//     unfurl_links, unfurl_media or mrkdwn;
//   - channel: the channel's id, or for chat.postMessage its name with or
//     without '#'; anything else is channel_not_found. chat.update needs
//     the id, and a ts (else invalid_arguments); thread_ts must be a ts;
//   - the message as an incoming webhook's (no_text, too_many_attachments,
//     invalid_blocks with Block Kit's limits), and text over 40,000
//     characters is msg_too_long; or markdown_text alone, up to 12,000
//     characters;
//   - chat.postMessage at one per second per channel (bursts up to
//     Burst), chat.update at 50 per minute: else HTTP 429 with
//     Retry-After and ratelimited.
//
// It keeps the messages it posted, with ts 1764670000.000001 up, and
// answers {"ok":true,"channel":…,"ts":…}. An update of a message it never
// posted, or deleted since (Delete), is message_not_found, and a reply
// (thread_ts) to one is thread_not_found; neither is a violation: they
// are how Slack answers. An update that leaves out blocks or attachments
// keeps the message's, as Slack does.
type API struct {
	*notifytest.Fake
	opts APIOptions

	mu       sync.Mutex
	messages notifytest.MessageLog[Message] // numbered by ts sequence - 1
}

// Message is one message of the channel as it stands now.
type Message struct {
	TS string
	// ThreadTS is the ts of the message it replies to ("" for none).
	ThreadTS string
	// Text is what a reader sees; Body the JSON last sent for it.
	Text string
	Body []byte
	// Edits counts the chat.update calls that changed it.
	Edits int

	text        string
	blocks      json.RawMessage
	attachments json.RawMessage
}

const tsSeconds = "1764670000"

// ts is the ts of message number n.
func ts(n int) string { return fmt.Sprintf("%s.%06d", tsSeconds, n+1) }

// tsNumber is the number of the message of ts (-1 for none).
func tsNumber(s string) int {
	sec, seq, ok := strings.Cut(s, ".")
	n, err := strconv.Atoi(seq)
	if !ok || sec != tsSeconds || err != nil || n < 1 || len(seq) != 6 {
		return -1
	}
	return n - 1
}

// Messages returns the channel's messages that were not deleted, oldest
// first (copies).
func (a *API) Messages() []Message {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.messages.Live()
}

// Delete deletes a message, as a member of the channel can.
func (a *API) Delete(ts string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.messages.Delete(tsNumber(ts))
}

// apiError is Slack's error answer.
func apiError(status int, code string) *notifytest.Reply {
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"},
		Body: fmt.Sprintf(`{"ok":false,"error":%q}`, code)}
}

var (
	postKeys   = keySet("channel", "text", "blocks", "attachments", "as_user", "icon_emoji", "icon_url", "link_names", "markdown_text", "metadata", "mrkdwn", "parse", "reply_broadcast", "thread_ts", "unfurl_links", "unfurl_media", "username")
	updateKeys = keySet("channel", "ts", "text", "blocks", "attachments", "as_user", "file_ids", "link_names", "markdown_text", "metadata", "parse", "reply_broadcast")
)

func keySet(keys ...string) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k] = true
	}
	return m
}

// apiCall is the part of a request body the fake reads.
type apiCall struct {
	Channel     *string         `json:"channel"`
	TS          *string         `json:"ts"`
	ThreadTS    *string         `json:"thread_ts"`
	Text        *string         `json:"text"`
	Markdown    *string         `json:"markdown_text"`
	Blocks      json.RawMessage `json:"blocks"`
	Attachments json.RawMessage `json:"attachments"`
}

// NewAPI starts a fake Slack Web API; its URL is the API's base URL
// (…/api/), the one to configure as a bot-token target's url.
func NewAPI(t testing.TB, opts APIOptions) *API {
	opts.Token = cmp.Or(opts.Token, "xoxb-1111-2222-fakeslacktoken")
	opts.ChannelID = cmp.Or(opts.ChannelID, "C0ALERTS01")
	opts.ChannelName = cmp.Or(opts.ChannelName, "alerts")
	if opts.Burst <= 0 {
		opts.Burst = 1
	}
	a := &API{opts: opts}
	posts := &slackBucket{rate: 1, burst: float64(opts.Burst)}
	updates := notifytest.NewWindow(50, time.Minute)
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		method := strings.TrimPrefix(r.URL.Path, "/api/")
		keys := map[string]map[string]bool{MethodPost: postKeys, MethodUpdate: updateKeys}[method]
		switch {
		case keys == nil:
			return "", "path " + r.URL.Path, apiError(http.StatusNotFound, "unknown_method")
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, apiError(http.StatusOK, "invalid_post_type")
		case r.Header.Get("Authorization") == "":
			return "", "no Authorization header", apiError(http.StatusOK, "not_authed")
		case r.Header.Get("Authorization") != "Bearer "+opts.Token:
			return "", "wrong token", apiError(http.StatusOK, "invalid_auth")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), apiError(http.StatusOK, "invalid_form_data")
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(body, &fields); err != nil {
			if bytes.HasPrefix(bytes.TrimSpace(body), []byte("{")) {
				return "", "invalid JSON: " + err.Error(), apiError(http.StatusOK, "invalid_json")
			}
			return "", "not a JSON object", apiError(http.StatusOK, "json_not_object")
		}
		for k := range fields {
			if !keys[k] {
				return "", method + " takes no " + k, apiError(http.StatusOK, "invalid_arguments")
			}
		}
		var c apiCall
		if err := json.Unmarshal(body, &c); err != nil {
			return "", "invalid arguments: " + err.Error(), apiError(http.StatusOK, "invalid_arguments")
		}
		switch {
		case c.Channel == nil:
			return "", "no channel", apiError(http.StatusOK, "channel_not_found")
		case *c.Channel == opts.ChannelID:
		case method == MethodPost && (*c.Channel == opts.ChannelName || *c.Channel == "#"+opts.ChannelName):
		default:
			return "", "unknown channel " + *c.Channel, apiError(http.StatusOK, "channel_not_found")
		}
		if method == MethodUpdate && (c.TS == nil || !isTS(*c.TS)) {
			return "", "chat.update without a valid ts", apiError(http.StatusOK, "invalid_arguments")
		}
		if c.ThreadTS != nil && !isTS(*c.ThreadTS) {
			return "", "thread_ts is not a ts", apiError(http.StatusOK, "invalid_thread_ts")
		}
		text := ""
		switch {
		case c.Markdown != nil && (c.Text != nil || c.Blocks != nil):
			return "", "markdown_text with text or blocks", apiError(http.StatusOK, "invalid_arguments")
		case c.Markdown != nil && utf8.RuneCountInString(*c.Markdown) > 12000:
			return "", "markdown_text over 12,000 characters", apiError(http.StatusOK, "msg_too_long")
		case c.Markdown != nil:
			text = *c.Markdown
		case c.Text != nil:
			text = *c.Text
		}
		var blocks, attachments []json.RawMessage
		if len(c.Blocks) > 0 && json.Unmarshal(c.Blocks, &blocks) != nil {
			return "", "blocks is not an array", apiError(http.StatusOK, "invalid_blocks_format")
		}
		if len(c.Attachments) > 0 && json.Unmarshal(c.Attachments, &attachments) != nil {
			return "", "attachments is not an array", apiError(http.StatusOK, "invalid_attachments")
		}
		if method == MethodPost && strings.TrimSpace(text) == "" && len(blocks) == 0 && len(attachments) == 0 {
			return "", "no text, blocks or attachments", apiError(http.StatusOK, "no_text")
		}
		if len(attachments) > 100 {
			return "", fmt.Sprintf("%d attachments", len(attachments)), apiError(http.StatusOK, "too_many_attachments")
		}
		if _, problem := slackBlocks(blocks); problem != "" {
			return "", problem, apiError(http.StatusOK, "invalid_blocks")
		}
		if n := utf8.RuneCountInString(text); n > 40000 {
			return "", fmt.Sprintf("text is %d characters", n), apiError(http.StatusOK, "msg_too_long")
		}
		limited := func(wait time.Duration) *notifytest.Reply {
			r := apiError(http.StatusTooManyRequests, "ratelimited")
			r.Header["Retry-After"] = strconv.Itoa(int(math.Max(1, math.Ceil(wait.Seconds()))))
			return r
		}
		if method == MethodPost {
			if wait, ok := posts.take(now); !ok {
				return "", "more than one message per second", limited(wait)
			}
		} else if !updates.Allow(now) {
			return "", "more than 50 updates per minute", limited(updates.Per() - now.Sub(updates.Oldest()))
		}
		// What a reader sees of the request; an update that leaves out the
		// blocks shows the message's kept ones (see Messages).
		return visible(text, c.Blocks), "", nil
	}
	// Every checked request is answered by answer (a.Answer).
	a.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: `{"ok":true}`}, func(r notifytest.Reply) bool {
		return r.Status == http.StatusOK && strings.Contains(r.Body, `"ok":true`)
	})
	a.Answer = a.answer
	a.URL = a.Server.URL + "/api/"
	return a
}

// The methods the fake serves.
const (
	MethodPost   = "chat.postMessage"
	MethodUpdate = "chat.update"
)

func isTS(s string) bool {
	sec, seq, ok := strings.Cut(s, ".")
	_, err1 := strconv.ParseUint(sec, 10, 64)
	_, err2 := strconv.ParseUint(seq, 10, 64)
	return ok && err1 == nil && err2 == nil
}

// visible is what a reader sees of a message: its blocks' texts, else
// its text.
func visible(text string, blocks json.RawMessage) string {
	var bs []json.RawMessage
	_ = json.Unmarshal(blocks, &bs) // checked already
	if len(bs) == 0 {
		return UnescapeMrkdwn(text)
	}
	v, _ := slackBlocks(bs)
	return v
}

// answer keeps the channel's messages and answers a checked request.
func (a *API) answer(r *http.Request, body []byte, _ string) notifytest.Reply {
	a.mu.Lock()
	defer a.mu.Unlock()
	var c apiCall
	_ = json.Unmarshal(body, &c) // checked already
	if c.Markdown != nil {
		c.Text = c.Markdown // shown as written, near enough
	}
	text := ""
	if c.Text != nil {
		text = *c.Text
	}
	var m *Message
	if strings.HasSuffix(r.URL.Path, "/"+MethodUpdate) {
		if m = a.messages.Get(tsNumber(*c.TS)); m == nil {
			return *apiError(http.StatusOK, "message_not_found")
		}
		if c.Text != nil {
			m.text = text
		}
		if c.Blocks != nil {
			m.blocks = c.Blocks
		}
		if c.Attachments != nil {
			m.attachments = c.Attachments
		}
		m.Edits++
	} else {
		m = &Message{TS: ts(a.messages.Next()), text: text, blocks: c.Blocks, attachments: c.Attachments}
		if c.ThreadTS != nil {
			parent := a.messages.Get(tsNumber(*c.ThreadTS))
			if parent == nil {
				return *apiError(http.StatusOK, "thread_not_found")
			}
			if parent.ThreadTS != "" {
				// Slack threads a reply to a reply under the parent.
				m.ThreadTS = parent.ThreadTS
			} else {
				m.ThreadTS = parent.TS
			}
		}
		a.messages.Add(m)
	}
	m.Text, m.Body = visible(m.text, m.blocks), append([]byte(nil), body...)
	msg, _ := json.Marshal(map[string]any{
		"ok": true, "channel": a.opts.ChannelID, "ts": m.TS,
		"message": map[string]any{"type": "message", "subtype": "bot_message", "bot_id": "B0FAKEBOT1", "text": m.text, "ts": m.TS},
	})
	return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: string(msg)}
}
