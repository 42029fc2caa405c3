// Package fake is a strict fake Mattermost incoming webhook for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"cmp"
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
	"unicode/utf8"
)

// MattermostOptions configure a fake Mattermost incoming webhook.
type MattermostOptions struct {
	// Key is the webhook's key (default "mm-hook-key").
	Key string
	// Disabled answers every request as a server with incoming webhooks
	// turned off: 501 web.incoming_webhook.disabled.app_error.
	Disabled bool
	// PerSecond turns on the server's rate limiting (off by default, as
	// in Mattermost): at most PerSecond requests in any second, then 429.
	PerSecond int
	// Token is the bot or personal access token the REST API accepts
	// (default "mm-bot-token-0123456789abcdef"); ChannelID the one channel
	// its account may post to (default "ch00000000000000000000ops0").
	Token, ChannelID string
}

// Mattermost is a fake Mattermost incoming webhook enforcing the
// contract: POST to /hooks/{key} (an unknown key is 400
// web.incoming_webhook.invalid.app_error); JSON, or a form with payload=
// (else 400 web.incoming_webhook.parse.app_error, as for invalid JSON or
// wrongly typed fields); a text or attachments (else 400
// web.incoming_webhook.text.app_error). A text over 16,383 characters is
// a violation answered "ok", as Mattermost splits it into several posts.
// Accepted messages are answered 200 "ok" as text/plain; their visible
// text is the text and the attachments' pretext, title, text and fields,
// rendered as Markdown (backslash escapes and entities resolved), except a
// title with a title_link, which Mattermost's web app shows as is.
//
// It also serves the REST API's posts (see api.go): ServerURL is the
// server's address for a target in the API mode.
type Mattermost struct {
	*notifytest.Fake
	opts MattermostOptions
	// ServerURL is the server's address (the API mode's url).
	ServerURL string

	mu    sync.Mutex
	posts notifytest.MessageLog[Post]
}

// NewMattermost starts a fake Mattermost server; its URL is the webhook's.
func NewMattermost(t testing.TB, opts MattermostOptions) *Mattermost {
	opts.Key = cmp.Or(opts.Key, "mm-hook-key")
	opts.Token = cmp.Or(opts.Token, "mm-bot-token-0123456789abcdef")
	opts.ChannelID = cmp.Or(opts.ChannelID, "ch00000000000000000000ops0")
	m := &Mattermost{opts: opts}
	perSecond := notifytest.NewWindow(opts.PerSecond, time.Second)
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if !perSecond.Allow(now) {
				return "", "more than the server's rate limit", rateLimited(opts.PerSecond)
			}
			return m.checkAPI(r, body)
		}
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
		case !strings.HasPrefix(r.URL.Path, "/hooks/"):
			return "", "path " + r.URL.Path, &notifytest.Reply{Status: http.StatusNotFound}
		case opts.Disabled:
			return "", "incoming webhooks are disabled", appError(http.StatusNotImplemented, "web.incoming_webhook.disabled.app_error", "Incoming webhooks have been disabled by the system admin.")
		case r.URL.Path != "/hooks/"+opts.Key:
			return "", "unknown webhook key", appError(http.StatusBadRequest, "web.incoming_webhook.invalid.app_error", "Invalid webhook.")
		}
		parseErr := appError(http.StatusBadRequest, "web.incoming_webhook.parse.app_error", "Unable to parse incoming data.")
		var problem string
		if body, problem = notifytest.SlackStylePayload(r, body); problem != "" {
			return "", problem, parseErr
		}
		var msg struct {
			Text        string       `json:"text"`
			Channel     string       `json:"channel"`
			Username    string       `json:"username"`
			IconURL     string       `json:"icon_url"`
			IconEmoji   string       `json:"icon_emoji"`
			Attachments []attachment `json:"attachments"`
		}
		if err := json.Unmarshal(body, &msg); err != nil {
			return "", "invalid JSON: " + err.Error(), parseErr
		}
		if strings.TrimSpace(msg.Text) == "" && len(msg.Attachments) == 0 {
			return "", "no text or attachments", appError(http.StatusBadRequest, "web.incoming_webhook.text.app_error", "No text specified.")
		}
		if !perSecond.Allow(now) {
			return "", "more than the server's rate limit", rateLimited(opts.PerSecond)
		}
		if n := utf8.RuneCountInString(msg.Text); n > 16383 {
			return "", fmt.Sprintf("text is %d characters; Mattermost splits it into several posts", n), &notifytest.Reply{Status: http.StatusOK, Body: "ok"}
		}
		return visible(msg.Text, msg.Attachments), "", nil
	}
	m.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}, func(r notifytest.Reply) bool {
		return (r.Status == http.StatusOK && r.Body == "ok") || ((r.Status == http.StatusOK || r.Status == http.StatusCreated) && strings.HasPrefix(r.Body, "{"))
	})
	m.Answer = m.answer
	m.ServerURL = m.Server.URL
	m.URL = m.Server.URL + "/hooks/" + opts.Key
	return m
}

// appError is a Mattermost error answer.
func appError(status int, id, message string) *notifytest.Reply {
	b, _ := json.Marshal(map[string]any{"id": id, "message": message, "detailed_error": "", "request_id": "fake", "status_code": status})
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// rateLimited is the server's rate limiter's answer.
func rateLimited(perSecond int) *notifytest.Reply {
	return &notifytest.Reply{
		Status: http.StatusTooManyRequests,
		Header: map[string]string{"Retry-After": "1", "X-Ratelimit-Limit": fmt.Sprint(perSecond), "X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "1"},
		Body:   "limit exceeded",
	}
}

// attachment is the part of a message attachment the fake reads.
type attachment struct {
	Fallback  string `json:"fallback"`
	Color     string `json:"color"`
	Pretext   string `json:"pretext"`
	Title     string `json:"title"`
	TitleLink string `json:"title_link"`
	Text      string `json:"text"`
	Footer    string `json:"footer"`
	Fields    []struct {
		Title string `json:"title"`
		Value any    `json:"value"`
		Short bool   `json:"short"`
	} `json:"fields"`
}

// visible is what a reader sees of a post's text and attachments.
func visible(text string, attachments []attachment) string {
	lines := []string{RenderCommonMark(text)}
	for _, a := range attachments {
		if a.Pretext != "" {
			lines = append(lines, RenderCommonMark(a.Pretext))
		}
		switch {
		case a.Title != "" && a.TitleLink != "":
			lines = append(lines, a.Title) // the web app shows a linked title as is
		case a.Title != "":
			lines = append(lines, RenderCommonMark(a.Title))
		}
		if a.Text != "" {
			lines = append(lines, RenderCommonMark(a.Text))
		}
		for _, f := range a.Fields {
			lines = append(lines, RenderCommonMark(f.Title)+": "+RenderCommonMark(fmt.Sprint(f.Value)))
		}
		if a.Footer != "" {
			lines = append(lines, a.Footer)
		}
	}
	return strings.Join(lines, "\n")
}

// commonMarkEntity is an HTML entity or numeric character reference, as CommonMark
// recognizes them.
var commonMarkEntity = regexp.MustCompile(`^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)

// RenderCommonMark shows what a reader sees of CommonMark text as far as
// escaping goes: a backslash before ASCII punctuation shows the character
// alone, and entities not so escaped show as the character they name.
func RenderCommonMark(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0:
			i++
			b.WriteByte(s[i])
		case s[i] == '&':
			if e := commonMarkEntity.FindString(s[i:]); e != "" {
				b.WriteString(html.UnescapeString(e))
				i += len(e) - 1
				continue
			}
			b.WriteByte('&')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
