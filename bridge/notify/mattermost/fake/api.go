package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// The fake's REST API (API v4) contract, for a target in the API mode:
//
//   - every request carries "Authorization: Bearer {Token}", else 401
//     api.context.session_expired.app_error;
//   - POST /api/v4/posts creates a post: JSON (else 400
//     api.context.invalid_body_param.app_error) with channel_id (another
//     channel than ChannelID is 403 api.context.permissions.app_error),
//     message (at most 16,383 characters, else 400
//     model.post.is_valid.message_length.app_error), optional root_id
//     (a post of the channel, else 400
//     api.post.create_post.root_id.app_error) and props.attachments;
//     answered 201 with the post;
//   - PUT /api/v4/posts/{id}/patch changes message and props (a patch
//     replaces props whole); a post it never created, or deleted since
//     (Delete), is 403 api.context.permissions.app_error, as Mattermost
//     answers a post it cannot find; answered 200 with the post;
//   - other paths are 404 api.context.404.app_error, other methods 405.
//
// Keys Mattermost ignores in a post (an incoming webhook's text,
// attachments, channel, username, icon_url, icon_emoji) and keys a patch
// ignores are violations: the post would not show what was sent. A post
// with neither message nor attachments is one too.

// Post is one post of the channel as it stands now.
type Post struct {
	ID, ChannelID, RootID string
	// Text is what a reader sees; Body the JSON last sent for it.
	Text string
	Body []byte
	// Edits counts the patches.
	Edits int
}

// Posts returns the posts the API created that were not deleted, oldest
// first (copies).
func (m *Mattermost) Posts() []Post {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.posts.Live()
}

// Delete deletes a post, as its author or an admin can; a patch of it is
// then 403, an answer to it 400.
func (m *Mattermost) Delete(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.posts.Delete(postNumber(id))
}

// postID is the id of the post numbered n: 26 lower-case letters and
// digits, as Mattermost's ids.
func postID(n int) string { return fmt.Sprintf("po%024d", n+1) }

// postNumber is the log number of post id (-1 for no post).
func postNumber(id string) int {
	var n int
	if len(id) != 26 || !strings.HasPrefix(id, "po") {
		return -1
	}
	if _, err := fmt.Sscanf(id[2:], "%d", &n); err != nil || postID(n-1) != id {
		return -1
	}
	return n - 1
}

var patchPath = regexp.MustCompile(`^/api/v4/posts/([a-z0-9]{26})/patch$`)

// apiPost is the part of a created or patched post the fake reads.
type apiPost struct {
	ChannelID string          `json:"channel_id"`
	Message   *string         `json:"message"`
	RootID    string          `json:"root_id"`
	Props     json.RawMessage `json:"props"`
}

// postKeys and patchKeys are the keys Mattermost reads in a post and a
// patch; it ignores the others (an incoming webhook's text, attachments,
// channel, username, icon_url).
var (
	postKeys  = map[string]bool{"channel_id": true, "message": true, "root_id": true, "props": true, "file_ids": true, "metadata": true, "type": true, "pending_post_id": true}
	patchKeys = map[string]bool{"message": true, "props": true, "is_pinned": true, "file_ids": true, "has_reactions": true}
)

// checkAPI validates a REST API request (see the contract above) and
// returns what a reader would see of the post.
func (m *Mattermost) checkAPI(r *http.Request, body []byte) (string, string, *notifytest.Reply) {
	create := r.URL.Path == "/api/v4/posts"
	patch := patchPath.MatchString(r.URL.Path)
	switch {
	case !create && !patch:
		return "", "path " + r.URL.Path, appError(http.StatusNotFound, "api.context.404.app_error", "Sorry, we could not find the page.")
	case r.Header.Get("Authorization") != "Bearer "+m.opts.Token:
		return "", "no valid token in Authorization", appError(http.StatusUnauthorized, "api.context.session_expired.app_error", "Invalid or expired session, please login again.")
	case create && r.Method != http.MethodPost, patch && r.Method != http.MethodPut:
		return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
	}
	invalid := appError(http.StatusBadRequest, "api.context.invalid_body_param.app_error", "Invalid or missing post in request body.")
	var keys map[string]json.RawMessage
	var post apiPost
	if json.Unmarshal(body, &keys) != nil || json.Unmarshal(body, &post) != nil {
		return "", "invalid JSON", invalid
	}
	allowed := postKeys
	if patch {
		allowed = patchKeys
	}
	var ignored []string
	for k := range keys {
		if !allowed[k] {
			ignored = append(ignored, k)
		}
	}
	if len(ignored) > 0 {
		sort.Strings(ignored)
		return "", "keys Mattermost ignores here: " + strings.Join(ignored, ", "), invalid
	}
	var props struct {
		Attachments []attachment `json:"attachments"`
	}
	if len(post.Props) > 0 {
		if err := json.Unmarshal(post.Props, &props); err != nil {
			return "", "props: " + err.Error(), invalid
		}
	}
	if create && post.ChannelID != m.opts.ChannelID {
		return "", "a channel the account may not post to", appError(http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
	}
	message := ""
	if post.Message != nil {
		message = *post.Message
	}
	if n := utf8.RuneCountInString(message); n > 16383 {
		return "", fmt.Sprintf("message is %d characters", n), appError(http.StatusBadRequest, "model.post.is_valid.message_length.app_error", "Invalid Message property for post.")
	}
	if create && strings.TrimSpace(message) == "" && len(props.Attachments) == 0 {
		return "", "a post with neither message nor attachments", invalid
	}
	if patch && (post.Message == nil || post.Props == nil) {
		return "", "a patch that leaves the message or props as they were", invalid
	}
	return visible(message, props.Attachments), "", nil
}

// answer keeps the channel's posts and answers an accepted request: the
// webhook's "ok", or the created or patched post.
func (m *Mattermost) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		return notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var post apiPost
	_ = json.Unmarshal(body, &post) // the check read it already
	var p *Post
	status := http.StatusOK
	if sub := patchPath.FindStringSubmatch(r.URL.Path); sub != nil {
		if p = m.posts.Get(postNumber(sub[1])); p == nil {
			return *appError(http.StatusForbidden, "api.context.permissions.app_error", "You do not have the appropriate permissions.")
		}
		p.Text, p.Body = text, append([]byte(nil), body...)
		p.Edits++
	} else {
		if post.RootID != "" {
			if root := m.posts.Get(postNumber(post.RootID)); root == nil || root.ChannelID != post.ChannelID {
				return *appError(http.StatusBadRequest, "api.post.create_post.root_id.app_error", "Invalid RootId parameter.")
			}
		}
		p = &Post{ID: postID(m.posts.Next()), ChannelID: post.ChannelID, RootID: post.RootID, Text: text, Body: append([]byte(nil), body...)}
		m.posts.Add(p)
		status = http.StatusCreated
	}
	message := ""
	if post.Message != nil {
		message = *post.Message
	}
	props := post.Props
	if len(props) == 0 {
		props = json.RawMessage(`{}`)
	}
	b, _ := json.Marshal(map[string]any{
		"id": p.ID, "create_at": 1795428300000, "update_at": 1795428300000, "edit_at": 0, "delete_at": 0,
		"user_id": "us00000000000000000000bot0", "channel_id": p.ChannelID, "root_id": p.RootID,
		"message": message, "type": "", "props": props, "hashtags": "", "pending_post_id": "",
	})
	return notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json"}, Body: string(b)}
}
