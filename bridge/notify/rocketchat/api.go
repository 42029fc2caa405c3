package rocketchat

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	json "github.com/goccy/go-json"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// apiPlatform posts through the REST API's chat.postMessage as the
// account of user_id, authenticated by its personal access token. The
// preset bodies are incoming webhook messages, which chat.postMessage
// takes as they are (text, alias, emoji, avatar, attachments) plus the
// room: roomId.
type apiPlatform struct {
	platform
	// server is the server's address without a trailing slash.
	server string
	userID string
	token  string
	roomID string
}

var _ chat.Editor = (*apiPlatform)(nil)

// Request posts a checked webhook body to chat.postMessage, roomId first.
// A body that names a channel (a target's own template) is refused: the
// API mode posts to room_id only.
func (p *apiPlatform) Request(body []byte) (*notify.Request, error) {
	m, err := chat.Members(body)
	if err != nil {
		return nil, fmt.Errorf("body is not a Rocket.Chat message: %v", err)
	}
	for _, k := range []string{"channel", "roomId"} {
		if _, set := m[k]; set {
			return nil, fmt.Errorf("body sets %q: the API mode posts to room_id", k)
		}
	}
	m["roomId"] = []byte(strconv.Quote(p.roomID))
	out := chat.Object(append([]string{"roomId", "text"}, otherKeys(m)...), m)
	return &notify.Request{
		Method: http.MethodPost, URL: p.server + "/api/v1/chat.postMessage", Body: out,
		Header: http.Header{
			"Content-Type": []string{"application/json"},
			"X-User-Id":    []string{p.userID},
			"X-Auth-Token": []string{p.token},
		},
	}, nil
}

// bodyOrder is the order the keys of a posted message are written in
// after roomId and text; others follow, sorted.
var bodyOrder = []string{"alias", "emoji", "avatar", "attachments"}

// otherKeys lists the keys of m but roomId and text, in bodyOrder.
func otherKeys(m map[string][]byte) []string {
	var out, rest []string
	for _, k := range bodyOrder {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	for k := range m {
		if k != "roomId" && k != "text" && !slices.Contains(bodyOrder, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Ref is how the bridge names a message it posted: the room's id and the
// message's, "<roomId>/<messageId>", so that a target moved to another
// room never answers a message of the old one.
func Ref(roomID, msgID string) string { return roomID + "/" + msgID }

// msgID reads a ref of the configured room.
func (p *apiPlatform) msgID(ref string) (string, error) {
	room, msg, ok := strings.Cut(ref, "/")
	if !ok || room != p.roomID || !id.MatchString(msg) {
		return "", fmt.Errorf("message %q is not one of room %s", ref, p.roomID)
	}
	return msg, nil
}

// Edit implements chat.Editor, refusing: chat.update changes a message's
// text only, and the presets show the alerts in its attachments (config
// refuses update: edit for rocketchat, so this is not called).
func (p *apiPlatform) Edit(*notify.Request, string) (*notify.Request, error) {
	return nil, errors.New("Rocket.Chat's chat.update cannot change a message's attachments")
}

// Reply implements chat.Editor: the new message with tmid naming the
// message, in its thread. A body that sets tmid itself is left as it is.
func (p *apiPlatform) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	msg, err := p.msgID(ref)
	if err != nil {
		return nil, err
	}
	body, ok := chat.WithMember(req.Body, "tmid", []byte(strconv.Quote(msg)))
	if !ok {
		return nil, errors.New("the body sets tmid")
	}
	r := *req
	r.Body = body
	return &r, nil
}

// Classify reads the API's answer: {"success":true,"message":{"_id",
// "rid"}}, {"success":false,"error":…}, or a 401 {"status":"error"} for
// a bad user id or token.
func (p *apiPlatform) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	var ans struct {
		Success *bool  `json:"success"`
		Error   string `json:"error"`
	}
	_ = json.Unmarshal(resp.Body, &ans) // an unparsable body leaves the zero answer
	detail := p.redact(notify.Snippet(resp.Body))
	if ans.Error != "" {
		detail = p.redact(notify.Snippet([]byte(ans.Error)))
	}
	switch {
	case code == http.StatusOK && ans.Success != nil && *ans.Success:
		r := notify.OK()
		var sent struct {
			Message struct {
				ID  string `json:"_id"`
				RID string `json:"rid"`
			} `json:"message"`
		}
		if json.Unmarshal(resp.Body, &sent) == nil && sent.Message.RID == p.roomID && id.MatchString(sent.Message.ID) {
			r.Ref = Ref(p.roomID, sent.Message.ID)
		}
		return r
	case code == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, p.rateLimitWait(resp.Header, ans.Error), "Rocket.Chat HTTP 429: %s", detail)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Rocket.Chat HTTP %d: %s", code, detail)
	case code >= 200 && code < 300:
		return notify.Failed(notify.ReasonIMRejected, "Rocket.Chat answered HTTP %d without {\"success\":true} (is url the server's address?): %s", code, detail)
	case code == http.StatusUnauthorized:
		return notify.Failed(notify.ReasonAuthError, "Rocket.Chat HTTP 401: %s (user_id or the token in secret is wrong, or the token was removed)", detail)
	case code == http.StatusForbidden:
		return notify.Failed(notify.ReasonAuthError, "Rocket.Chat HTTP 403: %s (the account may not post to room_id)", detail)
	case code == http.StatusNotFound:
		return notify.Failed(notify.ReasonClientError, "Rocket.Chat HTTP 404: %s (is url the server's address?)", detail)
	case code == http.StatusBadRequest:
		return notify.Failed(notify.ReasonClientError, "Rocket.Chat HTTP 400 (the message was refused): %s", detail)
	}
	r := notify.ClassifyHTTP(resp, p.now())
	r.Message = fmt.Sprintf("Rocket.Chat HTTP %d: %s", code, detail)
	return r
}

// redact keeps the token out of messages, should an answer echo it.
func (p *apiPlatform) redact(s string) string {
	if p.token == "" {
		return s
	}
	return strings.ReplaceAll(s, p.token, "<token>")
}
