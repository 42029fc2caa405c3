package mattermost

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	json "github.com/goccy/go-json"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
)

// apiPlatform posts through the REST API (API v4) with a bot or personal
// access token. The preset bodies are incoming webhook messages; Request
// maps one onto a post: text is the message, attachments go into props.
type apiPlatform struct {
	platform
	// server is the server's address without a trailing slash.
	server    string
	token     string
	channelID string
}

var _ chat.Editor = (*apiPlatform)(nil)

// postKeys are the keys of a created post, in the order they are written.
var postKeys = []string{"channel_id", "message", "root_id", "props"}

// Request maps a checked webhook body onto POST /api/v4/posts:
// {"channel_id":…,"message":text,"props":{"attachments":…}}. A body's own
// props (a target's template may set them) are kept, attachments added.
func (p *apiPlatform) Request(body []byte) (*notify.Request, error) {
	m, err := chat.Members(body)
	if err != nil {
		return nil, fmt.Errorf("body is not a Mattermost message: %v", err)
	}
	fields := map[string][]byte{"channel_id": []byte(strconv.Quote(p.channelID)), "message": []byte(`""`)}
	if t, ok := m["text"]; ok {
		fields["message"] = t
	}
	props := []byte(`{}`)
	if pr, ok := m["props"]; ok {
		props = pr
	}
	if a, ok := m["attachments"]; ok {
		if props, ok = chat.WithMember(props, "attachments", a); !ok {
			return nil, errors.New(`body sets attachments twice (at the top and in "props"), or "props" is not an object`)
		}
	}
	if string(props) != "{}" {
		fields["props"] = props
	}
	return p.request(http.MethodPost, "/api/v4/posts", chat.Object(postKeys, fields)), nil
}

func (p *apiPlatform) request(method, path string, body []byte) *notify.Request {
	return &notify.Request{
		Method: method, URL: p.server + path, Body: body,
		Header: http.Header{
			"Content-Type":  []string{"application/json"},
			"Authorization": []string{"Bearer " + p.token},
		},
	}
}

// Ref is how the bridge names a post it created: the configured
// channel_id and the post's id, "<channel_id>/<post_id>", so that a
// target moved to another channel never edits a post of the old one.
func Ref(channelID, postID string) string { return channelID + "/" + postID }

// postID reads a ref of the configured channel.
func (p *apiPlatform) postID(ref string) (string, error) {
	ch, post, ok := strings.Cut(ref, "/")
	if !ok || ch != p.channelID || !id.MatchString(post) {
		return "", fmt.Errorf("post %q is not one of channel %s", ref, p.channelID)
	}
	return post, nil
}

// Edit implements chat.Editor: PUT /api/v4/posts/{id}/patch with the new
// message and props. props is always sent, {} included, as a patch
// replaces them whole: attachments the new rendering lacks are removed.
func (p *apiPlatform) Edit(req *notify.Request, ref string) (*notify.Request, error) {
	post, err := p.postID(ref)
	if err != nil {
		return nil, err
	}
	m, err := chat.Members(req.Body)
	if err != nil {
		return nil, err
	}
	if _, ok := m["props"]; !ok {
		m["props"] = []byte(`{}`)
	}
	return p.request(http.MethodPut, "/api/v4/posts/"+post+"/patch", chat.Object([]string{"message", "props"}, m)), nil
}

// Reply implements chat.Editor: the new post with root_id naming the
// post, in its thread. Should that post be gone (Mattermost refuses the
// root_id), the plain new post is sent instead (Fallback).
func (p *apiPlatform) Reply(req *notify.Request, ref string) (*notify.Request, error) {
	post, err := p.postID(ref)
	if err != nil {
		return nil, err
	}
	m, err := chat.Members(req.Body)
	if err != nil {
		return nil, err
	}
	if _, set := m["root_id"]; set {
		return nil, errors.New("the post already answers another")
	}
	m["root_id"] = []byte(strconv.Quote(post))
	r := p.request(http.MethodPost, "/api/v4/posts", chat.Object(postKeys, m))
	r.Fallback = req
	return r, nil
}

// appError is Mattermost's error body.
type appError struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// Classify reads the API's answer: the post (201 created, 200 patched),
// or an AppError. 401 is a bad token; 403 is a token whose account may
// not post there, and is also what a patch of a deleted post gets
// (Mattermost answers a post it cannot find with a permission error), so
// it is marked Gone: an edit then posts anew, and a real permission
// problem fails that post. 404, a root_id Mattermost refuses and an edit
// past the server's PostEditTimeLimit are Gone too.
func (p *apiPlatform) Classify(resp *notify.Response) notify.Result {
	code := resp.StatusCode
	if code == http.StatusOK || code == http.StatusCreated {
		var post struct {
			ID        string `json:"id"`
			ChannelID string `json:"channel_id"`
		}
		if json.Unmarshal(resp.Body, &post) != nil || !id.MatchString(post.ID) {
			return notify.Failed(notify.ReasonIMRejected, "Mattermost answered HTTP %d without a post (is url the server's address?): %s", code, p.redact(notify.Snippet(resp.Body)))
		}
		r := notify.OK()
		if post.ChannelID == p.channelID {
			r.Ref = Ref(p.channelID, post.ID)
		}
		return r
	}
	var ae appError
	detail := p.redact(notify.Snippet(resp.Body))
	if json.Unmarshal(resp.Body, &ae) == nil && ae.ID != "" {
		detail = p.redact(notify.Snippet([]byte(ae.ID + ": " + ae.Message)))
	}
	gone := func(r notify.Result) notify.Result { r.Gone = true; return r }
	switch {
	case code == http.StatusTooManyRequests:
		return notify.Retryable(notify.ReasonRateLimited, p.rateLimitWait(resp.Header), "Mattermost HTTP 429 (rate limited): %s", detail)
	case code >= 500:
		return notify.Retryable(notify.ReasonServerError, notify.RetryAfter(resp.Header, p.now()), "Mattermost HTTP %d: %s", code, detail)
	case code == http.StatusUnauthorized:
		return notify.Failed(notify.ReasonAuthError, "Mattermost HTTP 401: %s (the token in secret is wrong, expired or revoked)", detail)
	case code == http.StatusForbidden:
		return gone(notify.Failed(notify.ReasonAuthError, "Mattermost HTTP 403: %s (the token's account may not post to channel_id, or the post to edit was deleted)", detail))
	case code == http.StatusNotFound:
		return gone(notify.Failed(notify.ReasonClientError, "Mattermost HTTP 404: %s (is url the server's address?)", detail))
	case code == http.StatusRequestEntityTooLarge:
		return notify.Failed(notify.ReasonTooLarge, "Mattermost HTTP 413: %s", detail)
	case code == http.StatusBadRequest && ae.ID == "api.post.create_post.root_id.app_error":
		return gone(notify.Failed(notify.ReasonClientError, "Mattermost HTTP 400: %s (the post to answer was deleted)", detail))
	case code == http.StatusBadRequest && strings.Contains(ae.ID, "time_limit"):
		return gone(notify.Failed(notify.ReasonClientError, "Mattermost HTTP 400: %s (the post is too old to edit)", detail))
	case code == http.StatusBadRequest:
		return notify.Failed(notify.ReasonClientError, "Mattermost HTTP 400 (the post was refused): %s", detail)
	}
	r := notify.ClassifyHTTP(resp, p.now())
	r.Message = fmt.Sprintf("Mattermost HTTP %d: %s", code, detail)
	return r
}

// maxWait bounds a rate-limit wait read from an answer (a day, as
// notify.RetryAfter).
const maxWait = 24 * time.Hour

// rateLimitWait reads a 429's wait: Retry-After, else X-Ratelimit-Reset
// (the seconds until the server's window resets).
func (p *apiPlatform) rateLimitWait(h http.Header) time.Duration {
	if d := notify.RetryAfter(h, p.now()); d > 0 {
		return d
	}
	if secs, err := strconv.Atoi(strings.TrimSpace(h.Get("X-Ratelimit-Reset"))); err == nil && secs > 0 && time.Duration(secs)*time.Second <= maxWait {
		return time.Duration(secs) * time.Second
	}
	return 0
}

// redact keeps the token out of messages, should an answer echo it.
func (p *apiPlatform) redact(s string) string {
	if p.token == "" {
		return s
	}
	return strings.ReplaceAll(s, p.token, "<token>")
}
