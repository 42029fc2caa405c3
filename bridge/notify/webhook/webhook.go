// Package webhook delivers groups to generic JSON webhooks. The body is the
// target's template (by default the group's HertzBeat-style records as a
// JSON array); it is checked to be valid JSON before anything is sent.
// With a secret, requests are signed per the Standard Webhooks spec.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// DefaultBodyTemplate is the preset body.
const DefaultBodyTemplate = "webhook.default.body"

// Notifier is the generic webhook integration.
type Notifier struct {
	s      notify.Settings
	body   string
	signer *signer // nil without a secret
}

var _ notify.Notifier = (*Notifier)(nil)

// New builds a webhook notifier. The body template must exist in the set.
func New(s notify.Settings) (*Notifier, error) {
	body := s.BodyTemplate
	if body == "" {
		body = DefaultBodyTemplate
	}
	if s.Templates == nil || !s.Templates.Has(body) {
		return nil, fmt.Errorf("template %q is not defined", body)
	}
	for h, name := range s.HeaderTemplates {
		if !s.Templates.Has(name) {
			return nil, fmt.Errorf("header %s: template %q is not defined", h, name)
		}
	}
	n := &Notifier{s: s, body: body}
	if s.Secret != "" {
		signer, err := newSigner(s.Secret)
		if err != nil {
			return nil, err
		}
		n.signer = signer
	}
	return n, nil
}

// Build renders the body and headers. A body that is not valid JSON is a
// template error: nothing broken is ever sent.
func (n *Notifier) Build(_ context.Context, g *alert.Group) ([]*notify.Request, error) {
	body, err := n.s.Templates.Execute(n.body, g)
	if err != nil {
		return nil, fmt.Errorf("rendering body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, fmt.Errorf("template %q rendered an empty body", n.body)
	}
	if !json.Valid(body) {
		return nil, fmt.Errorf("template %q rendered invalid JSON: %s", n.body, jsonError(body))
	}
	h := http.Header{"Content-Type": []string{"application/json"}}
	for name, tmpl := range n.s.HeaderTemplates {
		v, err := n.s.Templates.ExecuteString(tmpl, g)
		if err != nil {
			return nil, fmt.Errorf("rendering header %s: %w", name, err)
		}
		h.Set(name, HeaderValue(v))
	}
	if n.signer != nil {
		id, ts := messageID(n.s.Name, g), n.s.Clock()()
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", n.signer.sign(id, ts, body))
	}
	return []*notify.Request{{Method: http.MethodPost, URL: n.s.URL, Header: h, Body: body}}, nil
}

// Classify applies the target's verify rule when set, else the common
// HTTP rules.
func (n *Notifier) Classify(resp *notify.Response) notify.Result {
	now := n.s.Clock()()
	if n.s.Verify != nil {
		return n.s.Verify.Classify(resp, now)
	}
	return notify.ClassifyHTTP(resp, now)
}

// HeaderValue makes a rendered header value sendable: CR LF pairs and
// every other control character but tab become a space (the HTTP client
// rejects them), and the result is trimmed.
func HeaderValue(v string) string {
	v = strings.ReplaceAll(v, "\r\n", " ")
	return strings.TrimSpace(strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, v))
}

func jsonError(body []byte) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err.Error()
	}
	return "unknown"
}
