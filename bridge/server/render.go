package server

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Renderer previews what a target would send.
type Renderer interface {
	// Render builds the target's requests for msg (nil: built-in sample).
	// Unless signed, the requests carry no signature: they are built as
	// if the target had no secret, and header values that look like
	// credentials are redacted.
	Render(target string, msg *alert.Message, signed bool) ([]*notify.Request, error)
}

// renderClass: a preview with signatures (?sign=true) is an admin call,
// since a valid signature lets its holder post to the receiver as the
// bridge; without, it is a read.
func renderClass(r *http.Request) Class {
	if signed(r) {
		return ClassAdmin
	}
	return ClassRead
}

func signed(r *http.Request) bool {
	v, _ := strconv.ParseBool(r.URL.Query().Get("sign"))
	return v
}

// renderedRequest is one previewed request. The URL is redacted; headers
// are the rendered ones (they may carry signatures, never the URL token).
type renderedRequest struct {
	Method  string              `json:"method"`
	URL     string              `json:"url"`
	Headers map[string][]string `json:"headers"`
	Body    string              `json:"body"`
}

// render answers POST /api/v1/render?target=NAME with an optional
// Alertmanager payload as the body.
func (s *Server) render(w http.ResponseWriter, r *http.Request) {
	target := r.URL.Query().Get("target")
	if target == "" {
		writeError(w, http.StatusBadRequest, "target is required (?target=NAME)")
		return
	}
	body := http.MaxBytesReader(w, r.Body, s.maxBodyBytes)
	peek := make([]byte, 1)
	n, _ := io.ReadFull(body, peek)
	var msg *alert.Message
	if n > 0 {
		m, err := alert.Decode(io.MultiReader(bytes.NewReader(peek[:n]), body))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			writeError(w, http.StatusRequestEntityTooLarge, "body exceeds the limit of "+byteCount(s.maxBodyBytes))
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		msg = m
	}
	reqs, err := s.b.Render(target, msg, signed(r))
	switch {
	case errors.Is(err, ErrUnknownTarget):
		writeError(w, http.StatusNotFound, "unknown target "+quote(target))
		return
	case err != nil:
		writeError(w, http.StatusUnprocessableEntity, err.Error())
		return
	}
	out := make([]renderedRequest, 0, len(reqs))
	for _, req := range reqs {
		out = append(out, renderedRequest{Method: req.Method, URL: notify.RedactURL(req.URL), Headers: req.Header, Body: string(req.Body)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": out})
}
