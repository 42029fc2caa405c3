package fake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// The fake's REST API contract, for a target in the API mode:
//
//   - POST /api/v1/chat.postMessage (other /api/ paths are 404, other
//     methods 405);
//   - X-User-Id and X-Auth-Token must be UserID and AuthToken, else 401
//     {"status":"error","message":"You must be logged in to do this."};
//   - the REST rate limiter's 10 calls per 60 s, counted apart from the
//     webhook's route;
//   - a message as the webhook takes it (see RocketChat), with roomId
//     naming RoomID (another room is 400 success:false; the fake's
//     wording) and no channel besides roomId (a violation: the API would
//     pick one); tmid, when set, names a message of the room that is not
//     deleted (else 400 success:false; the fake's wording);
//   - answered 200 {"ts":…,"channel":roomId,"message":{"_id","rid",…},
//     "success":true}, message ids counting up from rcMsg000000000001.

// Message is one message the API posted, as it stands now.
type Message struct {
	ID, RoomID string
	// TMID is the thread's first message, for an answer in a thread.
	TMID string
	// Text is what a reader sees; Body the JSON sent for it.
	Text string
	Body []byte
}

// Messages returns the messages the API posted that were not deleted,
// oldest first (copies).
func (rc *RocketChat) Messages() []Message {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.messages.Live()
}

// Delete deletes a message, as its author or an admin can.
func (rc *RocketChat) Delete(id string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.messages.Delete(msgNumber(id))
}

// msgID is the id of the message numbered n: 17 letters and digits, as
// Rocket.Chat's ids.
func msgID(n int) string { return fmt.Sprintf("rcMsg%012d", n+1) }

// msgNumber is the log number of message id (-1 for no message).
func msgNumber(id string) int {
	var n int
	if _, err := fmt.Sscanf(strings.TrimPrefix(id, "rcMsg"), "%d", &n); err != nil || msgID(n-1) != id {
		return -1
	}
	return n - 1
}

// checkAPI validates a REST API request (see the contract above).
func (rc *RocketChat) checkAPI(r *http.Request, body []byte, now time.Time, calls *notifytest.Window) (string, string, *notifytest.Reply) {
	switch {
	case r.URL.Path != "/api/v1/chat.postMessage":
		return "", "path " + r.URL.Path, &notifytest.Reply{Status: http.StatusNotFound, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"success":false,"error":"Not found"}`}
	case r.Header.Get("X-User-Id") != rc.opts.UserID || r.Header.Get("X-Auth-Token") != rc.opts.AuthToken:
		return "", "no valid X-User-Id and X-Auth-Token", &notifytest.Reply{Status: http.StatusUnauthorized, Header: map[string]string{"Content-Type": "application/json"},
			Body: `{"status":"error","message":"You must be logged in to do this."}`}
	}
	if reply := limited(calls, now); reply != nil {
		return "", "more than 10 calls in 60 s", reply
	}
	if r.Method != http.MethodPost {
		return "", "method " + r.Method, &notifytest.Reply{Status: http.StatusMethodNotAllowed}
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "", "Content-Type " + ct, failure(http.StatusBadRequest, "Match error: Expected object")
	}
	text, msg, violation, reply := checkMessage(body)
	switch {
	case violation != "":
		return "", violation, reply
	case msg.Channel != "":
		return "", "channel besides roomId", failure(http.StatusBadRequest, "error-invalid-params")
	case msg.RoomID != rc.opts.RoomID:
		return "", "a room the account may not post to", failure(http.StatusBadRequest, "error-invalid-room")
	}
	return text, "", nil
}

// answer keeps the room's messages and answers an accepted request: the
// webhook's {"success":true}, or the posted message.
func (rc *RocketChat) answer(r *http.Request, body []byte, text string) notifytest.Reply {
	ok := notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "application/json"}, Body: `{"success":true}`}
	if !strings.HasPrefix(r.URL.Path, "/api/") {
		return ok
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var msg message
	_ = json.Unmarshal(body, &msg) // the check read it already
	if msg.TMID != "" {
		if parent := rc.messages.Get(msgNumber(msg.TMID)); parent == nil || parent.RoomID != msg.RoomID {
			return *failure(http.StatusBadRequest, "error-invalid-message")
		}
	}
	m := &Message{ID: msgID(rc.messages.Next()), RoomID: msg.RoomID, TMID: msg.TMID, Text: text, Body: append([]byte(nil), body...)}
	rc.messages.Add(m)
	sent := map[string]any{
		"_id": m.ID, "rid": m.RoomID, "msg": msg.Text, "alias": msg.Alias, "ts": "2026-11-23T10:05:00.000Z",
		"u": map[string]any{"_id": rc.opts.UserID, "username": "alertbridge"}, "_updatedAt": "2026-11-23T10:05:00.000Z",
	}
	if m.TMID != "" {
		sent["tmid"] = m.TMID
	}
	b, _ := json.Marshal(map[string]any{"ts": 1795428300000, "channel": m.RoomID, "message": sent, "success": true})
	ok.Body = string(b)
	return ok
}
