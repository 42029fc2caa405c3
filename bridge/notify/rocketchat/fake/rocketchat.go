// Package fake is a strict fake Rocket.Chat incoming webhook for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"cmp"
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf16"
)

// RocketChatOptions configure a fake Rocket.Chat incoming webhook.
type RocketChatOptions struct {
	// ID and Token are the integration's (defaults "rc-integration",
	// "rc-token").
	ID, Token string
	// UserID and AuthToken are the account and personal access token the
	// REST API accepts (defaults "rcBotUserId0000x", "rc-auth-token-0123456789");
	// RoomID the one room the account may post to (default "rcOpsRoom00000000").
	UserID, AuthToken, RoomID string
}

// RocketChat is a fake Rocket.Chat incoming webhook enforcing the
// contract: POST to /hooks/{id}/{token} (else 404 {"success":false,
// "error":"Invalid integration id or token provided."}); JSON, or a form
// with payload= (else 400 success:false); a text or attachments; string
// fields typed as Rocket.Chat validates them, attachment fields with a
// title and a value; a text within Message_MaxAllowedSize (5,000 UTF-16
// code units, as JavaScript counts; 400 error-message-size-exceeded); and
// the REST rate limiter's 10 calls per 60 s (429 with X-RateLimit-* and
// the limiter's "You must wait N seconds" error). Accepted messages are
// answered 200 {"success":true}. The visible text is the message text as
// typed (Rocket.Chat's message parser has no escapes), attachment titles
// as typed, and attachment text (unless mrkdwn_in leaves it out) and
// fields rendered as Rocket.Chat's marked renders them after
// HTML-escaping: backslash escapes resolved, except before < > & which
// show as "&lt;" "&gt;" "&amp;".
//
// It also serves the REST API's chat.postMessage (see api.go): ServerURL
// is the server's address for a target in the API mode.
type RocketChat struct {
	*notifytest.Fake
	opts RocketChatOptions
	// ServerURL is the server's address (the API mode's url).
	ServerURL string

	mu       sync.Mutex
	messages notifytest.MessageLog[Message]
}

// NewRocketChat starts a fake Rocket.Chat server; its URL is the
// webhook's.
func NewRocketChat(t testing.TB, opts RocketChatOptions) *RocketChat {
	opts.ID = cmp.Or(opts.ID, "rc-integration")
	opts.Token = cmp.Or(opts.Token, "rc-token")
	opts.UserID = cmp.Or(opts.UserID, "rcBotUserId0000x")
	opts.AuthToken = cmp.Or(opts.AuthToken, "rc-auth-token-0123456789")
	opts.RoomID = cmp.Or(opts.RoomID, "rcOpsRoom00000000")
	rc := &RocketChat{opts: opts}
	hooks, api := notifytest.NewWindow(rateLimit, ratePer), notifytest.NewWindow(rateLimit, ratePer)
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			return rc.checkAPI(r, body, now, api)
		}
		if r.URL.Path != "/hooks/"+opts.ID+"/"+opts.Token {
			return "", "unknown integration id or token", failure(http.StatusNotFound, "Invalid integration id or token provided.")
		}
		if reply := limited(hooks, now); reply != nil {
			return "", "more than 10 calls in 60 s", reply
		}
		if r.Method != http.MethodPost {
			return "", "method " + r.Method, failure(http.StatusBadRequest, "method "+r.Method)
		}
		var problem string
		if body, problem = notifytest.SlackStylePayload(r, body); problem != "" {
			if problem == "form without payload" {
				return "", problem, failure(http.StatusBadRequest, "payload is missing")
			}
			return "", problem, failure(http.StatusBadRequest, "unsupported content type")
		}
		text, _, violation, reply := checkMessage(body)
		return text, violation, reply
	}
	rc.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"success":true}`}, func(r notifytest.Reply) bool {
		var ans struct{ Success bool }
		return r.Status == http.StatusOK && json.Unmarshal([]byte(r.Body), &ans) == nil && ans.Success
	})
	rc.Answer = rc.answer
	rc.ServerURL = rc.Server.URL
	rc.URL = rc.Server.URL + "/hooks/" + opts.ID + "/" + opts.Token
	return rc
}

// The REST API rate limiter's default: 10 calls per 60 s per client and
// route.
const (
	rateLimit = 10
	ratePer   = time.Minute
)

// failure is Rocket.Chat's {"success":false,"error":…} answer.
func failure(status int, msg string) *notifytest.Reply {
	b, _ := json.Marshal(map[string]any{"success": false, "error": msg})
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}

// limited counts a call to a route (good or bad, as the limiter does) and
// returns the limiter's 429 when it is one too many.
func limited(calls *notifytest.Window, now time.Time) *notifytest.Reply {
	if calls.Allow(now) {
		return nil
	}
	wait := calls.Oldest().Add(ratePer).Sub(now)
	reply := failure(http.StatusTooManyRequests, fmt.Sprintf("Error, too many requests. Please slow down. You must wait %d seconds before trying this endpoint again. [error-too-many-requests]", int(math.Ceil(wait.Seconds()))))
	reply.Header["X-RateLimit-Limit"] = strconv.Itoa(rateLimit)
	reply.Header["X-RateLimit-Remaining"] = "0"
	reply.Header["X-RateLimit-Reset"] = strconv.FormatInt(now.Add(wait).UnixMilli(), 10)
	return reply
}

// message is the part of a posted message the fake reads.
type message struct {
	Text        string `json:"text"`
	Alias       string `json:"alias"`
	Emoji       string `json:"emoji"`
	Avatar      string `json:"avatar"`
	Channel     string `json:"channel"`
	RoomID      string `json:"roomId"`
	TMID        string `json:"tmid"`
	Attachments []struct {
		Color     string    `json:"color"`
		Pretext   string    `json:"pretext"`
		Title     string    `json:"title"`
		TitleLink string    `json:"title_link"`
		Text      string    `json:"text"`
		MrkdwnIn  *[]string `json:"mrkdwn_in"`
		Fields    []struct {
			Short bool   `json:"short"`
			Title string `json:"title"`
			Value string `json:"value"`
		} `json:"fields"`
	} `json:"attachments"`
}

// checkMessage validates a message, from the webhook or chat.postMessage,
// and returns what a reader sees of it.
func checkMessage(body []byte) (string, *message, string, *notifytest.Reply) {
	var msg message
	if err := json.Unmarshal(body, &msg); err != nil {
		return "", nil, "invalid JSON: " + err.Error(), failure(http.StatusBadRequest, err.Error())
	}
	if strings.TrimSpace(msg.Text) == "" && len(msg.Attachments) == 0 {
		return "", nil, "no text or attachments", failure(http.StatusBadRequest, "error-invalid-message")
	}
	if n := len(utf16.Encode([]rune(msg.Text))); n > 5000 {
		return "", nil, fmt.Sprintf("text is %d UTF-16 units", n), failure(http.StatusBadRequest, "error-message-size-exceeded")
	}
	lines := []string{msg.Text}
	for i, a := range msg.Attachments {
		markdown := []string{"text", "pretext"} // Rocket.Chat's default
		if a.MrkdwnIn != nil {
			markdown = *a.MrkdwnIn
		}
		show := func(field, s string) string {
			for _, m := range markdown {
				if m == field {
					return RenderRocketChatMarked(s)
				}
			}
			return s
		}
		for _, s := range []string{show("pretext", a.Pretext), a.Title, show("text", a.Text)} {
			if s != "" {
				lines = append(lines, s)
			}
		}
		for j, f := range a.Fields {
			if f.Title == "" || f.Value == "" {
				return "", nil, fmt.Sprintf("attachments[%d].fields[%d] without a title or value", i, j), failure(http.StatusBadRequest, "Invalid attachment field, title and value is required")
			}
			lines = append(lines, RenderRocketChatMarked(f.Title)+": "+RenderRocketChatMarked(f.Value))
		}
	}
	return strings.Join(lines, "\n"), &msg, "", nil
}

// RenderRocketChatMarked shows what a reader sees of attachment Markdown
// as far as escaping goes. Rocket.Chat HTML-escapes the text, then marked
// resolves backslash escapes of ASCII punctuation: "\<" has become
// "\&lt;", whose escaped "&" leaves "&lt;" showing literally; entities are
// never decoded, since the source's "&" was escaped first.
func RenderRocketChatMarked(s string) string {
	shown := map[byte]string{'<': "&lt;", '>': "&gt;", '&': "&amp;"}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~", s[i+1]) >= 0 {
			i++
			if e, ok := shown[s[i]]; ok {
				b.WriteString(e)
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
