package console

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/server"
)

// Playground renders what a target would send, without sending it.
type Playground interface {
	// Playground renders req. Errors: server.ErrUnknownTarget (wrapped)
	// for an unknown target, *PayloadError for a payload that does not
	// decode, *TemplateError for a template that does not parse or
	// execute; any other error says why nothing can be sent (an unknown
	// type, send_resolved dropping every alert, a platform's schema).
	Playground(req PlaygroundRequest) (*PlaygroundResult, error)
	// PlaygroundChoices lists what the form offers.
	PlaygroundChoices() PlaygroundChoices
}

// PlaygroundRequest is one render.
type PlaygroundRequest struct {
	// Target is a configured target whose settings are used; empty means
	// a new target of Type and Dialect with default options.
	Target  string `json:"target"`
	Type    string `json:"type"`
	Dialect string `json:"dialect"`
	// Template, when Custom, replaces the target's body template (empty:
	// the type's preset); otherwise the target's own template is used.
	Template string `json:"template"`
	Custom   bool   `json:"custom"`
	// Payload is an Alertmanager webhook payload; empty means Sample.
	Payload string `json:"payload"`
	// Sample names a built-in notification (PlaygroundChoices.Samples).
	Sample string `json:"sample"`
}

// PlaygroundResult is what the target would be sent: one request per
// message after splitting, the URL reduced to scheme and host, credential
// headers redacted, no signatures.
type PlaygroundResult struct {
	Messages []Message `json:"messages"`
}

// Message is one request.
type Message struct {
	Method  string   `json:"method"`
	URL     string   `json:"url"`
	Headers []Header `json:"headers"`
	Body    string   `json:"body"`
	// Sizes are the body measured as the platform counts it, each against
	// its limit.
	Sizes []Size `json:"sizes"`
}

// Header is one request header.
type Header struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Size is one measure of a message and its limit (0: none).
type Size struct {
	What  string `json:"what"`
	Size  int    `json:"size"`
	Limit int    `json:"limit,omitempty"`
	Unit  string `json:"unit"`
}

// PlaygroundChoices are the form's options.
type PlaygroundChoices struct {
	Targets  []server.TargetStatus
	Types    []string
	Dialects []string
	Samples  []string
}

// PayloadError is a pasted payload that does not decode.
type PayloadError struct{ Err error }

func (e *PayloadError) Error() string { return "payload: " + e.Err.Error() }
func (e *PayloadError) Unwrap() error { return e.Err }

// TemplateError is a template that does not parse or execute; Line and
// Column (1-based, 0 when unknown) point into the edited template.
type TemplateError struct {
	Msg          string
	Line, Column int
}

func (e *TemplateError) Error() string { return e.Msg }

// maxTemplateBytes bounds an edited template.
const maxTemplateBytes = 64 << 10

type playgroundData struct {
	Choices PlaygroundChoices
	// Target preselects a target (?target=NAME).
	Target string
}

// playgroundPage is the form; rendering happens in the page's script
// through playgroundRender.
func (c *Console) playgroundPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, http.StatusOK, "playground", "Template playground", playgroundData{Choices: c.b.PlaygroundChoices(), Target: r.URL.Query().Get("target")})
}

// playgroundAnswer is the JSON answer of a render.
type playgroundAnswer struct {
	Status   string            `json:"status"`
	Data     *PlaygroundResult `json:"data,omitempty"`
	Snippet  string            `json:"snippet,omitempty"`
	Error    string            `json:"error,omitempty"`
	Line     int               `json:"line,omitempty"`
	Column   int               `json:"column,omitempty"`
	Template bool              `json:"templateError,omitempty"`
}

// playgroundRender answers POST /console/render (a target's own
// templates: a read, like /api/v1/render) and POST /console/render-custom
// (an edited template: an admin call, since it runs any template the
// caller writes on the bridge) with a JSON PlaygroundRequest.
func (c *Console) playgroundRender(w http.ResponseWriter, r *http.Request) {
	var req PlaygroundRequest
	body := http.MaxBytesReader(w, r.Body, c.o.MaxBodyBytes+maxTemplateBytes+4096)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			answer(w, http.StatusRequestEntityTooLarge, playgroundAnswer{Status: "error", Error: "request too large"})
			return
		}
		answer(w, http.StatusBadRequest, playgroundAnswer{Status: "error", Error: "the request must be a JSON object: " + err.Error()})
		return
	}
	if _, err := dec.Token(); err != io.EOF {
		answer(w, http.StatusBadRequest, playgroundAnswer{Status: "error", Error: "trailing data after the JSON object"})
		return
	}
	custom := strings.HasSuffix(r.URL.Path, "/render-custom")
	switch {
	case req.Custom && !custom:
		answer(w, http.StatusForbidden, playgroundAnswer{Status: "error", Error: "an edited template runs on the bridge, which is an admin call: start the bridge with " + server.FlagAdmin})
		return
	case !req.Custom && custom:
		req.Custom = true
	case len(req.Template) > maxTemplateBytes:
		answer(w, http.StatusRequestEntityTooLarge, playgroundAnswer{Status: "error", Error: fmt.Sprintf("the template is over %d KiB", maxTemplateBytes>>10)})
		return
	case int64(len(req.Payload)) > c.o.MaxBodyBytes:
		answer(w, http.StatusRequestEntityTooLarge, playgroundAnswer{Status: "error", Error: "the payload is over the webhook body limit"})
		return
	}
	res, err := c.b.Playground(req)
	var (
		te *TemplateError
		pe *PayloadError
	)
	switch {
	case err == nil:
		answer(w, http.StatusOK, playgroundAnswer{Status: "success", Data: res, Snippet: snippet(req)})
	case errors.Is(err, server.ErrUnknownTarget):
		answer(w, http.StatusNotFound, playgroundAnswer{Status: "error", Error: "unknown target " + fmt.Sprintf("%q", req.Target)})
	case errors.As(err, &pe):
		answer(w, http.StatusBadRequest, playgroundAnswer{Status: "error", Error: pe.Error()})
	case errors.As(err, &te):
		answer(w, http.StatusUnprocessableEntity, playgroundAnswer{Status: "error", Error: te.Msg, Line: te.Line, Column: te.Column, Template: true})
	default:
		answer(w, http.StatusUnprocessableEntity, playgroundAnswer{Status: "error", Error: err.Error()})
	}
}

func answer(w http.ResponseWriter, code int, a playgroundAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a)
}

// snippetTarget is the configuration a render can be copied as.
type snippetTarget struct {
	Name     string `yaml:"name"`
	Type     string `yaml:"type,omitempty"`
	Dialect  string `yaml:"dialect,omitempty"`
	URLFile  string `yaml:"url_file"`
	Template string `yaml:"template,omitempty"`
}

// snippet is req as a target entry of the configuration file, the URL
// left to a file the operator fills (never the real one).
func snippet(req PlaygroundRequest) string {
	name := req.Target
	if name == "" {
		name = "my-" + req.Type
	}
	t := snippetTarget{Name: name, Type: req.Type, URLFile: "/etc/alertbridge/" + name + ".url"}
	if req.Dialect != "" && req.Dialect != "alertmanager" {
		t.Dialect = req.Dialect
	}
	if req.Custom {
		t.Template = req.Template
	}
	b, err := yaml.Marshal([]snippetTarget{t})
	if err != nil {
		return ""
	}
	return "targets:\n" + indent(string(b), "  ")
}

func indent(s, by string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" && l != "\n" {
			b.WriteString(by)
		}
		b.WriteString(l)
	}
	return b.String()
}
