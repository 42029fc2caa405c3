// Package teams delivers groups to Microsoft Teams channels through a Power
// Automate "Workflows" webhook (the Teams Workflows template "Post to a
// channel when a webhook request is received"): an Adaptive Card (version
// 1.4, full width) in a Bot Framework style message. Its contract (URL,
// keys, limits, answers, mentions, a sample) is documented in
// docs/targets.md#microsoft-teams.
package teams

import (
	"errors"
	"fmt"
	json "github.com/goccy/go-json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

const (
	// MaxCardBytes is the message size Teams enforces: 28 KB, "max allowed
	// size is 28672 bytes" in the flow run's MessageSizeExceeded error.
	MaxCardBytes = 28672
	// MaxBodyBytes is the bridge's limit on the whole request body, kept
	// below MaxCardBytes: Teams measures the message it builds from the
	// card (its properties, mention entities and envelope included), not
	// the bytes the bridge sends, so 672 bytes are left for what it adds.
	// The card alone is always smaller than the body that wraps it.
	MaxBodyBytes = 28000
)

// ContentType is the attachment content type of an Adaptive Card.
const ContentType = "application/vnd.microsoft.card.adaptive"

// Preset is the preset body template.
const Preset = "teams.default.body"

// Options are the teams target's own keys: only the common ones.
type Options struct {
	chat.Common `yaml:",inline"`
}

// Validate checks the options. Webhooks cannot mention everyone, and
// Teams mentions by user id (Entra object id or UPN), never by phone
// number; an id must not contain angle brackets or spaces, which would
// break the <at>…</at> tag the mention is matched by.
func (o *Options) Validate() error {
	var errs []error
	if m := o.Mention; m != nil {
		if m.All {
			errs = append(errs, errors.New("mention.all: Teams webhooks cannot mention a channel or team; list users in mention.users"))
		}
		errs = append(errs, m.CheckUsers("Teams", "Entra object ids or user principal names in mention.users", checkID)...)
	}
	if err := o.Common.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func checkID(id string) error {
	if strings.ContainsAny(id, "<> \t\r\n") {
		return fmt.Errorf("%q is not a Teams user id (an Entra object id or a user principal name such as alice@example.com)", id)
	}
	return nil
}

type platform struct {
	url *url.URL
	sig string
	now func() time.Time
}

// New builds a Teams notifier.
func New(s notify.Settings) (*chat.Notifier, error) {
	opts, err := chat.OptionsOf[Options](&s)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return nil, errors.New("url is not a valid URL")
	}
	p := &platform{url: u, sig: u.Query().Get("sig"), now: s.Clock()}
	return chat.New(s, Preset, p, &opts.Common)
}

// CheckURL refuses the retired Office 365 connector URLs: connectors
// stopped working at the end of 2025, and Teams no longer lets anyone
// create them.
func CheckURL(u *url.URL) error {
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	path := strings.ToLower(u.Path)
	if host == "webhook.office.com" || strings.HasSuffix(host, ".webhook.office.com") ||
		strings.Contains(path, "/webhookb2/") || strings.Contains(path, "/incomingwebhook/") {
		return errors.New(`this is a retired Office 365 connector ("Incoming Webhook") URL, which Teams no longer accepts; ` +
			`in the Teams channel, create a Workflows webhook from the template "Post to a channel when a webhook request is received" ` +
			`and use the URL its trigger shows (…/triggers/manual/paths/invoke?…&sig=…)`)
	}
	return nil
}

// message is the part of the body the contract concerns.
type message struct {
	Type        string `json:"type"`
	Attachments []struct {
		ContentType string          `json:"contentType"`
		Content     json.RawMessage `json:"content"`
	} `json:"attachments"`
}

// card is the part of an Adaptive Card the checks read.
type card struct {
	Type    string          `json:"type"`
	Body    json.RawMessage `json:"body"`
	MSTeams *struct {
		Entities []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"entities"`
	} `json:"msteams"`
}

// Check is the platform's Check.
func (p *platform) Check(body []byte) error { return Check(body) }

// Check enforces the size limit and the schema the Workflows template
// needs, and that every mention is written in a TextBlock, as Teams
// requires for it to notify anyone.
func Check(body []byte) error {
	if len(body) > MaxBodyBytes {
		return &chat.LimitError{What: "body", Size: len(body), Limit: MaxBodyBytes, Unit: "bytes"}
	}
	var m message
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Teams message: %v", err)
	}
	if m.Type != "message" {
		return fmt.Errorf(`body has type %q, want "message"`, m.Type)
	}
	if len(m.Attachments) == 0 {
		return errors.New("body has no attachments: the Workflows template posts each attachment as a card")
	}
	for i, a := range m.Attachments {
		if a.ContentType != ContentType {
			return fmt.Errorf("attachments[%d].contentType is %q, want %q", i, a.ContentType, ContentType)
		}
		var c card
		if err := json.Unmarshal(a.Content, &c); err != nil || c.Type != "AdaptiveCard" {
			return fmt.Errorf(`attachments[%d].content is not an Adaptive Card (type "AdaptiveCard")`, i)
		}
		if c.MSTeams == nil {
			continue
		}
		texts := TextBlocks(c.Body)
		for j, e := range c.MSTeams.Entities {
			if e.Type == "mention" && !containsAny(texts, e.Text) {
				return fmt.Errorf("attachments[%d].content.msteams.entities[%d]: the mention %q is in no TextBlock, so Teams would ignore it", i, j, e.Text)
			}
		}
	}
	return nil
}

func containsAny(texts []string, s string) bool {
	for _, t := range texts {
		if strings.Contains(t, s) {
			return true
		}
	}
	return false
}

// TextBlocks returns the text of every TextBlock in an Adaptive Card
// element tree (body, container items, columns), in document order.
func TextBlocks(raw json.RawMessage) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case []any:
			for _, e := range v {
				walk(e)
			}
		case map[string]any:
			if t, _ := v["type"].(string); t == "TextBlock" {
				if s, ok := v["text"].(string); ok {
					out = append(out, s)
				}
			}
			for _, k := range []string{"items", "columns", "body"} {
				walk(v[k])
			}
		}
	}
	walk(v)
	return out
}

// Request posts the body as JSON to the workflow's trigger URL.
func (p *platform) Request(body []byte) (*notify.Request, error) {
	return &notify.Request{
		Method: http.MethodPost, URL: p.url.String(), Body: body,
		Header: http.Header{"Content-Type": []string{"application/json"}},
	}, nil
}

// apiError is the Power Automate / Logic Apps error envelope.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// Classify reads the status and the error envelope's code.
func (p *platform) Classify(resp *notify.Response) notify.Result {
	status := resp.StatusCode
	if status >= 200 && status < 300 {
		return notify.OK()
	}
	var ans apiError
	_ = json.Unmarshal(resp.Body, &ans) // an unparsable body leaves the zero answer
	code := ans.Error.Code
	detail := p.redact(notify.Snippet(resp.Body))
	switch {
	case status == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, notify.RetryAfter(resp.Header, p.now()), "Teams Workflows HTTP 429 (throttled): %s", detail)
	case status >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Teams Workflows HTTP %d: %s", status, detail)
	case status == http.StatusUnauthorized:
		return notify.Failed(notify.ReasonAuthError, "Teams Workflows HTTP 401 (the URL's sig is missing or wrong; copy the URL again from the workflow's trigger): %s", detail)
	case status == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Teams Workflows HTTP 403: %s", detail)
	case status == http.StatusNotFound:
		return notify.Failed(notify.ReasonAuthError, "Teams Workflows HTTP 404 (the workflow or its trigger no longer exists, or the URL is incomplete): %s", detail)
	case status == http.StatusBadRequest && code == "DirectApiRequestHasMoreThanOneAuthorization":
		return notify.Failed(notify.ReasonAuthError, "Teams Workflows HTTP 400 (the URL's sig must be the only authorization: remove any Authorization header or http_config authentication): %s", detail)
	case status == http.StatusBadRequest:
		return notify.Failed(notify.ReasonIMRejected, "Teams Workflows HTTP 400 (the workflow refused the request): %s", detail)
	case status == http.StatusRequestEntityTooLarge:
		return notify.Failed(notify.ReasonTooLarge, "Teams Workflows HTTP 413: %s", detail)
	}
	return notify.Failed(notify.ReasonClientError, "Teams Workflows HTTP %d: %s", status, detail)
}

// redact keeps the SAS signature out of messages, should an answer echo it.
func (p *platform) redact(s string) string {
	if p.sig == "" {
		return s
	}
	s = strings.ReplaceAll(s, p.sig, "<sig>")
	return strings.ReplaceAll(s, url.QueryEscape(p.sig), "<sig>")
}
