package slack

// The bot mode: a target with a secret (a bot token) posts through
// Slack's Web API (chat.postMessage), which answers with the message's
// channel id and ts, so the bridge can edit the message later
// (chat.update) or reply in its thread (thread_ts). Slack answers almost every error with HTTP 200 and
// {"ok":false,"error":"<code>"}; rate limits are HTTP 429 with
// Retry-After.

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// APIURL is Slack's Web API base URL, a bot target's url; the methods'
// names follow it.
const APIURL = "https://slack.com/api/"

// The Web API methods the bot mode calls.
const (
	MethodPostMessage = "chat.postMessage"
	MethodUpdate      = "chat.update"
)

var (
	// conversationID is a channel (C…), private channel (G…) or direct
	// message (D…) id, as chat.postMessage answers it and chat.update
	// needs it.
	conversationID = regexp.MustCompile(`^[CGD][A-Z0-9]{2,}$`)
	// channelSpec is what chat.postMessage takes as channel: a
	// conversation id, a member id (U…, W…: the bot's direct message with
	// them) or a channel name, with or without '#'.
	channelSpec = regexp.MustCompile(`^(?:[CGDUW][A-Z0-9]{2,}|#?[\p{L}\p{N}_.-]{1,80})$`)
	// messageTS is a message's ts: seconds, '.', a sequence number.
	messageTS = regexp.MustCompile(`^[0-9]{1,12}\.[0-9]{1,9}$`)
)

// CheckTarget vets at load what a slack target's keys decide together.
// Without a secret it posts to an incoming webhook, which answers "ok"
// and never the message's id, so it can only post new messages. With a
// secret (a bot token) it posts through the Web API: url is the API's
// base URL (not a webhook, not a method's URL) and channel is required.
// Errors never quote the url or the secret.
func CheckTarget(t registry.Target) error {
	o, ok := t.Options.(*Options)
	if !ok {
		return nil
	}
	var errs []error
	if !t.Secret {
		if t.Update == notify.UpdateEdit || t.Update == notify.UpdateReply {
			errs = append(errs, fmt.Errorf("update: %s needs a bot token (secret: xoxb-…, url: %s, channel): an incoming webhook answers \"ok\" without the message's id", t.Update, APIURL))
		}
		return errors.Join(errs...)
	}
	switch c := o.Channel; {
	case c == "":
		errs = append(errs, errors.New("channel: required with a secret (a bot token): the conversation to post to, best its id (C0123456789; a name such as #alerts works too)"))
	case !channelSpec.MatchString(c):
		errs = append(errs, fmt.Errorf("channel: %q is neither a Slack channel id (C…, G…, D…), a member id (U…, W…) nor a channel name", c))
	}
	if u := t.URL; u != nil {
		switch {
		case strings.HasPrefix(u.Hostname(), "hooks.") || strings.HasPrefix(u.Path, "/services/"):
			errs = append(errs, errors.New("url: with a secret (a bot token), url is the Web API's base URL ("+APIURL+"), not an incoming webhook; remove the secret to post to the webhook"))
		case strings.HasSuffix(strings.TrimSuffix(u.Path, "/"), "/"+MethodPostMessage):
			errs = append(errs, errors.New("url: with a secret (a bot token), url is the Web API's base URL ("+APIURL+"), without the method name"))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("url: with a secret (a bot token), url is the Web API's base URL, without a query or fragment"))
		}
	}
	return errors.Join(errs...)
}

// api is the bot platform: chat.postMessage, chat.update and
// thread replies, with the token in the Authorization header.
type api struct {
	base    string // ends with '/'
	token   string
	channel string
	now     func() time.Time
}

// newAPI builds the bot platform of a target with a secret.
func newAPI(s notify.Settings, o *Options) (*api, error) {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("url is not the Web API's base URL")
	}
	if err := CheckTarget(registry.Target{URL: u, Secret: true, Update: s.Update, Options: o}); err != nil {
		return nil, err
	}
	base := s.URL
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return &api{base: base, token: s.Secret, channel: o.Channel, now: s.Clock()}, nil
}

// MaxMarkdownText is the limit of chat.postMessage's markdown_text, in
// characters.
const MaxMarkdownText = 12000

// Check applies the message limits (a webhook's, or markdown_text's, which
// the Web API takes instead of text and blocks) and refuses a body that
// posts to another channel than the target's.
func (p *api) Check(body []byte) error {
	var m struct {
		Channel      *string         `json:"channel"`
		ThreadTS     *string         `json:"thread_ts"`
		MarkdownText *string         `json:"markdown_text"`
		Text         json.RawMessage `json:"text"`
		Blocks       json.RawMessage `json:"blocks"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("body is not a Slack message: %v", err)
	}
	switch {
	case m.MarkdownText == nil:
		if err := (&platform{}).Check(body); err != nil {
			return err
		}
	case m.Text != nil || m.Blocks != nil:
		return errors.New(`body has markdown_text and text or blocks: Slack takes markdown_text alone`)
	case strings.TrimSpace(*m.MarkdownText) == "":
		return errors.New(`body's markdown_text is empty (Slack answers no_text)`)
	case runes(*m.MarkdownText) > MaxMarkdownText:
		return &chat.LimitError{What: "markdown_text", Size: runes(*m.MarkdownText), Limit: MaxMarkdownText, Unit: "characters"}
	}
	if m.Channel != nil && *m.Channel != p.channel {
		return fmt.Errorf("body's channel %q is not the target's channel %q", *m.Channel, p.channel)
	}
	if m.ThreadTS != nil && !messageTS.MatchString(*m.ThreadTS) {
		return fmt.Errorf("body's thread_ts %q is not a message ts such as 1712345678.123456", *m.ThreadTS)
	}
	return nil
}

// call is a Web API request: JSON, the token as a Bearer credential.
func (p *api) call(method string, body []byte) *notify.Request {
	return &notify.Request{
		Method: http.MethodPost, URL: p.base + method, Body: body,
		Header: http.Header{
			"Content-Type":  []string{"application/json; charset=utf-8"},
			"Authorization": []string{"Bearer " + p.token},
		},
	}
}

// Request posts the body with chat.postMessage, adding the target's
// channel when the body names none.
func (p *api) Request(body []byte) (*notify.Request, error) {
	if b, ok := chat.WithMember(body, "channel", strconv.AppendQuote(nil, p.channel)); ok {
		body = b
	}
	return p.call(MethodPostMessage, body), nil
}

// Ref is how the bridge names a message it posted: the channel id and ts
// chat.postMessage answered, "<channel id>/<ts>".
func Ref(channelID, ts string) string { return channelID + "/" + ts }

// message reads a ref. A ref of another channel than the target's (when
// the target names its channel by id) is refused: the target moved, and
// its new channel gets new messages.
func (p *api) message(ref string) (channelID, ts string, err error) {
	channelID, ts, ok := strings.Cut(ref, "/")
	switch {
	case !ok || !conversationID.MatchString(channelID) || !messageTS.MatchString(ts):
		return "", "", fmt.Errorf("%q is not a Slack message ref (<channel id>/<ts>)", ref)
	case conversationID.MatchString(p.channel) && channelID != p.channel:
		return "", "", fmt.Errorf("message %q is not of channel %s", ref, p.channel)
	}
	return channelID, ts, nil
}

// editKeys are the chat.postMessage keys chat.update takes too, in the
// order an edit is written; the others (username, icon_emoji, icon_url,
// thread_ts, unfurl_*, mrkdwn ...) only concern a new message.
var editKeys = []string{"channel", "ts", "text", "blocks", "attachments", "markdown_text", "parse", "link_names", "metadata"}

// Edit implements chat.Editor: chat.update of the message's channel id
// and ts with the new text, blocks and attachments. Slack keeps the
// blocks and attachments of the message an update leaves out, so an edit
// of a body without them sends them empty (unless the body uses
// markdown_text, which excludes blocks).
func (p *api) Edit(req *notify.Request, ref string) (*notify.Request, error) {
	channelID, ts, err := p.message(ref)
	if err != nil {
		return nil, err
	}
	fields, err := chat.Members(req.Body)
	if err != nil {
		return nil, err
	}
	fields["channel"] = strconv.AppendQuote(nil, channelID)
	fields["ts"] = strconv.AppendQuote(nil, ts)
	if _, md := fields["markdown_text"]; !md {
		for _, k := range []string{"blocks", "attachments"} {
			if _, ok := fields[k]; !ok {
				fields[k] = []byte("[]")
			}
		}
	}
	return p.call(MethodUpdate, chat.Object(editKeys, fields)), nil
}

// Reply implements chat.Editor: the new message in the thread of the one
// ref names (thread_ts), posted plainly instead if Slack answers that the
// thread is gone. A body that sets thread_ts itself is left as it is.
func (p *api) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	_, ts, err := p.message(ref)
	if err != nil {
		return nil, err
	}
	body, ok := chat.WithMember(req.Body, "thread_ts", strconv.AppendQuote(nil, ts))
	if !ok {
		return nil, errors.New("the body sets thread_ts")
	}
	r := *req
	r.Body, r.Fallback = body, req
	return &r, nil
}

// answer is the Web API's response envelope.
type answer struct {
	OK      *bool  `json:"ok"`
	Error   string `json:"error"`
	Channel string `json:"channel"`
	TS      string `json:"ts"`
}

// The error codes by what they mean for delivery.
var (
	apiRetry = map[string]bool{
		"internal_error": true, "fatal_error": true, "service_unavailable": true, "request_timeout": true,
	}
	apiAuth = map[string]string{
		"not_authed":                "no token reached Slack",
		"invalid_auth":              "the token is not valid",
		"account_inactive":          "the token's app or workspace is deactivated",
		"token_revoked":             "the token was revoked",
		"token_expired":             "the token expired",
		"no_permission":             "the token may not do this",
		"missing_scope":             "the app lacks the chat:write scope",
		"not_allowed_token_type":    "use a bot token (xoxb-…)",
		"team_access_not_granted":   "the token has no access to the workspace",
		"access_denied":             "access denied",
		"ekm_access_denied":         "the workspace's administrators suspended posting",
		"org_login_required":        "the workspace is migrating to an Enterprise Grid org",
		"enterprise_is_restricted":  "the method is restricted in this Enterprise Grid",
		"two_factor_setup_required": "two-factor authentication is required",
	}
	apiChannel = map[string]string{
		"channel_not_found":                        "check channel, and invite the app to a private channel",
		"not_in_channel":                           "invite the app to the channel (/invite @app)",
		"is_archived":                              "the channel is archived",
		"restricted_action":                        "the workspace does not let the app post here",
		"restricted_action_read_only_channel":      "the channel is read-only",
		"restricted_action_thread_only_channel":    "the channel takes thread replies only",
		"restricted_action_non_threadable_channel": "the channel takes no thread replies",
		"cannot_reply_to_message":                  "the message cannot be replied to",
		"posting_to_general_channel_denied":        "only admins may post to this channel",
	}
	apiTooLarge = map[string]bool{"msg_too_long": true, "too_many_attachments": true, "metadata_too_large": true}
	// apiGone: the message an edit or reply names no longer exists, or
	// can no longer be edited; a new message replaces it.
	apiGone = map[string]bool{"message_not_found": true, "cant_update_message": true, "edit_window_closed": true, "thread_not_found": true}
)

// Classify reads Slack's answer: ok with the message's channel and ts, or
// an error code.
func (p *api) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	var ans answer
	if err := json.Unmarshal(resp.Body, &ans); err != nil || ans.OK == nil {
		if code >= 200 && code < 300 {
			return notify.Failed(notify.ReasonIMRejected, "Slack answered HTTP %d without an ok field (is url the Web API's base URL?): %s", code, p.redact(notify.Snippet(resp.Body)))
		}
		r := notify.ClassifyHTTP(resp, p.now())
		r.Message = p.redact(r.Message)
		return r
	}
	e := p.redact(notify.Snippet([]byte(ans.Error)))
	switch {
	case code == http.StatusTooManyRequests || ans.Error == "ratelimited" || ans.Error == "rate_limited" || ans.Error == "message_limit_exceeded":
		return notify.Retryable(notify.ReasonRateLimited, notify.RetryAfter(resp.Header, p.now()), "Slack HTTP %d %s (rate limited)", code, e)
	case code >= 500 || apiRetry[ans.Error]:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Slack HTTP %d %s", code, e)
	case *ans.OK && code >= 200 && code < 300:
		r := notify.OK()
		if conversationID.MatchString(ans.Channel) && messageTS.MatchString(ans.TS) {
			r.Ref = Ref(ans.Channel, ans.TS)
		}
		return r
	case *ans.OK:
		return notify.ClassifyHTTP(resp, p.now())
	}
	if hint, ok := apiAuth[ans.Error]; ok {
		return notify.Failed(notify.ReasonAuthError, "Slack %s (%s)", e, hint)
	}
	if hint, ok := apiChannel[ans.Error]; ok {
		return notify.Failed(notify.ReasonIMRejected, "Slack %s (%s)", e, hint)
	}
	if apiTooLarge[ans.Error] {
		return notify.Failed(notify.ReasonTooLarge, "Slack %s", e)
	}
	r := notify.Failed(notify.ReasonClientError, "Slack %s (the message was refused)", e)
	if ans.Error == "" {
		r.Message = fmt.Sprintf("Slack HTTP %d: ok false without an error code", code)
	}
	r.Gone = apiGone[ans.Error]
	return r
}

// redact keeps the token out of messages, should an answer echo it.
func (p *api) redact(s string) string {
	if p.token == "" {
		return s
	}
	return strings.ReplaceAll(s, p.token, "<token>")
}
