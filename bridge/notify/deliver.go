package notify

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Deliver makes one delivery attempt of g through n: build, send every
// request in order, classify each answer. It stops at the first request
// that is not delivered and returns that result.
func (s *Sender) Deliver(ctx context.Context, client *http.Client, n Notifier, g *alert.Group) Result {
	reqs, err := n.Build(ctx, g)
	if err != nil {
		return Failed(ReasonTemplateError, "%v", err)
	}
	if len(reqs) == 0 {
		return Failed(ReasonTemplateError, "nothing to send")
	}
	for _, req := range reqs {
		resp, err := s.Send(ctx, client, req)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return Retryable(ReasonDeadline, 0, "%v", err)
			}
			return Retryable(ReasonTransportError, 0, "%v", err)
		}
		if r := n.Classify(resp); r.Verdict != Delivered {
			return r
		}
	}
	return OK()
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
