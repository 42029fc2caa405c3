package notifytest

import (
	"net/http"
	"net/url"
	"strings"
)

// SlackStylePayload returns the JSON message of a request to a
// Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat): the
// body itself when it is sent as JSON, the payload field when it is sent
// as a form. problem says what is wrong otherwise, for the fake's violation
// log; the fake answers it in its platform's words.
func SlackStylePayload(r *http.Request, body []byte) (msg []byte, problem string) {
	switch ct := r.Header.Get("Content-Type"); {
	case strings.HasPrefix(ct, "application/json"):
		return body, ""
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil || form.Get("payload") == "" {
			return nil, "form without payload"
		}
		return []byte(form.Get("payload")), ""
	default:
		return nil, "Content-Type " + ct
	}
}
