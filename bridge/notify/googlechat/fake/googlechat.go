// Package fake is a strict fake Google Chat webhook for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"html"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// GoogleChatOptions configure a fake Google Chat space webhook.
type GoogleChatOptions struct {
	// Space is the space id (default "AAAAfakeSpace"); Key and Token the
	// webhook URL's key= and token= (defaults "gc-key" and "gc-token").
	Space, Key, Token string
}

// Google Chat's limits, as the fake enforces them.
const (
	GoogleChatMaxBytes     = 32000
	GoogleChatMaxText      = 4096
	GoogleChatMaxWidgets   = 100
	GoogleChatPerMinute    = 60
	googleChatMaxThreadKey = 4000
)

// GoogleChat is a fake Google Chat incoming webhook enforcing the
// contract: POST to /v1/spaces/{space}/messages (else 404 NOT_FOUND); the
// key= query parameter (else 400 INVALID_ARGUMENT, reason
// API_KEY_INVALID) and the token= one (else 401 UNAUTHENTICATED — the
// exact answer to a revoked token is not documented); a JSON body of at
// most 32,000 bytes holding only Message fields (Google refuses unknown
// names), with a non-empty text of at most 4,096 characters (observed
// "Message is longer than 4096 characters"; counted here in UTF-16 units,
// as the stricter reading) or cards, every card section holding a
// widget, a thread key of at most 4,000 characters and a known
// messageReplyOption (else 400 INVALID_ARGUMENT); and 60 messages per
// minute per space (else 429 RESOURCE_EXHAUSTED). It answers 200 with the
// created Message. A card over 100 widgets is a violation answered 200:
// Google Chat drops the sections past the limit without an error.
//
// It keeps the space's messages and threads. A message starts a new
// thread unless messageReplyOption is REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD
// or REPLY_MESSAGE_OR_FAIL and the body's thread (or the deprecated
// threadKey query parameter) names one: thread.name must be a thread of
// this space (else 400 INVALID_ARGUMENT, a violation); a thread that does
// not exist (never created, or deleted since: DeleteThread) starts a new
// thread with the first option and is 404 NOT_FOUND with the second,
// which is no violation. A thread key names the thread first posted with
// it. A thread named without a reply option is a violation answered 200:
// Google Chat ignores the thread and starts a new one, so the reply the
// sender meant is lost.
//
// Webhooks cannot edit or delete messages: any method but POST is 405.
//
// The visible text is the text (zero-width spaces dropped, <url|text>
// links shown as "text (url)", <users/ID> mentions as "@ID"), then the
// card: header title and subtitle as plain text, section headers,
// textParagraph and decoratedText texts as HTML (<br> a line break,
// <a href="url">text</a> as "text (url)", other tags stripped, entities
// unescaped), and button texts with their links.
type GoogleChat struct {
	*notifytest.Fake
	opts GoogleChatOptions

	mu       sync.Mutex
	messages notifytest.MessageLog[Message]
	threads  map[string]bool   // thread name: not deleted
	keys     map[string]string // thread key: thread name
	nthreads int
}

// Message is one message of the space.
type Message struct {
	// Name is spaces/{space}/messages/{id}; Thread the name of its thread.
	Name, Thread string
	// Reply tells a message posted into an existing thread.
	Reply bool
	// Text is what a reader sees; Body the JSON sent.
	Text string
	Body []byte
}

// Messages returns the space's messages not deleted, oldest first.
func (g *GoogleChat) Messages() []Message {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.messages.Live()
}

// DeleteThread deletes a thread and its messages, as a member of the
// space can by deleting its first message; replying to it then starts a
// new thread, or fails with REPLY_MESSAGE_OR_FAIL.
func (g *GoogleChat) DeleteThread(name string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.threads, name)
	for i := range g.messages.Next() {
		if m := g.messages.Get(i); m != nil && m.Thread == name {
			g.messages.Delete(i)
		}
	}
}

// answer keeps the space's messages and threads and answers an accepted
// post with the created Message.
func (g *GoogleChat) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	g.mu.Lock()
	defer g.mu.Unlock()
	var m gchatMessage
	_ = json.Unmarshal(body, &m) // the check read it already
	q := r.URL.Query()
	option := q.Get("messageReplyOption")
	replying := option == "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" || option == "REPLY_MESSAGE_OR_FAIL"
	key := q.Get("threadKey")
	var name string
	if m.Thread != nil {
		name = m.Thread.Name
		if m.Thread.ThreadKey != "" {
			key = m.Thread.ThreadKey
		}
	}
	thread, reply := "", false
	switch {
	case !replying:
		key = ""
	case name != "" && g.threads[name]:
		thread, reply = name, true
	case name != "" && option == "REPLY_MESSAGE_OR_FAIL":
		return *googleChatError(http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
	case name == "" && key != "" && g.threads[g.keys[key]]:
		thread, reply = g.keys[key], true
	}
	if thread == "" {
		g.nthreads++
		thread = fmt.Sprintf("spaces/%s/threads/fakeThread%03d", g.opts.Space, g.nthreads)
		g.threads[thread] = true
		if key != "" {
			g.keys[key] = thread
		}
	}
	msg := &Message{Thread: thread, Reply: reply, Text: text, Body: append([]byte(nil), body...)}
	msg.Name = fmt.Sprintf("spaces/%s/messages/fakeMessage%03d", g.opts.Space, g.messages.Next()+1)
	g.messages.Add(msg)
	th := map[string]any{"name": thread}
	if key != "" {
		th["threadKey"] = key
	}
	created := map[string]any{
		"name": msg.Name, "sender": map[string]any{"name": "users/114022495153014004089", "displayName": "alertbridge", "type": "BOT"},
		"createTime": "2026-11-23T10:05:00.000000Z", "thread": th, "threadReply": reply,
		"space": map[string]any{"name": "spaces/" + g.opts.Space, "type": "ROOM", "spaceType": "SPACE"},
	}
	if m.Text != nil {
		created["text"] = *m.Text
	}
	ans, _ := json.Marshal(created)
	return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}, Body: string(ans)}
}

// NewGoogleChat starts a fake Google Chat webhook; its URL carries the
// key and token.
func NewGoogleChat(t testing.TB, opts GoogleChatOptions) *GoogleChat {
	if opts.Space == "" {
		opts.Space = "AAAAfakeSpace"
	}
	if opts.Key == "" {
		opts.Key = "gc-key"
	}
	if opts.Token == "" {
		opts.Token = "gc-token"
	}
	g := &GoogleChat{opts: opts, threads: map[string]bool{}, keys: map[string]string{}}
	threadPrefix := "spaces/" + opts.Space + "/threads/"
	path := "/v1/spaces/" + opts.Space + "/messages"
	minute := notifytest.NewWindow(GoogleChatPerMinute, time.Minute)
	invalid := func(msg string) *notifytest.Reply {
		return googleChatError(http.StatusBadRequest, "INVALID_ARGUMENT", msg)
	}
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, googleChatError(http.StatusMethodNotAllowed, "INVALID_ARGUMENT", "Method not allowed.")
		case r.URL.Path != path:
			return "", "path " + r.URL.Path, googleChatError(http.StatusNotFound, "NOT_FOUND", "Requested entity was not found.")
		case q.Get("key") != opts.Key:
			return "", "key missing or wrong", &notifytest.Reply{Status: http.StatusBadRequest, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"},
				Body: `{"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID","domain":"googleapis.com"}]}}`}
		case q.Get("token") != opts.Token:
			return "", "token missing or wrong", googleChatError(http.StatusUnauthorized, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), invalid("Invalid JSON payload received. Unexpected token.")
		case len(body) > GoogleChatMaxBytes:
			return "", fmt.Sprintf("body is %d bytes", len(body)), invalid(fmt.Sprintf("Message exceeds the maximum size of %d bytes.", GoogleChatMaxBytes))
		}
		if o := q.Get("messageReplyOption"); o != "" && o != "MESSAGE_REPLY_OPTION_UNSPECIFIED" && o != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" && o != "REPLY_MESSAGE_OR_FAIL" {
			return "", "messageReplyOption " + o, invalid(fmt.Sprintf("Invalid value at 'message_reply_option' (type.googleapis.com/google.chat.v1.CreateMessageRequest.MessageReplyOption), %q", o))
		}
		var m gchatMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&m); err != nil {
			return "", "invalid message: " + err.Error(), invalid("Invalid JSON payload received. " + err.Error())
		}
		if v := m.invalid(); v != "" {
			return "", v, invalid(v)
		}
		if m.Thread != nil && m.Thread.Name != "" {
			if id, ok := strings.CutPrefix(m.Thread.Name, threadPrefix); !ok || id == "" || strings.Contains(id, "/") {
				return "", "thread.name " + m.Thread.Name + " is not a thread of the space", invalid("Invalid thread name: " + m.Thread.Name)
			}
		}
		if !minute.Allow(now) {
			return "", "more than 60 messages in a minute", googleChatError(http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
				"Resource has been exhausted (e.g. check quota).")
		}
		if o := q.Get("messageReplyOption"); m.Thread != nil && m.Thread.Name != "" && o != "REPLY_MESSAGE_FALLBACK_TO_NEW_THREAD" && o != "REPLY_MESSAGE_OR_FAIL" {
			return "", "thread.name without a reply messageReplyOption: Google Chat starts a new thread", &notifytest.Reply{Status: http.StatusOK, Body: g.created()}
		}
		if n := m.widgets(); n > GoogleChatMaxWidgets {
			return "", fmt.Sprintf("%d widgets in a card: sections past %d are not shown", n, GoogleChatMaxWidgets), &notifytest.Reply{Status: http.StatusOK, Body: g.created()}
		}
		return m.visible(), "", nil
	}
	g.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}, Body: g.created()}, nil)
	g.Answer = g.answer
	g.URL = g.Server.URL + path + "?key=" + opts.Key + "&token=" + opts.Token
	return g
}

// created is the answer to a message the fake accepts without keeping it
// (a violation Google Chat answers with success).
func (g *GoogleChat) created() string {
	s := g.opts.Space
	return fmt.Sprintf(`{"name":"spaces/%s/messages/fake.1","sender":{"name":"users/114022495153014004089","displayName":"alertbridge","type":"BOT"},"createTime":"2026-11-23T10:05:00.000000Z","thread":{"name":"spaces/%s/threads/fake"},"space":{"name":"spaces/%s","type":"ROOM","spaceType":"SPACE"}}`, s, s, s)
}

func googleChatError(status int, code, msg string) *notifytest.Reply {
	body, _ := json.Marshal(map[string]any{"error": map[string]any{"code": status, "message": msg, "status": code}})
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json; charset=UTF-8"}, Body: string(body)}
}

// gchatMessage is the Chat Message resource's writable fields. Cards are
// kept raw (their widgets are many); the checks read what they need.
type gchatMessage struct {
	Text                    *string           `json:"text"`
	FormattedText           string            `json:"formattedText"`
	Cards                   []json.RawMessage `json:"cards"`
	CardsV2                 []gchatCardV2     `json:"cardsV2"`
	Thread                  *gchatThread      `json:"thread"`
	FallbackText            string            `json:"fallbackText"`
	ArgumentText            string            `json:"argumentText"`
	Annotations             json.RawMessage   `json:"annotations"`
	AccessoryWidgets        json.RawMessage   `json:"accessoryWidgets"`
	PrivateMessageViewer    json.RawMessage   `json:"privateMessageViewer"`
	ClientAssignedMessageID string            `json:"clientAssignedMessageId"`
	QuotedMessageMetadata   json.RawMessage   `json:"quotedMessageMetadata"`
	Attachment              json.RawMessage   `json:"attachment"`
	ActionResponse          json.RawMessage   `json:"actionResponse"`
}

type gchatThread struct {
	Name      string `json:"name"`
	ThreadKey string `json:"threadKey"`
}

type gchatCardV2 struct {
	CardID string `json:"cardId"`
	Card   *struct {
		Header *struct {
			Title    string `json:"title"`
			Subtitle string `json:"subtitle"`
		} `json:"header"`
		Sections []struct {
			Header  string           `json:"header"`
			Widgets []map[string]any `json:"widgets"`
		} `json:"sections"`
	} `json:"card"`
}

// invalid says why Google Chat would refuse the message, or "".
func (m *gchatMessage) invalid() string {
	switch {
	case m.Text != nil && strings.TrimSpace(*m.Text) == "":
		return "Message text cannot be empty."
	case m.Text != nil && len(utf16.Encode([]rune(*m.Text))) > GoogleChatMaxText:
		return "Message is longer than 4096 characters"
	case m.Text == nil && len(m.CardsV2) == 0 && len(m.Cards) == 0:
		return "Message cannot be empty. Discarded message must have text or cards."
	case m.Thread != nil && len([]rune(m.Thread.ThreadKey)) > googleChatMaxThreadKey:
		return "thread.thread_key is longer than 4000 characters."
	}
	for i, c := range m.CardsV2 {
		if c.Card == nil {
			return fmt.Sprintf("cards_v2[%d].card is required.", i)
		}
		for j, s := range c.Card.Sections {
			if len(s.Widgets) == 0 {
				return fmt.Sprintf("cards_v2[%d].card.sections[%d]: a section must contain at least one widget.", i, j)
			}
		}
	}
	return ""
}

func (m *gchatMessage) widgets() int {
	most := 0
	for _, c := range m.CardsV2 {
		n := 0
		for _, s := range c.Card.Sections {
			n += len(s.Widgets)
		}
		most = max(most, n)
	}
	return most
}

var (
	gchatTextLink    = regexp.MustCompile(`<([a-z][a-z0-9+.-]*://[^|>]*)\|([^>]*)>`)
	gchatTextMention = regexp.MustCompile(`<users/([^>]+)>`)
	gchatBreak       = regexp.MustCompile(`(?i)<br\s*/?>`)
	gchatAnchor      = regexp.MustCompile(`(?is)<a\s+href="([^"]*)"\s*>(.*?)</a>`)
	gchatTag         = regexp.MustCompile(`</?[a-zA-Z][^<>]*>`)
)

// visible renders the message as a reader sees it.
func (m *gchatMessage) visible() string {
	var b strings.Builder
	if m.Text != nil {
		t := strings.ReplaceAll(*m.Text, "\u200b", "")
		t = gchatTextLink.ReplaceAllString(t, "$2 ($1)")
		t = gchatTextMention.ReplaceAllString(t, "@$1")
		b.WriteString(t + "\n")
	}
	for _, c := range m.CardsV2 {
		if h := c.Card.Header; h != nil {
			b.WriteString(h.Title + "\n" + h.Subtitle + "\n")
		}
		for _, s := range c.Card.Sections {
			if s.Header != "" {
				b.WriteString(gchatHTMLVisible(s.Header) + "\n")
			}
			for _, w := range s.Widgets {
				b.WriteString(gchatWidgetVisible(w))
			}
		}
	}
	return b.String()
}

func gchatWidgetVisible(w map[string]any) string {
	var b strings.Builder
	text := func(v any) {
		if o, ok := v.(map[string]any); ok {
			if s, ok := o["text"].(string); ok {
				b.WriteString(gchatHTMLVisible(s) + "\n")
			}
		}
	}
	text(w["textParagraph"])
	text(w["decoratedText"])
	if bl, ok := w["buttonList"].(map[string]any); ok {
		buttons, _ := bl["buttons"].([]any)
		for _, bt := range buttons {
			bt, _ := bt.(map[string]any)
			label, _ := bt["text"].(string)
			var link string
			if oc, ok := bt["onClick"].(map[string]any); ok {
				if ol, ok := oc["openLink"].(map[string]any); ok {
					link, _ = ol["url"].(string)
				}
			}
			b.WriteString(label + " (" + link + ")\n")
		}
	}
	return b.String()
}

// gchatHTMLVisible renders card HTML as text: line breaks, links with
// their targets, tags stripped, entities unescaped last (so escaped
// markup shows as written).
func gchatHTMLVisible(s string) string {
	s = gchatBreak.ReplaceAllString(s, "\n")
	s = gchatAnchor.ReplaceAllString(s, "$2 ($1)")
	s = gchatTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}
