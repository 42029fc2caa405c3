// Package fake is a strict fake Discord webhook for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// DiscordOptions configure a fake Discord webhook.
type DiscordOptions struct {
	// ID and Token make the webhook's path /api/webhooks/{id}/{token}
	// (defaults "123456789012345678" and "dc-token").
	ID, Token string
	// Now replaces the clock of the rate-limit windows (tests of the
	// limits); nil means the real time.
	Now func() time.Time
}

// Discord is a fake Discord channel webhook enforcing the contract: POST
// to /api[/v{n}]/webhooks/{id}/{token} (an unknown id is 404 code 10015, a
// wrong token 401 code 50027); a JSON body of documented fields only; the
// message limits, counted in characters after trimming whitespace
// (content 2000, 10 embeds, title 256, description 4096, 25 fields, field
// name 256 and value 1024, footer 2048, author name 256, 6000 over all
// embeds), well-formed URLs, colours, timestamps, usernames and
// allowed_mentions, else 400 code 50035 with Discord's nested errors;
// nothing to show is 400 code 50006; and the per-webhook bucket of 5
// requests per 2 s and the per-channel 30 per minute, else 429 with a float
// retry_after and X-RateLimit-* headers. It answers 200 with the created
// message when asked ?wait=true, else 204 with no body, as Discord does.
//
// A message that would ping someone through text alone (no
// allowed_mentions while the text holds @everyone, @here or <@…>, or
// allowed_mentions parsing users or roles while the content holds such a
// mention) is a violation: label values must never ping anyone. Discord
// would deliver it, so it is answered with success.
//
// It keeps the messages it accepted, with snowflake ids from
// 1300000000000000001 up, and edits them: PATCH
// /api/webhooks/{id}/{token}/messages/{message_id} (the query may hold
// thread_id, nothing else) with the keys an edit takes (content, embeds,
// allowed_mentions, flags, components, attachments, poll; username,
// avatar_url, tts and thread_name are violations) and the same limits,
// answered 200 with the message; a message it never created, or deleted
// since (Delete), is 404 code 10008 Unknown Message, which is not a
// violation: it is how Discord answers.
type Discord struct {
	*notifytest.Fake
	opts DiscordOptions

	mu       sync.Mutex
	messages notifytest.MessageLog[Message] // numbered by id - firstID
}

// Message is one message of the webhook's channel as it stands now.
type Message struct {
	ID string
	// Text is what a reader sees; Body the JSON last sent for it.
	Text string
	Body []byte
	// Edits counts the edits.
	Edits int
}

const firstID = 1300000000000000001

// Messages returns the channel's messages that were not deleted, oldest
// first (copies).
func (d *Discord) Messages() []Message {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.messages.Live()
}

// Delete deletes a message, as a member of the channel can; an edit of it
// is then 404 Unknown Message.
func (d *Discord) Delete(id string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.messages.Delete(number(id))
}

// number is the log number of message id (-1 for no message).
func number(id string) int {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n < firstID {
		return -1
	}
	return int(n - firstID)
}

// answer keeps the channel's messages and answers an accepted request.
func (d *Discord) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	d.mu.Lock()
	defer d.mu.Unlock()
	var m *Message
	if r.Method == http.MethodPatch {
		id := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
		if m = d.messages.Get(number(id)); m == nil {
			return *discordError(http.StatusNotFound, 10008, "Unknown Message", nil)
		}
		m.Text, m.Body = text, append([]byte(nil), body...)
		m.Edits++
	} else {
		m = &Message{ID: strconv.FormatInt(firstID+int64(d.messages.Next()), 10), Text: text, Body: append([]byte(nil), body...)}
		d.messages.Add(m)
	}
	var sent struct {
		Content string          `json:"content"`
		Embeds  json.RawMessage `json:"embeds"`
	}
	_ = json.Unmarshal(body, &sent) // the check read it already
	if len(sent.Embeds) == 0 {
		sent.Embeds = json.RawMessage("[]")
	}
	msg, _ := json.Marshal(map[string]any{
		"id": m.ID, "type": 0, "content": sent.Content, "embeds": sent.Embeds, "channel_id": "1100000000000000001",
		"author":    map[string]any{"bot": true, "id": d.opts.ID, "username": "alertbridge"},
		"timestamp": "2026-11-23T10:05:00.000000+00:00", "webhook_id": d.opts.ID,
	})
	return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: string(msg)}
}

// NewDiscord starts a fake Discord webhook; its URL is the webhook URL.
func NewDiscord(t testing.TB, opts DiscordOptions) *Discord {
	if opts.ID == "" {
		opts.ID = "123456789012345678"
	}
	if opts.Token == "" {
		opts.Token = "dc-token"
	}
	d := &Discord{opts: opts}
	path := regexp.MustCompile(`^/api(?:/v[0-9]+)?/webhooks/([^/]+)/([^/]+)(/messages/[^/]+)?$`)
	webhook := notifytest.NewWindow(5, 2*time.Second)
	channel := notifytest.NewWindow(30, time.Minute)
	message := fmt.Sprintf(`{"id":"1300000000000000001","type":0,"content":"","channel_id":"1100000000000000001","author":{"bot":true,"id":%q,"username":"alertbridge"},"embeds":[],"timestamp":"2026-11-23T10:05:00.000000+00:00","webhook_id":%q}`, opts.ID, opts.ID)
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		if opts.Now != nil {
			now = opts.Now()
		}
		m := path.FindStringSubmatch(r.URL.Path)
		edit := m != nil && m[3] != ""
		switch {
		case !edit && r.Method != http.MethodPost, edit && r.Method != http.MethodPatch:
			return "", "method " + r.Method, discordError(http.StatusMethodNotAllowed, 0, "405: Method Not Allowed", nil)
		case m == nil:
			return "", "path " + r.URL.Path, discordError(http.StatusNotFound, 0, "404: Not Found", nil)
		case m[1] != opts.ID:
			return "", "unknown webhook id", discordError(http.StatusNotFound, 10015, "Unknown Webhook", nil)
		case m[2] != opts.Token:
			return "", "invalid webhook token", discordError(http.StatusUnauthorized, 50027, "Invalid Webhook Token", nil)
		}
		if reply := discordRateLimit(webhook, channel, now); reply != nil {
			return "", "rate limited: " + reply.Body, reply
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			return "", "Content-Type " + ct, discordError(http.StatusBadRequest, 50006, "Cannot send an empty message", nil)
		}
		var msg dcMessage
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&msg); err != nil {
			errs := dcErrors{}
			errs.add("_errors", "MODEL_TYPE_CONVERT", err.Error())
			return "", "invalid JSON: " + err.Error(), discordError(http.StatusBadRequest, 50035, "Invalid Form Body", errs)
		}
		if edit {
			for k := range r.URL.Query() {
				if k != "thread_id" {
					return "", "query parameter " + k + " in an edit", discordError(http.StatusBadRequest, 50035, "Invalid Form Body", nil)
				}
			}
			if msg.Username != nil || msg.AvatarURL != "" || msg.TTS || msg.ThreadName != "" || msg.AppliedTags != nil {
				return "", "an edit sets a key only a new message takes (username, avatar_url, tts, thread_name, applied_tags)",
					discordError(http.StatusBadRequest, 50035, "Invalid Form Body", nil)
			}
		}
		if errs := msg.validate(); len(errs) > 0 {
			return "", "invalid form body: " + errs.String(), discordError(http.StatusBadRequest, 50035, "Invalid Form Body", errs)
		}
		if msg.empty() {
			return "", "empty message", discordError(http.StatusBadRequest, 50006, "Cannot send an empty message", nil)
		}
		if v := msg.unexpectedPing(); v != "" {
			return "", v, &notifytest.Reply{Status: http.StatusOK, Body: message}
		}
		return msg.visible(), "", nil
	}
	d.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: message}, nil)
	// Discord answers 204 with no body unless asked to wait for the
	// message: serve through a writer that turns the 200 into that.
	d.Answer = d.answer
	inner := d.Fake
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.Query().Get("wait") != "true" {
			rw = &noContentWriter{ResponseWriter: rw}
		}
		inner.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	d.Server = srv
	d.URL = srv.URL + "/api/webhooks/" + opts.ID + "/" + opts.Token
	return d
}

// noContentWriter turns a 200 answer into 204 without a body.
type noContentWriter struct {
	http.ResponseWriter
	dropBody bool
}

func (w *noContentWriter) WriteHeader(code int) {
	if code == http.StatusOK {
		w.Header().Del("Content-Type")
		code, w.dropBody = http.StatusNoContent, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *noContentWriter) Write(b []byte) (int, error) {
	if w.dropBody {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// discordRateLimit records the request in the per-webhook and per-channel
// windows, or returns the 429 Discord answers when either is full.
func discordRateLimit(webhook, channel *notifytest.Window, now time.Time) *notifytest.Reply {
	limited := func(w *notifytest.Window, code int, msg, scope string) *notifytest.Reply {
		wait := w.Per() - now.Sub(w.Oldest())
		secs := math.Ceil(wait.Seconds()*1000) / 1000
		body := fmt.Sprintf(`{"message":%q,"retry_after":%.3f,"global":false`, msg, secs)
		if code != 0 {
			body += fmt.Sprintf(`,"code":%d`, code)
		}
		return &notifytest.Reply{Status: http.StatusTooManyRequests, Body: body + "}", Header: map[string]string{
			"Content-Type":            "application/json",
			"Retry-After":             strconv.Itoa(int(math.Ceil(secs))),
			"X-RateLimit-Limit":       strconv.Itoa(w.Max()),
			"X-RateLimit-Remaining":   "0",
			"X-RateLimit-Reset":       fmt.Sprintf("%.3f", float64(now.Add(wait).UnixMilli())/1000),
			"X-RateLimit-Reset-After": fmt.Sprintf("%.3f", secs),
			"X-RateLimit-Bucket":      "fake-" + scope,
			"X-RateLimit-Scope":       scope,
		}}
	}
	if !webhook.Allow(now) {
		return limited(webhook, 0, "You are being rate limited.", "user")
	}
	if !channel.Allow(now) {
		webhook.Forget() // not sent after all
		return limited(channel, 20028, "The write action you are performing on the channel has hit the write rate limit.", "shared")
	}
	return nil
}

// discordError is Discord's error answer.
func discordError(status, code int, msg string, errs dcErrors) *notifytest.Reply {
	b := map[string]any{"message": msg, "code": code}
	if len(errs) > 0 {
		b["errors"] = errs.tree()
	}
	body, _ := json.Marshal(b)
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: string(body)}
}

// dcErrors maps a dotted field path ("embeds.0.fields.6.value") to its
// error, rendered as Discord's nested {"embeds":{"0":{...{"_errors":[...]}}}}.
type dcErrors map[string][2]string

func (e dcErrors) add(path, code, msg string) {
	if _, dup := e[path]; !dup {
		e[path] = [2]string{code, msg}
	}
}

func (e dcErrors) tree() map[string]any {
	root := map[string]any{}
	for path, ce := range e {
		node := root
		for _, k := range strings.Split(path, ".") {
			if k == "_errors" {
				break
			}
			next, ok := node[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[k] = next
			}
			node = next
		}
		node["_errors"] = []map[string]string{{"code": ce[0], "message": ce[1]}}
	}
	return root
}

func (e dcErrors) String() string {
	keys := make([]string, 0, len(e))
	for k := range e {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+": "+e[k][0])
	}
	return strings.Join(parts, "; ")
}

// dcMessage is the documented webhook body (files aside).
type dcMessage struct {
	Content         string          `json:"content"`
	Username        *string         `json:"username"`
	AvatarURL       string          `json:"avatar_url"`
	TTS             bool            `json:"tts"`
	Embeds          []dcEmbed       `json:"embeds"`
	AllowedMentions *dcAllowed      `json:"allowed_mentions"`
	Components      json.RawMessage `json:"components"`
	Attachments     json.RawMessage `json:"attachments"`
	Flags           int             `json:"flags"`
	ThreadName      string          `json:"thread_name"`
	AppliedTags     []string        `json:"applied_tags"`
	Poll            json.RawMessage `json:"poll"`
}

type dcEmbed struct {
	Title       string `json:"title"`
	Type        string `json:"type"`
	Description string `json:"description"`
	URL         string `json:"url"`
	Timestamp   string `json:"timestamp"`
	Color       *int64 `json:"color"`
	Footer      *struct {
		Text    string `json:"text"`
		IconURL string `json:"icon_url"`
	} `json:"footer"`
	Image     *struct{ URL string } `json:"image"`
	Thumbnail *struct{ URL string } `json:"thumbnail"`
	Author    *struct {
		Name    string `json:"name"`
		URL     string `json:"url"`
		IconURL string `json:"icon_url"`
	} `json:"author"`
	Fields []struct {
		Name   string `json:"name"`
		Value  string `json:"value"`
		Inline bool   `json:"inline"`
	} `json:"fields"`
}

type dcAllowed struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users"`
	Roles       []string `json:"roles"`
	RepliedUser bool     `json:"replied_user"`
}

var dcSnowflake = regexp.MustCompile(`^[0-9]{1,20}$`)

// dcLen counts a text as Discord does: characters, outer whitespace trimmed.
func dcLen(s string) int { return utf8.RuneCountInString(strings.TrimSpace(s)) }

func (m *dcMessage) validate() dcErrors {
	errs := dcErrors{}
	maxLen := func(path, s string, limit int) int {
		n := dcLen(s)
		if n > limit {
			errs.add(path, "BASE_TYPE_MAX_LENGTH", fmt.Sprintf("Must be %d or fewer in length.", limit))
		}
		return n
	}
	required := func(path, s string) {
		if strings.TrimSpace(s) == "" {
			errs.add(path, "BASE_TYPE_REQUIRED", "This field is required")
		}
	}
	httpURL := func(path, s string) {
		if s == "" {
			return
		}
		u, err := url.Parse(s)
		switch {
		case err != nil || u.Host == "" || strings.ContainsAny(s, " \t\r\n"):
			errs.add(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")
		case u.Scheme != "http" && u.Scheme != "https":
			errs.add(path, "URL_TYPE_INVALID_SCHEME", fmt.Sprintf("Scheme %q is not supported. Scheme must be one of ('http', 'https').", u.Scheme))
		}
	}
	maxLen("content", m.Content, 2000)
	if m.Username != nil {
		lower := strings.ToLower(*m.Username)
		switch n := dcLen(*m.Username); {
		case n < 1 || n > 80:
			errs.add("username", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
		case strings.Contains(lower, "clyde") || strings.Contains(lower, "discord"):
			errs.add("username", "USERNAME_INVALID_CONTAINS", `Username cannot contain "clyde" or "discord"`)
		}
	}
	httpURL("avatar_url", m.AvatarURL)
	if len(m.Embeds) > 10 {
		errs.add("embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
	}
	total := 0
	for i, e := range m.Embeds {
		p := fmt.Sprintf("embeds.%d.", i)
		if e.Type != "" && e.Type != "rich" {
			errs.add(p+"type", "BASE_TYPE_CHOICES", "Value must be one of ('rich',).")
		}
		total += maxLen(p+"title", e.Title, 256)
		total += maxLen(p+"description", e.Description, 4096)
		httpURL(p+"url", e.URL)
		if e.Color != nil && (*e.Color < 0 || *e.Color > 0xFFFFFF) {
			errs.add(p+"color", "NUMBER_TYPE_MAX", "int value should be less than or equal to 16777215.")
		}
		if e.Timestamp != "" {
			if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
				errs.add(p+"timestamp", "DATE_TYPE_PARSE", "Could not interpret the value as a date. Should be ISO8601.")
			}
		}
		if e.Footer != nil {
			required(p+"footer.text", e.Footer.Text)
			total += maxLen(p+"footer.text", e.Footer.Text, 2048)
		}
		if e.Author != nil {
			required(p+"author.name", e.Author.Name)
			total += maxLen(p+"author.name", e.Author.Name, 256)
			httpURL(p+"author.url", e.Author.URL)
		}
		if len(e.Fields) > 25 {
			errs.add(p+"fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
		}
		for j, f := range e.Fields {
			fp := fmt.Sprintf("%sfields.%d.", p, j)
			required(fp+"name", f.Name)
			required(fp+"value", f.Value)
			total += maxLen(fp+"name", f.Name, 256)
			total += maxLen(fp+"value", f.Value, 1024)
		}
	}
	if total > 6000 {
		errs.add("embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
	}
	if a := m.AllowedMentions; a != nil {
		for i, p := range a.Parse {
			if p != "users" && p != "roles" && p != "everyone" {
				errs.add(fmt.Sprintf("allowed_mentions.parse.%d", i), "BASE_TYPE_CHOICES", "Value must be one of ('roles', 'users', 'everyone').")
			}
		}
		for kind, ids := range map[string][]string{"users": a.Users, "roles": a.Roles} {
			if len(ids) > 100 {
				errs.add("allowed_mentions."+kind, "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")
			}
			for i, id := range ids {
				if !dcSnowflake.MatchString(id) {
					errs.add(fmt.Sprintf("allowed_mentions.%s.%d", kind, i), "NUMBER_TYPE_COERCE", fmt.Sprintf("Value %q is not snowflake.", id))
				}
			}
			if len(ids) > 0 && slices.Contains(a.Parse, kind) {
				errs.add("allowed_mentions", "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE", fmt.Sprintf("parse:[%q] and %s: [ids...] are mutually exclusive.", kind, kind))
			}
		}
	}
	return errs
}

// empty reports a message with nothing to show.
func (m *dcMessage) empty() bool {
	return strings.TrimSpace(m.Content) == "" && len(m.Embeds) == 0 && len(m.Components) == 0 && len(m.Poll) == 0 && len(m.Attachments) == 0
}

var (
	dcMassMention = regexp.MustCompile(`@(everyone|here)`)
	dcUserMention = regexp.MustCompile(`<@!?[0-9]+>`)
	dcRoleMention = regexp.MustCompile(`<@&[0-9]+>`)
)

// unexpectedPing describes a ping that the text alone could cause,
// beyond the users and @everyone that allowed_mentions lists explicitly.
func (m *dcMessage) unexpectedPing() string {
	a := m.AllowedMentions
	if a == nil {
		all := m.texts()
		if dcMassMention.MatchString(all) || dcUserMention.MatchString(all) || dcRoleMention.MatchString(all) {
			return "the text holds @everyone, @here or <@…> and allowed_mentions is missing: text from labels could ping"
		}
		return ""
	}
	// Only the content pings; embeds never do.
	if slices.Contains(a.Parse, "users") && dcUserMention.MatchString(m.Content) {
		return `allowed_mentions parses "users": any <@id> in the content pings, label values included`
	}
	if slices.Contains(a.Parse, "roles") && dcRoleMention.MatchString(m.Content) {
		return `allowed_mentions parses "roles": any <@&id> in the content pings, label values included`
	}
	return ""
}

// texts joins the raw text of the content and every embed.
func (m *dcMessage) texts() string {
	parts := []string{m.Content}
	for _, e := range m.Embeds {
		if e.Author != nil {
			parts = append(parts, e.Author.Name)
		}
		parts = append(parts, e.Title, e.Description)
		for _, f := range e.Fields {
			parts = append(parts, f.Name, f.Value)
		}
		if e.Footer != nil {
			parts = append(parts, e.Footer.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// visible is what a reader sees: the texts with markdown escapes resolved.
func (m *dcMessage) visible() string { return notifytest.UnescapeMarkdown(m.texts()) }
