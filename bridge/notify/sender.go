package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultMaxResponseBytes bounds how much of a response body is read.
const DefaultMaxResponseBytes = 64 << 10

// Sender performs every outbound HTTP request of the bridge. It owns the
// lifecycle: context, User-Agent, response body limit, drain and close, and
// URL redaction in errors. Clients come from the target's http_config so
// proxies, TLS and auth apply; the Sender never creates transports.
type Sender struct {
	UserAgent        string
	MaxResponseBytes int64
}

// Send executes req with client. A non-nil error is a transport failure; its
// message never contains the request URL's credentials.
func (s *Sender) Send(ctx context.Context, client *http.Client, req *Request) (*Response, error) {
	method := req.Method
	if method == "" {
		method = http.MethodPost
	}
	hreq, err := http.NewRequestWithContext(ctx, method, req.URL, bytes.NewReader(req.Body))
	if err != nil {
		// url.Parse errors quote pieces of the URL; say nothing of it.
		return nil, errors.New("building request: invalid target URL")
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hreq.Header.Add(k, v) // Add canonicalizes the key
		}
	}
	if hreq.Header.Get("Content-Type") == "" && len(req.Body) > 0 {
		hreq.Header.Set("Content-Type", "application/json")
	}
	if s.UserAgent != "" {
		hreq.Header.Set("User-Agent", s.UserAgent)
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return nil, RedactError(err)
	}
	defer func() {
		// Drain a little so the connection can be reused, then close.
		_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
		resp.Body.Close()
	}()
	limit := s.MaxResponseBytes
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("reading response: %w", RedactError(err))
	}
	return &Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}, nil
}

// RedactURL returns u with its query values, user info and path hidden, so
// tokens carried in any of them never reach a log: only scheme and host stay.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return "<redacted>"
	}
	return p.Scheme + "://" + p.Host + "/<redacted>"
}

// RedactError rewrites the URL inside a *url.Error so the error can be
// logged. Other errors are returned unchanged.
func RedactError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return &url.Error{Op: uerr.Op, URL: RedactURL(uerr.URL), Err: redactNested(uerr.Err, uerr.URL)}
	}
	return err
}

// redactNested strips the raw URL from a wrapped error's text, which some
// transport errors repeat.
func redactNested(err error, raw string) error {
	if err == nil || raw == "" || !strings.Contains(err.Error(), raw) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), raw, RedactURL(raw)), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
