// Package chat is what every chat-tool integration shares: the template
// data of one message, packing a group into as few messages as fit the
// platform's limits, mentions, and the options common to every chat
// target. An integration supplies a Platform (how to measure, send and
// judge one message) and a preset body template; chat does the rest.
package chat

import (
	"bytes"
	"context"
	stdjson "encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Platform is one chat tool's contract for a single message.
type Platform interface {
	// Check reports why a rendered body breaks the platform's limits or
	// schema, counted the way the platform counts; nil means it may be
	// sent. Errors should be *LimitError when a size limit is the cause.
	Check(body []byte) error
	// Request turns a checked body into the HTTP request: URL, headers,
	// signature. It must not put secrets into errors.
	Request(body []byte) (*notify.Request, error)
	// Classify judges the platform's answer, body included.
	Classify(resp *notify.Response) notify.Result
}

// Editor is a Platform that can change or answer the messages it posted
// (see notify.Reviser); chat maps the parts of a notification onto the
// remembered messages, the platform rewrites one request.
type Editor interface {
	Platform
	// Edit turns req, a checked new message, into the request that
	// replaces the text of the message ref names with it. An error (a ref
	// of another chat, a malformed one) leaves the part a new message.
	Edit(req *notify.Request, ref string) (*notify.Request, error)
	// Reply turns req into a new message answering the message ref names;
	// an error leaves it a plain new message.
	Reply(req *notify.Request, ref string) (*notify.Request, error)
}

// Authorizer is a Platform whose requests carry an access token it gets
// from the platform (see notify.Authorizer); chat passes the calls on.
type Authorizer interface {
	Platform
	TokenRequest(stale bool) *notify.Request
	TokenAnswer(resp *notify.Response) notify.Result
	Authorize(req *notify.Request) *notify.Request
}

// Notifier is a notify.Notifier for a chat platform.
type Notifier struct {
	s        notify.Settings
	body     string
	platform Platform
	common   Common
}

var (
	_ notify.Reviser    = (*Notifier)(nil)
	_ notify.Authorizer = (*Notifier)(nil)
)

// New builds a chat notifier. preset is the type's default body template,
// used unless the target has its own; common holds the shared options
// (nil means the defaults).
func New(s notify.Settings, preset string, p Platform, common *Common) (*Notifier, error) {
	body := s.BodyTemplate
	if body == "" {
		body = preset
	}
	if s.Templates == nil || !s.Templates.Has(body) {
		return nil, fmt.Errorf("template %q is not defined", body)
	}
	if s.Dialect != nil && s.BodyTemplate == "" {
		return nil, fmt.Errorf("dialect %s needs the target's own template: the presets speak the alertmanager dialect", s.Dialect.Name)
	}
	n := &Notifier{s: s, body: body, platform: p}
	if common != nil {
		n.common = *common
	}
	return n, nil
}

// Build renders the group into one request per message: as many whole
// alerts per message as fit, at most max_messages messages, the last one
// counting what did not fit.
func (n *Notifier) Build(_ context.Context, g *alert.Group) ([]*notify.Request, error) {
	bodies, err := n.Pack(g)
	if err != nil {
		return nil, err
	}
	reqs := make([]*notify.Request, len(bodies))
	for i, b := range bodies {
		if reqs[i], err = n.platform.Request(b); err != nil {
			return nil, err
		}
	}
	return reqs, nil
}

// Pack renders the group into message bodies that each pass the
// platform's Check. With a per-alert dialect (HertzBeat's) every alert is
// a message of its own, firing first, at most max_messages of them.
func (n *Notifier) Pack(g *alert.Group) ([][]byte, error) {
	p := packer{
		render: n.render,
		check:  n.check,
		max:    n.common.messages(),
		fragments: func(g *alert.Group) *fragments {
			return newFragments(g, n.s.Options, n.s.Templates.ExecuteString)
		},
	}
	if n.s.Dialect == nil || !n.s.Dialect.PerAlert {
		bodies, err := p.pack(g)
		if err != nil {
			return nil, err
		}
		return bodies, n.validJSON(bodies)
	}
	g = g.FiringFirst()
	one := p
	one.max = 1
	var bodies [][]byte
	for i := 0; i < len(g.Alerts) && i < p.max; i++ {
		b, err := one.pack(g.Slice(i, i+1))
		if err != nil {
			return nil, err
		}
		bodies = append(bodies, b...)
	}
	return bodies, n.validJSON(bodies)
}

// check applies the platform's check. The JSON of a body is validated
// once the packing chose it, not on every candidate, unless the platform
// rejects a candidate for another reason than its size: broken JSON is
// then the likelier cause, and the clearer message.
func (n *Notifier) check(body []byte) error {
	err := n.platform.Check(body)
	if err != nil && !IsLimit(err) {
		if jerr := ValidJSON(body); jerr != nil {
			return fmt.Errorf("template %q %w", n.body, jerr)
		}
	}
	return err
}

// validJSON reports the first body that is not one JSON document.
func (n *Notifier) validJSON(bodies [][]byte) error {
	for _, b := range bodies {
		if err := ValidJSON(b); err != nil {
			return fmt.Errorf("template %q %w", n.body, err)
		}
	}
	return nil
}

// render executes the body template on d (or, with a dialect, on the
// dialect's data for d's alerts).
func (n *Notifier) render(d *Data) ([]byte, error) {
	var data any = d
	if n.s.Dialect != nil {
		data = n.s.Dialect.View(d.Group)
	} else {
		d.Mentions = n.common.Mention.resolve(d.Group)
		d.Options = n.s.Options
	}
	body, err := n.s.Templates.Execute(n.body, data)
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", n.body, err)
	}
	return body, nil
}

// Classify applies the target's verify rule when set (the platform still
// names the message a delivered answer posted), else the platform's.
func (n *Notifier) Classify(resp *notify.Response) notify.Result {
	if n.s.Verify != nil {
		r := n.s.Verify.Classify(resp, n.s.Clock()())
		p := n.platform.Classify(resp)
		if r.Verdict == notify.Delivered {
			r.Ref = p.Ref
		} else {
			r.Reauth = p.Reauth
		}
		return r
	}
	return n.platform.Classify(resp)
}

// TokenRequest implements notify.Authorizer: the platform's, nil when it
// is no Authorizer (its requests carry their credentials).
func (n *Notifier) TokenRequest(stale bool) *notify.Request {
	if a, ok := n.platform.(Authorizer); ok {
		return a.TokenRequest(stale)
	}
	return nil
}

// TokenAnswer implements notify.Authorizer (only called after a
// TokenRequest).
func (n *Notifier) TokenAnswer(resp *notify.Response) notify.Result {
	if a, ok := n.platform.(Authorizer); ok {
		return a.TokenAnswer(resp)
	}
	return notify.OK()
}

// Authorize implements notify.Authorizer: req as it is unless the
// platform is an Authorizer.
func (n *Notifier) Authorize(req *notify.Request) *notify.Request {
	if a, ok := n.platform.(Authorizer); ok {
		return a.Authorize(req)
	}
	return req
}

// Update implements notify.Reviser: the target's mode, UpdateNew unless
// the platform is an Editor.
func (n *Notifier) Update() notify.Update {
	if _, ok := n.platform.(Editor); !ok || n.s.Update == "" {
		return notify.UpdateNew
	}
	return n.s.Update
}

// Revise implements notify.Reviser. Edits go part by part: part i edits
// the message of refs[i]; parts beyond the remembered messages are sent
// new, and remembered messages beyond the parts are left as they are
// (they show their alerts as last sent). Replies all answer refs[0].
func (n *Notifier) Revise(reqs []*notify.Request, refs []string) []*notify.Request {
	ed, ok := n.platform.(Editor)
	if !ok || len(refs) == 0 {
		return reqs
	}
	out := make([]*notify.Request, len(reqs))
	for i, req := range reqs {
		out[i] = req
		switch n.Update() {
		case notify.UpdateEdit:
			if i >= len(refs) || refs[i] == "" {
				continue
			}
			if e, err := ed.Edit(req, refs[i]); err == nil {
				e.Ref, e.Fallback = refs[i], req
				out[i] = e
			}
		case notify.UpdateReply:
			if refs[0] == "" {
				continue
			}
			if r, err := ed.Reply(req, refs[0]); err == nil {
				out[i] = r
			}
		}
	}
	return out
}

// LimitError says which platform limit a body breaks.
type LimitError struct {
	// What names the measured part ("body", "markdown.text", "embeds[0].title").
	What string
	Size int
	// Limit is the platform's maximum, in Unit.
	Limit int
	// Unit is "bytes", "characters" or "items".
	Unit string
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("%s is %d %s, over the limit of %d", e.What, e.Size, e.Unit, e.Limit)
}

// IsLimit reports whether err is (or wraps) a size-limit error; other
// Check errors are schema problems no packing can fix.
func IsLimit(err error) bool {
	var le *LimitError
	return errors.As(err, &le)
}

// Keyword checks that keyword appears in the body's text. Keyword-protected
// bots (Lark, DingTalk) silently drop or reject messages without it, and a
// resolved message lost that way is the worst kind of loss.
func Keyword(body []byte, keyword string) error {
	if keyword == "" || strings.Contains(string(body), keyword) {
		return nil
	}
	return fmt.Errorf("the message does not contain the keyword %q the bot requires; the template must print it (the presets do)", keyword)
}

// Object writes a JSON object of the members of fields named in keys, in
// that order (absent ones left out): the bodies an Editor derives from a
// message keep their values byte for byte, unescaped and unreordered.
func Object(keys []string, fields map[string][]byte) []byte {
	b := []byte{'{'}
	for _, k := range keys {
		v, ok := fields[k]
		if !ok {
			continue
		}
		if len(b) > 1 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, k)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, '}')
}

// WithMember returns the JSON object body with the member key: value
// added at its end, or false when body is not an object or already has
// the key.
func WithMember(body []byte, key string, value []byte) ([]byte, bool) {
	var m map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(body, &m); err != nil {
		return nil, false
	}
	if _, dup := m[key]; dup {
		return nil, false
	}
	t := bytes.TrimRight(body, " \t\r\n")
	if len(t) == 0 || t[len(t)-1] != '}' {
		return nil, false
	}
	out := append([]byte(nil), t[:len(t)-1]...)
	if len(m) > 0 {
		out = append(out, ',')
	}
	out = strconv.AppendQuote(out, key)
	out = append(out, ':')
	out = append(out, value...)
	return append(out, '}'), true
}

// Members reads the members of a JSON object body, values as written.
func Members(body []byte) (map[string][]byte, error) {
	var m map[string]stdjson.RawMessage
	if err := stdjson.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out, nil
}
