// Package webhook delivers groups to generic JSON webhooks. The body is the
// target's template (by default the group's HertzBeat-style records as a
// JSON array, or with a dialect that dialect's data as JSON, one request
// per alert for HertzBeat's); it is checked to be valid JSON before
// anything is sent.
// With a secret, requests are signed per the Standard Webhooks spec.
//
// What users configure and see is documented in docs/targets.md#generic-webhook
// and, for the signature, docs/targets.md#signed-webhooks.
package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// DefaultBodyTemplate is the preset body.
const DefaultBodyTemplate = "webhook.default.body"

// DialectBodyTemplate is the preset body of a target with a dialect: the
// dialect's data as JSON.
const DialectBodyTemplate = "webhook.dialect.body"

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
	switch {
	case body != "":
	case s.Dialect != nil:
		body = DialectBodyTemplate
	default:
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
	// A dialect that signs (AMMDS's {{sign}}) owns the secret.
	if s.Secret != "" && (s.Dialect == nil || !s.Dialect.Signs) {
		signer, err := newSigner(s.Secret)
		if err != nil {
			return nil, err
		}
		n.signer = signer
	}
	return n, nil
}

// Build renders the body and headers, once per alert when the dialect
// describes single alerts. A body that is not valid JSON is a template
// error: nothing broken is ever sent.
func (n *Notifier) Build(_ context.Context, g *alert.Group) ([]*notify.Request, error) {
	if n.s.Dialect == nil || !n.s.Dialect.PerAlert {
		r, err := n.request(g, messageID(n.s.Name, g))
		if err != nil {
			return nil, err
		}
		return []*notify.Request{r}, nil
	}
	reqs := make([]*notify.Request, len(g.Alerts))
	for i := range g.Alerts {
		id := messageID(n.s.Name, g)
		if len(g.Alerts) > 1 {
			id += "_" + strconv.Itoa(i+1)
		}
		r, err := n.request(g.Slice(i, i+1), id)
		if err != nil {
			return nil, err
		}
		reqs[i] = r
	}
	return reqs, nil
}

// request renders one request for g; id is its Standard Webhooks message
// id, stable across retries.
func (n *Notifier) request(g *alert.Group, id string) (*notify.Request, error) {
	data := n.s.Dialect.View(g)
	body, err := n.s.Templates.Execute(n.body, data)
	if err != nil {
		return nil, fmt.Errorf("rendering body: %w", err)
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, fmt.Errorf("template %q rendered an empty body", n.body)
	}
	switch {
	case n.s.TextBody:
		if !utf8.Valid(body) {
			return nil, fmt.Errorf("template %q rendered invalid UTF-8", n.body)
		}
	case !json.Valid(body):
		return nil, fmt.Errorf("template %q rendered invalid JSON: %s", n.body, jsonError(body))
	}
	h := http.Header{"Content-Type": []string{"application/json"}}
	for name, tmpl := range n.s.HeaderTemplates {
		v, err := n.s.Templates.ExecuteString(tmpl, data)
		if err != nil {
			return nil, fmt.Errorf("rendering header %s: %w", name, err)
		}
		h.Set(name, HeaderValue(v))
	}
	if n.signer != nil {
		ts := n.s.Clock()()
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
		h.Set("webhook-signature", n.signer.sign(id, ts, body))
	}
	return &notify.Request{Method: http.MethodPost, URL: n.s.URL, Header: h, Body: body}, nil
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
