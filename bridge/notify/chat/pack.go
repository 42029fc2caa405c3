package chat

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// shortenSteps are the rune limits tried, in order, on the label and
// annotation values of one alert that does not fit a message on its own.
var shortenSteps = []int{2048, 512, 128, 48, 16}

// packer splits a group over messages.
type packer struct {
	render func(*Data) ([]byte, error)
	check  func([]byte) error
	// max is the most messages one notification may take.
	max int
}

// pack renders g into bodies that each pass check. The common case, the
// whole group in one message, costs one render. Otherwise messages are
// filled greedily with as many whole alerts as fit (firing first), found by
// exponential then binary search over renders; an alert too large on its
// own is sent with its values shortened; when max messages are not enough
// the last one counts the rest in More.
func (p *packer) pack(g *alert.Group) ([][]byte, error) {
	if len(g.Alerts) == 0 {
		return nil, errors.New("the group has no alerts")
	}
	g = g.FiringFirst()
	firing := len(g.Alerts.Firing())
	base := Data{Firing: firing, Resolved: len(g.Alerts) - firing}
	truncated := int(g.TruncatedAlerts)
	n := len(g.Alerts)

	whole, err := p.try(g, base, 0, n, 1, 1, truncated)
	if err == nil {
		return [][]byte{whole.body}, nil
	}
	if !IsLimit(err) {
		return nil, err
	}
	// Pack with Parts = max (as many digits as any final count), then
	// render again with the real count.
	var parts []*attempt
	for i := 0; i < n && len(parts) < p.max; {
		last := len(parts) == p.max-1
		more := func(j int) int {
			if last || j == n {
				return n - j + truncated
			}
			return 0
		}
		fits := func(j int) (*attempt, error) { return p.try(g, base, i, j, len(parts)+1, p.max, more(j)) }
		best, err := fits(i + 1)
		if err != nil {
			if !IsLimit(err) {
				return nil, err
			}
			if best, err = p.shortenedAttempt(g, base, i, len(parts)+1, p.max, more(i+1), err); err != nil {
				return nil, err
			}
		} else {
			// Grow exponentially while it fits, then bisect.
			lo, hi := i+1, n+1 // lo fits; hi does not (or is past the end)
			for step := 1; lo+step <= n; step *= 2 {
				a, err := fits(lo + step)
				if err != nil {
					if !IsLimit(err) {
						return nil, err
					}
					hi = lo + step
					break
				}
				best, lo = a, lo+step
			}
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				a, err := fits(mid)
				if err != nil {
					if !IsLimit(err) {
						return nil, err
					}
					hi = mid
					continue
				}
				best, lo = a, mid
			}
		}
		parts = append(parts, best)
		i = best.j
	}

	out := make([][]byte, len(parts))
	for k, a := range parts {
		if len(parts) == p.max {
			out[k] = a.body
			continue
		}
		final, err := p.try(a.g, base, a.i, a.j, k+1, len(parts), a.more)
		if err != nil {
			return nil, fmt.Errorf("message %d of %d no longer fits once numbered: %w", k+1, len(parts), err)
		}
		out[k] = final.body
	}
	return out, nil
}

// attempt is one rendered message: alerts [i, j) of g.
type attempt struct {
	g    *alert.Group
	i, j int
	more int
	body []byte
}

func (p *packer) try(g *alert.Group, base Data, i, j, part, parts, more int) (*attempt, error) {
	d := base
	d.Group = g.Slice(i, j)
	d.Part, d.Parts, d.More = part, parts, more
	body, err := p.render(&d)
	if err != nil {
		return nil, err
	}
	if err := p.check(body); err != nil {
		return nil, err
	}
	return &attempt{g: g, i: i, j: j, more: more, body: body}, nil
}

// shortenedAttempt renders alert i alone with its values cut shorter and
// shorter until it fits.
func (p *packer) shortenedAttempt(g *alert.Group, base Data, i, part, parts, more int, cause error) (*attempt, error) {
	for _, limit := range shortenSteps {
		a, err := p.try(g.Shortened(limit), base, i, i+1, part, parts, more)
		if err == nil {
			return a, nil
		}
		if !IsLimit(err) {
			return nil, err
		}
		cause = err
	}
	return nil, fmt.Errorf("one alert does not fit in a message even with every value shortened to %d characters: %w", shortenSteps[len(shortenSteps)-1], cause)
}

// ValidJSON reports whether body is one JSON document, with the decoder's
// complaint when it is not.
func ValidJSON(body []byte) error {
	if json.Valid(body) {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("rendered invalid JSON: %v", err)
	}
	return errors.New("rendered invalid JSON")
}
