package notify

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Attempt tunes one delivery attempt.
type Attempt struct {
	// Skip is how many of the notification's requests an earlier attempt
	// already delivered; they are built again (so parts keep their
	// numbers) but not sent.
	Skip int
	// Pace is called before every request but the first of the attempt
	// (the caller paced that one); it waits for the target's rate limit.
	// Nil means no pacing.
	Pace func(context.Context) error
	// Timeout bounds each request; zero means only ctx bounds it.
	Timeout time.Duration
	// Redact scrubs the target's secrets from the result's message; each
	// request's own URL parts and signature headers are scrubbed too. Nil
	// scrubs only the latter.
	Redact *Redactor
	// Refs are the message ids the group's earlier notifications left on
	// the target (see Reviser), part by part; nil sends new messages.
	Refs []string
}

// Deliver makes one delivery attempt of g through n: build, send the
// requests in order, classify each answer. It stops at the first request
// that is not delivered and returns that result; Result.Sent counts the
// requests delivered so far (including skipped ones), so a retry resumes
// where this attempt stopped instead of repeating parts already posted.
// Result.Message never holds a value at.Redact or the request knows to be
// secret, whatever the target answered.
func (s *Sender) Deliver(ctx context.Context, client *http.Client, n Notifier, g *alert.Group, at Attempt) Result {
	res := s.deliver(ctx, client, n, g, at)
	res.Message = at.Redact.Redact(res.Message)
	return res
}

func (s *Sender) deliver(ctx context.Context, client *http.Client, n Notifier, g *alert.Group, at Attempt) Result {
	reqs, err := n.Build(ctx, g)
	if err != nil {
		return Failed(ReasonTemplateError, "%v", err)
	}
	if len(reqs) == 0 {
		return Failed(ReasonTemplateError, "nothing to send")
	}
	var refs []string
	if r, ok := n.(Reviser); ok && r.Update() != UpdateNew {
		refs = make([]string, len(reqs))
		if len(at.Refs) > 0 {
			reqs = r.Revise(reqs, at.Refs)
		}
	}
	sent := min(max(at.Skip, 0), len(reqs)-1)
	for i, req := range reqs[sent:] {
		if i > 0 && at.Pace != nil {
			if err := at.Pace(ctx); err != nil {
				return withRefs(withSent(Retryable(ReasonDeadline, 0, "waiting for the rate limit: %v", err), sent), refs)
			}
		}
		res := s.sendAuthorized(ctx, client, n, req, at)
		if res.Verdict != Delivered && res.Gone && req.Fallback != nil {
			// The message to edit is gone: post its part anew.
			if at.Pace != nil {
				if err := at.Pace(ctx); err != nil {
					return withRefs(withSent(Retryable(ReasonDeadline, 0, "waiting for the rate limit: %v", err), sent), refs)
				}
			}
			req = req.Fallback
			res = s.sendAuthorized(ctx, client, n, req, at)
		}
		if res.Verdict != Delivered {
			return withRefs(withSent(res, sent), refs)
		}
		if refs != nil {
			refs[sent] = res.Ref
			if refs[sent] == "" {
				refs[sent] = req.Ref // an edit whose answer names no message ("not modified")
			}
		}
		sent++
	}
	return withRefs(withSent(OK(), sent), refs)
}

// withRefs sets the attempt's message ids, nil when none was delivered.
func withRefs(r Result, refs []string) Result {
	r.Ref, r.Gone = "", false
	for _, ref := range refs {
		if ref != "" {
			r.Refs = refs
			break
		}
	}
	return r
}

// sendAuthorized sends one request through sendOne; for an Authorizer it
// first gets a token when none is held, and when the answer refuses the
// token it gets a new one and sends the request once more.
func (s *Sender) sendAuthorized(ctx context.Context, client *http.Client, n Notifier, req *Request, at Attempt) Result {
	auth, ok := n.(Authorizer)
	if !ok {
		return s.sendOne(ctx, client, n, req, at.Timeout, at.Redact)
	}
	var res Result
	for try := range 2 {
		if tr := auth.TokenRequest(try > 0); tr != nil {
			if r := s.fetchToken(ctx, client, auth, tr, at); r.Verdict != Delivered {
				return r
			}
		}
		res = s.sendOne(ctx, client, n, auth.Authorize(req), at.Timeout, at.Redact)
		if !res.Reauth {
			break
		}
	}
	res.Reauth = false
	return res
}

// fetchToken sends an Authorizer's token request and hands it the answer;
// the result's message is scrubbed like a delivery's (the target's
// secrets, and the token request's URL).
func (s *Sender) fetchToken(ctx context.Context, client *http.Client, auth Authorizer, tr *Request, at Attempt) Result {
	if at.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, at.Timeout)
		defer cancel()
	}
	resp, err := s.Send(ctx, client, tr)
	if err != nil {
		reason := ReasonTransportError
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = ReasonDeadline
		}
		return Retryable(reason, 0, "getting an access token: %s", at.Redact.WithRequest(tr).Redact(err.Error()))
	}
	res := auth.TokenAnswer(resp)
	if res.Verdict != Delivered {
		res.Message = "getting an access token: " + at.Redact.WithRequest(tr).Redact(res.Message)
	}
	return res
}

// sendOne sends one request and classifies the answer. A result that is
// not delivered has every secret scrubbed from its message: those of
// redact, those of the request (see Redactor.WithRequest), and the
// credential headers the HTTP client wrote on the wire (see
// WireCredentials), which the notifier never saw: the Basic auth made from
// a URL's user info, an OAuth2 access token, a credentials file read at
// send time. The body is scrubbed before it is classified again for the
// message, so a secret the 256-byte snippet would cut in half is gone
// whole.
func (s *Sender) sendOne(ctx context.Context, client *http.Client, n Notifier, req *Request, timeout time.Duration, redact *Redactor) Result {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	wire := &WireCredentials{}
	resp, err := s.Send(wire.Context(ctx), client, req)
	scrub := func() *Redactor { return redact.WithRequest(req).WithHeaderValues(wire.Values()...) }
	if err != nil {
		reason := ReasonTransportError
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
			reason = ReasonDeadline
		}
		return Retryable(reason, 0, "%s", scrub().Redact(err.Error()))
	}
	res := n.Classify(resp)
	if res.Verdict == Delivered {
		return res
	}
	r := scrub()
	clean := *resp
	clean.Body = []byte(r.Redact(string(resp.Body)))
	res.Message = r.Redact(n.Classify(&clean).Message)
	return res
}

func withSent(r Result, sent int) Result {
	r.Sent = sent
	return r
}

// Backoff returns the wait before retry number attempt (1 for the first
// retry): base doubled per attempt, capped at max, with "equal jitter"
// (half fixed, half random) so retries of many jobs spread out.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	if d <= 0 {
		return 0
	}
	half := d / 2
	return half + rand.N(d-half+1)
}
