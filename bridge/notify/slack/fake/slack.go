// Package fake is a strict fake Slack for tests, an incoming webhook
// (Slack) or the Web API a bot posts through (API): a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance and
// APIConformance are the type's cases in the bridge's conformance suite.
package fake

import (
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// SlackOptions configure a fake Slack incoming webhook.
type SlackOptions struct {
	// Path is the webhook's secret path (default
	// "/services/T0000/B0000/slack-token"); any other path is answered
	// 404 no_service.
	Path string
	// Burst is how many messages Slack lets through at once before its
	// one-per-second limit applies (default 1). Slack allows "short
	// bursts" without sizing them.
	Burst int
}

// Slack is a fake Slack incoming webhook enforcing the contract: POST to
// the webhook's path (else 404 no_service); JSON, or a form with payload=
// (else 400 invalid_payload); text, blocks or attachments (else 400
// no_text); at most 100 attachments (400 too_many_attachments); valid
// blocks within Block Kit's limits (else 400 invalid_blocks): at most 50,
// header plain_text of 1 to 150 characters, section text up to 3,000 and
// at most 10 fields of up to 2,000, context of 1 to 10 elements; and a
// token bucket of one message per second (429 with Retry-After). Text over
// 40,000 characters is a violation answered "ok", as Slack truncates it
// silently. Accepted messages are answered 200 "ok" as text/html, and
// their visible text is the blocks' texts (else the text), with mrkdwn's
// three entities resolved.
type Slack struct {
	*notifytest.Fake
	opts SlackOptions
}

// NewSlack starts a fake Slack incoming webhook; its URL carries the path.
func NewSlack(t testing.TB, opts SlackOptions) *Slack {
	if opts.Path == "" {
		opts.Path = "/services/T0000/B0000/slack-token"
	}
	if opts.Burst <= 0 {
		opts.Burst = 1
	}
	s := &Slack{opts: opts}
	bucket := &slackBucket{rate: 1, burst: float64(opts.Burst)}
	errReply := func(status int, answer string) *notifytest.Reply {
		return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "text/html"}, Body: answer}
	}
	check := func(r *http.Request, body []byte, now time.Time) (string, string, *notifytest.Reply) {
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, errReply(http.StatusBadRequest, "invalid_payload")
		case r.URL.Path != opts.Path:
			return "", "unknown webhook path", errReply(http.StatusNotFound, "no_service")
		}
		var problem string
		if body, problem = notifytest.SlackStylePayload(r, body); problem != "" {
			return "", problem, errReply(http.StatusBadRequest, "invalid_payload")
		}
		var m struct {
			Text        string            `json:"text"`
			Blocks      []json.RawMessage `json:"blocks"`
			Attachments []json.RawMessage `json:"attachments"`
		}
		if err := json.Unmarshal(body, &m); err != nil {
			return "", "invalid JSON: " + err.Error(), errReply(http.StatusBadRequest, "invalid_payload")
		}
		if strings.TrimSpace(m.Text) == "" && len(m.Blocks) == 0 && len(m.Attachments) == 0 {
			return "", "no text, blocks or attachments", errReply(http.StatusBadRequest, "no_text")
		}
		if len(m.Attachments) > 100 {
			return "", fmt.Sprintf("%d attachments", len(m.Attachments)), errReply(http.StatusBadRequest, "too_many_attachments")
		}
		visible, problem := slackBlocks(m.Blocks)
		if problem != "" {
			return "", problem, errReply(http.StatusBadRequest, "invalid_blocks")
		}
		if n := utf8.RuneCountInString(m.Text); n > 40000 {
			return "", fmt.Sprintf("text is %d characters; Slack truncates it", n), &notifytest.Reply{Status: http.StatusOK, Body: "ok"}
		}
		if wait, ok := bucket.take(now); !ok {
			secs := strconv.Itoa(int(math.Ceil(wait.Seconds())))
			return "", "more than one message per second", &notifytest.Reply{Status: http.StatusTooManyRequests, Header: map[string]string{"Retry-After": secs}, Body: "rate_limited"}
		}
		if len(m.Blocks) == 0 {
			visible = UnescapeMrkdwn(m.Text)
		}
		return visible, "", nil
	}
	s.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/html"}, Body: "ok"}, func(r notifytest.Reply) bool {
		return r.Status == http.StatusOK && r.Body == "ok"
	})
	s.URL = s.Server.URL + opts.Path
	return s
}

// slackText is a Block Kit text object or context element.
type slackText struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// visible returns what a reader sees of t: mrkdwn has its entities
// resolved; plain_text is shown as sent.
func (t slackText) visible() string {
	if t.Type == "mrkdwn" {
		return UnescapeMrkdwn(t.Text)
	}
	return t.Text
}

// slackBlocks validates blocks as Slack does and returns their visible
// text, or what makes Slack answer invalid_blocks.
func slackBlocks(blocks []json.RawMessage) (string, string) {
	if len(blocks) > 50 {
		return "", fmt.Sprintf("%d blocks", len(blocks))
	}
	textOK := func(t slackText, max int) bool {
		n := utf8.RuneCountInString(t.Text)
		return (t.Type == "mrkdwn" || t.Type == "plain_text") && n >= 1 && n <= max
	}
	var lines []string
	for i, raw := range blocks {
		var typed struct {
			Type string `json:"type"`
		}
		if err := json.Unmarshal(raw, &typed); err != nil {
			return "", fmt.Sprintf("blocks[%d]: %v", i, err)
		}
		var b struct {
			Text     *slackText  `json:"text"`
			Fields   []slackText `json:"fields"`
			Elements []slackText `json:"elements"`
		}
		switch typed.Type {
		case "header", "section", "context":
			if err := json.Unmarshal(raw, &b); err != nil {
				return "", fmt.Sprintf("blocks[%d]: %v", i, err)
			}
		case "divider", "image", "actions", "rich_text", "markdown", "file", "video", "input":
			continue
		default:
			return "", fmt.Sprintf("blocks[%d]: unknown type %q", i, typed.Type)
		}
		switch typed.Type {
		case "header":
			if b.Text == nil || b.Text.Type != "plain_text" || !textOK(*b.Text, 150) {
				return "", fmt.Sprintf("blocks[%d]: header text must be plain_text of 1 to 150 characters", i)
			}
			lines = append(lines, b.Text.visible())
		case "section":
			if b.Text == nil && len(b.Fields) == 0 {
				return "", fmt.Sprintf("blocks[%d]: section without text or fields", i)
			}
			if b.Text != nil {
				if !textOK(*b.Text, 3000) {
					return "", fmt.Sprintf("blocks[%d]: section text must be 1 to 3000 characters of mrkdwn or plain_text", i)
				}
				lines = append(lines, b.Text.visible())
			}
			if len(b.Fields) > 10 {
				return "", fmt.Sprintf("blocks[%d]: %d fields", i, len(b.Fields))
			}
			for j, f := range b.Fields {
				if !textOK(f, 2000) {
					return "", fmt.Sprintf("blocks[%d].fields[%d]: must be 1 to 2000 characters", i, j)
				}
				lines = append(lines, f.visible())
			}
		case "context":
			if len(b.Elements) == 0 || len(b.Elements) > 10 {
				return "", fmt.Sprintf("blocks[%d]: context with %d elements", i, len(b.Elements))
			}
			for j, e := range b.Elements {
				if e.Type == "image" {
					continue
				}
				if !textOK(e, 3000) {
					return "", fmt.Sprintf("blocks[%d].elements[%d]: must be 1 to 3000 characters", i, j)
				}
				lines = append(lines, e.visible())
			}
		}
	}
	return strings.Join(lines, "\n"), ""
}

// UnescapeMrkdwn resolves the three entities Slack's mrkdwn escapes (&amp;
// &lt; &gt;), in one pass, to show what a reader sees.
func UnescapeMrkdwn(s string) string {
	return strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">").Replace(s)
}

// slackBucket is a token bucket as Slack describes its limit: rate
// messages per second, bursts up to burst.
type slackBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

// take spends a token at now, or reports how long until one is available.
func (b *slackBucket) take(now time.Time) (time.Duration, bool) {
	if b.last.IsZero() {
		b.tokens = b.burst
	} else if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(b.burst, b.tokens+elapsed*b.rate)
	}
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / b.rate * float64(time.Second)), false
}
