// Package notify defines what an integration is (a Notifier that builds
// requests and classifies responses, doing no I/O of its own), the result
// vocabulary shared by every integration, and the one HTTP sender that owns
// the request lifecycle.
package notify

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Notifier turns a group into HTTP requests for one target and judges the
// target's answers. Implementations must be safe for concurrent use and must
// not perform I/O: the Sender does that.
type Notifier interface {
	// Build renders the requests that deliver g. An error means the group
	// cannot be rendered (a template or content problem); it is permanent.
	Build(ctx context.Context, g *alert.Group) ([]*Request, error)
	// Classify decides what a response means for delivery.
	Classify(resp *Response) Result
}

// Request is one HTTP request to a target. URL carries credentials and must
// never be logged; use RedactURL.
type Request struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
}

// Response is what the Sender read back: status, headers and at most the
// Sender's response limit of the body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// Verdict is the outcome class of one delivery attempt.
type Verdict int

const (
	// Delivered: the target accepted the message.
	Delivered Verdict = iota
	// Retry: a later attempt may succeed.
	Retry
	// Permanent: no retry can fix it; the job becomes a dead letter.
	Permanent
)

func (v Verdict) String() string {
	switch v {
	case Delivered:
		return "delivered"
	case Retry:
		return "retry"
	case Permanent:
		return "permanent"
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Reason is a bounded failure cause, safe to use as a metric label. The
// vocabulary follows Alertmanager's notification failure reasons.
type Reason string

// The fixed set of failure reasons.
const (
	ReasonNone             Reason = ""
	ReasonClientError      Reason = "clientError"
	ReasonServerError      Reason = "serverError"
	ReasonAuthError        Reason = "authError"
	ReasonRateLimited      Reason = "rateLimited"
	ReasonDeadline         Reason = "contextDeadlineExceeded"
	ReasonIMRejected       Reason = "imRejected"
	ReasonTooLarge         Reason = "tooLarge"
	ReasonTemplateError    Reason = "templateError"
	ReasonTransportError   Reason = "transportError"
	ReasonTargetRemoved    Reason = "targetRemoved"
	ReasonAttemptsExceeded Reason = "attemptsExceeded"
)

// Result is the classification of one attempt. Message is human-readable
// detail (the platform's own error text); it must not contain secrets.
type Result struct {
	Verdict Verdict
	Reason  Reason
	// RetryAfter is the wait the target asked for (Retry-After, retry_after or
	// a rate-limit code); zero means use the backoff schedule.
	RetryAfter time.Duration
	Message    string
	// Sent counts the requests of the notification delivered so far, when
	// it needs several (a group split over messages).
	Sent int
}

// OK is the result of a delivered attempt.
func OK() Result { return Result{Verdict: Delivered} }

// Retryable builds a retry result.
func Retryable(r Reason, after time.Duration, format string, args ...any) Result {
	return Result{Verdict: Retry, Reason: r, RetryAfter: after, Message: fmt.Sprintf(format, args...)}
}

// Failed builds a permanent-failure result.
func Failed(r Reason, format string, args ...any) Result {
	return Result{Verdict: Permanent, Reason: r, Message: fmt.Sprintf(format, args...)}
}
