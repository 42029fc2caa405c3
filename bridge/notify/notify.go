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
	// Ref names the message this request edits (see Reviser); empty for a
	// request that posts a new message.
	Ref string
	// Fallback, when set, is sent instead once the target answers that the
	// message Ref names is gone (Result.Gone): the new message that
	// replaces it.
	Fallback *Request
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
	// Ref is, for the answer to one request, the platform's id of the
	// message it posted or edited, as the notifier's Reviser takes it back
	// (empty when the answer names none).
	Ref string
	// Gone marks an answer saying the message a request edits no longer
	// exists (deleted, or too old to edit): the Sender then sends the
	// request's Fallback.
	Gone bool
	// Reauth marks an answer saying the request's access token is invalid
	// or expired (see Authorizer): the Sender fetches a new token and
	// sends the request once more.
	Reauth bool
	// Refs is, for a whole attempt, the message of each part of the
	// notification (Refs[i] for part i) this attempt delivered; "" for a
	// part it did not deliver (skipped, or after a failure). Nil when the
	// notifier reports no message ids.
	Refs []string
}

// Update says what a later notification of a group does with the
// messages an earlier one posted to the same target (a target's update
// key).
type Update string

// The update modes.
const (
	// UpdateNew posts every notification as new messages.
	UpdateNew Update = "new"
	// UpdateEdit edits the messages the group's first notification
	// posted, part by part.
	UpdateEdit Update = "edit"
	// UpdateReply posts new messages in reply to the first message the
	// group's first notification posted.
	UpdateReply Update = "reply"
)

// Reviser is a Notifier that can change, or answer, messages it posted
// before. The Sender calls Revise on what Build made when the caller
// passes the ids of the group's earlier messages (Attempt.Refs), and
// collects the ids of the messages each answer names (Result.Ref, parsed
// by Classify) into Result.Refs. It does no I/O either.
type Reviser interface {
	Notifier
	// Update is the notifier's update mode.
	Update() Update
	// Revise rewrites reqs (one per part, from Build) for a group whose
	// earlier notification posted the messages refs names (refs[i] for
	// part i, "" for none): with UpdateEdit, a part with a ref becomes an
	// edit of that message (its Ref set, and the new message as its
	// Fallback), a part without one stays new; with UpdateReply, every
	// part replies to refs[0]. A ref it cannot use (another chat, a
	// malformed id) leaves the part new.
	Revise(reqs []*Request, refs []string) []*Request
}

// Authorizer is a Notifier whose requests carry an access token it gets
// from the platform (an app's tenant token from its id and secret) rather
// than from the configuration. The Sender asks for a token before an
// attempt's first request when the notifier holds none still valid, has
// every request carry it, and asks for a new one, once per request, when
// an answer says the token was refused (Result.Reauth). Implementations
// keep the token (safe for concurrent use); they do no I/O.
type Authorizer interface {
	Notifier
	// TokenRequest returns the request that fetches a token, or nil when
	// the token held is still valid; stale asks for a new one whatever is
	// held (the platform refused it).
	TokenRequest(stale bool) *Request
	// TokenAnswer reads the answer to the token request and keeps the
	// token until it expires; a result other than Delivered says why no
	// token came. Its message never holds the token or the secret.
	TokenAnswer(resp *Response) Result
	// Authorize returns req carrying the token held.
	Authorize(req *Request) *Request
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
