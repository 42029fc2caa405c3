// Package fake is a strict fake Microsoft Teams workflow webhook for tests: a real HTTP server
// that enforces the platform's contract, records what it accepted and
// answers as the platform would (see notifytest.Fake). Conformance is the
// type's case in the bridge's conformance suite.
package fake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TeamsOptions configure a fake Teams Workflows webhook.
type TeamsOptions struct {
	// WorkflowID is the workflow's id in the trigger path (default
	// "0123456789abcdef0123456789abcdef").
	WorkflowID string
	// Sig is the trigger URL's SAS signature (default "teams-sas-sig").
	Sig string
}

// TeamsMaxCardBytes is the size Teams refuses a card over, in the flow
// run, after the trigger already answered 202.
const TeamsMaxCardBytes = 28672

// Teams is a fake Power Automate Workflows trigger ("Post to a channel
// when a webhook request is received") enforcing the contract: POST to
// /powerautomate/automations/direct/workflows/{id}/triggers/manual/paths/
// invoke (else 404); an api-version query parameter (else 400
// MissingApiVersionParameter); the sig query parameter as the only
// authorization (missing or wrong: 401 DirectApiAuthorizationRequired; an
// Authorization header beside it: 400
// DirectApiRequestHasMoreThanOneAuthorization); a JSON body (else 400
// InvalidRequestContent). It then answers 202 Accepted with no body, as
// the real trigger does before the flow runs, and records as violations
// what would make the flow run fail or lose something, which the HTTP
// answer cannot show: a body that is not {"type":"message"} with
// Adaptive Card attachments (contentType
// application/vnd.microsoft.card.adaptive, content.type "AdaptiveCard"),
// a card over 28,672 bytes (MessageSizeExceeded), and a mention entity
// whose text is in no TextBlock (Teams ignores it). No rate limit is
// enforced: none is documented for Workflows.
//
// The visible text is every TextBlock's text and every fact's title and
// value, Markdown escapes resolved, then each action's title and URL.
type Teams struct {
	*notifytest.Fake
	opts TeamsOptions
}

// NewTeams starts a fake Workflows trigger; its URL is the trigger URL,
// sig included.
func NewTeams(t testing.TB, opts TeamsOptions) *Teams {
	if opts.WorkflowID == "" {
		opts.WorkflowID = "0123456789abcdef0123456789abcdef"
	}
	if opts.Sig == "" {
		opts.Sig = "teams-sas-sig"
	}
	f := &Teams{opts: opts}
	path := "/powerautomate/automations/direct/workflows/" + opts.WorkflowID + "/triggers/manual/paths/invoke"
	check := func(r *http.Request, body []byte, _ time.Time) (string, string, *notifytest.Reply) {
		q := r.URL.Query()
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, teamsError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The HTTP method is not supported by the trigger.")
		case r.URL.Path != path:
			return "", "path " + r.URL.Path, teamsError(http.StatusNotFound, "NotFound", "The request path does not match any known API routes.")
		case q.Get("api-version") == "":
			return "", "no api-version", teamsError(http.StatusBadRequest, "MissingApiVersionParameter", "The api-version query parameter (?api-version=) is required for all requests.")
		case q.Get("sig") != "" && r.Header.Get("Authorization") != "":
			return "", "Authorization header beside sig", teamsError(http.StatusBadRequest, "DirectApiRequestHasMoreThanOneAuthorization", "The request has both SAS authentication scheme and 'Bearer' authorization scheme. Only one scheme should be used.")
		case q.Get("sig") != opts.Sig:
			return "", "sig missing or wrong", teamsError(http.StatusUnauthorized, "DirectApiAuthorizationRequired", "The request must be authenticated only by Shared Access scheme.")
		case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
			return "", "Content-Type " + r.Header.Get("Content-Type"), teamsError(http.StatusBadRequest, "InvalidRequestContent", "The request content type is not application/json.")
		case !json.Valid(body):
			return "", "invalid JSON", teamsError(http.StatusBadRequest, "InvalidRequestContent", "The request content is not valid JSON.")
		}
		text, runFailure := teamsRun(body)
		if runFailure != "" {
			// Accepted: the failure shows only in the flow's run history.
			return "", "flow run failed: " + runFailure, &notifytest.Reply{Status: http.StatusAccepted}
		}
		return text, "", nil
	}
	f.Fake = notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusAccepted}, nil)
	f.URL = f.Server.URL + path + "?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=" + opts.Sig
	return f
}

func teamsError(status int, code, msg string) *notifytest.Reply {
	body, _ := json.Marshal(map[string]any{"error": map[string]string{"code": code, "message": msg}})
	return &notifytest.Reply{Status: status, Header: map[string]string{"Content-Type": "application/json; charset=utf-8"}, Body: string(body)}
}

// teamsRun does what the flow does with an accepted body: it posts each
// Adaptive Card attachment. It returns the visible text, or why the run
// fails or loses something.
func teamsRun(body []byte) (text, failure string) {
	var m struct {
		Type        string `json:"type"`
		Attachments []struct {
			ContentType string          `json:"contentType"`
			Content     json.RawMessage `json:"content"`
		} `json:"attachments"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return "", "body is not a message: " + err.Error()
	}
	if m.Type != "message" {
		return "", fmt.Sprintf("type %q, want \"message\"", m.Type)
	}
	if len(m.Attachments) == 0 {
		return "", "no attachments"
	}
	var out strings.Builder
	for i, a := range m.Attachments {
		if a.ContentType != "application/vnd.microsoft.card.adaptive" {
			return "", fmt.Sprintf("attachments[%d].contentType %q", i, a.ContentType)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, a.Content); err != nil {
			return "", fmt.Sprintf("attachments[%d].content: %v", i, err)
		}
		if compact.Len() > TeamsMaxCardBytes {
			return "", fmt.Sprintf("MessageSizeExceeded: attachments[%d] card is %d bytes, max allowed size is %d bytes", i, compact.Len(), TeamsMaxCardBytes)
		}
		var c struct {
			Type    string `json:"type"`
			Body    any    `json:"body"`
			Actions []struct {
				Type  string `json:"type"`
				Title string `json:"title"`
				URL   string `json:"url"`
			} `json:"actions"`
			MSTeams struct {
				Entities []struct {
					Type      string `json:"type"`
					Text      string `json:"text"`
					Mentioned struct {
						ID   string `json:"id"`
						Name string `json:"name"`
					} `json:"mentioned"`
				} `json:"entities"`
			} `json:"msteams"`
		}
		if err := json.Unmarshal(a.Content, &c); err != nil || c.Type != "AdaptiveCard" {
			return "", fmt.Sprintf("attachments[%d].content is not an AdaptiveCard", i)
		}
		var blocks []string
		teamsWalk(c.Body, &blocks)
		for _, e := range c.MSTeams.Entities {
			if e.Type != "mention" {
				continue
			}
			found := false
			for _, b := range blocks {
				found = found || strings.Contains(b, e.Text)
			}
			if !found || e.Mentioned.ID == "" || e.Mentioned.Name == "" {
				return "", fmt.Sprintf("mention %q is in no TextBlock or has no id and name: Teams ignores it", e.Text)
			}
		}
		for _, b := range blocks {
			out.WriteString(notifytest.UnescapeMarkdown(b) + "\n")
		}
		for _, act := range c.Actions {
			if act.Type == "Action.OpenUrl" {
				out.WriteString(act.Title + " (" + act.URL + ")\n")
			}
		}
	}
	return out.String(), ""
}

// teamsWalk collects, in document order, the text of TextBlocks and the
// "title: value" of facts in an Adaptive Card element tree.
func teamsWalk(v any, out *[]string) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			teamsWalk(e, out)
		}
	case map[string]any:
		switch v["type"] {
		case "TextBlock":
			if s, ok := v["text"].(string); ok {
				*out = append(*out, s)
			}
		case "FactSet":
			facts, _ := v["facts"].([]any)
			for _, f := range facts {
				if f, ok := f.(map[string]any); ok {
					title, _ := f["title"].(string)
					value, _ := f["value"].(string)
					*out = append(*out, title+": "+value)
				}
			}
		}
		for _, k := range []string{"items", "columns", "body"} {
			teamsWalk(v[k], out)
		}
	}
}
