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
	// fragments returns the fragment cache for a group about to be packed;
	// nil leaves Data.Fragment unavailable.
	fragments func(*alert.Group) *fragments
}

// wholeFirst is the most alerts for which packing first tries the whole
// group in one message. Larger groups rarely fit, and trying would render
// every alert's fragment although most end up in no message; their first
// message is tried with this many alerts instead.
const wholeFirst = 32

// pack renders g into bodies that each pass check. The common case, the
// whole group in one message, costs one render. Otherwise messages are
// filled greedily with as many whole alerts as fit (firing first); an alert
// too large on its own is sent with its values shortened; when max messages
// are not enough the last one counts the rest in More.
func (p *packer) pack(g *alert.Group) ([][]byte, error) {
	if len(g.Alerts) == 0 {
		return nil, errors.New("the group has no alerts")
	}
	g = g.FiringFirst()
	firing := len(g.Alerts.Firing())
	base := Data{Firing: firing, Resolved: len(g.Alerts) - firing, frags: p.fragmentsOf(g)}
	truncated := int(g.TruncatedAlerts)
	n := len(g.Alerts)

	est := &sizeEstimate{}
	var whole *attempt
	if n <= wholeFirst {
		a, err := p.try(g, base, 0, n, 1, 1, truncated)
		if err == nil {
			return [][]byte{a.body}, nil
		}
		if !IsLimit(err) {
			return nil, err
		}
		est.overLimit(a, err)
		whole = a
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
		s := search{i: i, n: n, lo: i, hi: n + 1, est: est}
		if i == 0 && whole != nil {
			// The whole group did not fit; as the first message it would
			// only differ in its numbering.
			s.hi, s.hiBytes = n, len(whole.body)
		}
		best, err := s.run(fits)
		if err != nil {
			return nil, err
		}
		if best == nil {
			if best, err = p.shortenedAttempt(g, base, i, len(parts)+1, p.max, more(i+1), s.cause); err != nil {
				return nil, err
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
		final, err := p.try(a.g, a.base, a.i, a.j, k+1, len(parts), a.more)
		if err != nil {
			return nil, fmt.Errorf("message %d of %d no longer fits once numbered: %w", k+1, len(parts), err)
		}
		out[k] = final.body
	}
	return out, nil
}

// sizeEstimate is what the renders of one packing taught about the body
// size at the platform's limit and the size one alert adds. Bodies are
// measured in bytes; a limit counted in other units (characters, blocks)
// is converted by the ratio a body over the limit showed.
type sizeEstimate struct {
	// limitBytes is the estimated body size at the limit; 0 means unknown.
	limitBytes float64
	// perAlert is the latest estimate of the bytes one alert adds, and
	// overhead of a message's bytes without any alert.
	perAlert, overhead float64
}

// overLimit learns the limit from a body that broke it.
func (e *sizeEstimate) overLimit(a *attempt, err error) {
	var le *LimitError
	if a == nil || !errors.As(err, &le) || le.Size <= 0 {
		return
	}
	e.limitBytes = float64(len(a.body)) * float64(le.Limit) / float64(le.Size)
}

// search finds the most alerts from i on that fit one message: the end j
// with [i, j) fitting and [i, j+1) not, assuming that a message only grows
// with its alerts, which is what the greedy packing has always meant.
// Instead of bisecting blindly it guesses from the sizes seen so far, so a
// message usually costs two or three renders however many alerts it holds.
type search struct {
	i, n int
	// lo is the largest end known to fit (i: none yet); hi the smallest
	// known not to (n+1: none yet), with its body size.
	lo, hi           int
	loBytes, hiBytes int
	best             *attempt
	est              *sizeEstimate
	// cause is the last limit error, for an alert that fits nowhere whole.
	cause error
	tries int
}

// run returns the fullest fitting message, or nil when not even alert i
// fits alone.
func (s *search) run(fits func(j int) (*attempt, error)) (*attempt, error) {
	s.learn()
	for s.hi-s.lo > 1 && s.lo < s.n {
		j := s.next()
		a, err := fits(j)
		s.tries++
		switch {
		case err == nil:
			s.best, s.lo, s.loBytes = a, j, len(a.body)
		case IsLimit(err):
			s.hi, s.hiBytes, s.cause = j, len(a.body), err
			s.est.overLimit(a, err)
		default:
			return nil, err
		}
		s.learn()
	}
	return s.best, nil
}

// learn updates the bytes one alert adds, and the bytes of a message
// without alerts, from the bounds known so far.
func (s *search) learn() {
	e := s.est
	switch {
	case s.lo > s.i && s.hi <= s.n && s.hiBytes > s.loBytes:
		e.perAlert = float64(s.hiBytes-s.loBytes) / float64(s.hi-s.lo)
	case e.perAlert > 0:
	case s.lo > s.i:
		e.perAlert = float64(s.loBytes) / float64(s.lo-s.i)
	case s.hi <= s.n:
		e.perAlert = float64(s.hiBytes) / float64(s.hi-s.i)
	}
	if s.lo > s.i {
		e.overhead = max(0, float64(s.loBytes)-e.perAlert*float64(s.lo-s.i))
	}
}

// next picks the end to try, strictly between lo and hi and at most n.
func (s *search) next() int {
	lo, hi := s.lo, min(s.hi, s.n+1)
	if s.lo == s.i && s.tries == 0 && s.hi > s.n {
		// Nothing known about this message yet: aim at the limit with the
		// last message's sizes, else try as many alerts as a whole group
		// is tried with (their fragments serve the next messages anyway).
		if s.est.limitBytes > 0 && s.est.perAlert > 0 {
			return s.clamp(s.i + int((s.est.limitBytes-s.est.overhead)/s.est.perAlert))
		}
		return s.clamp(s.i + wholeFirst)
	}
	if s.tries%3 == 2 && s.hi <= s.n {
		// Every third try bisects, so poor guesses cannot stall the search.
		return lo + (hi-lo)/2
	}
	if s.est.limitBytes > 0 && s.est.perAlert > 0 {
		var j int
		switch {
		case s.lo > s.i:
			j = s.lo + int((s.est.limitBytes-float64(s.loBytes))/s.est.perAlert)
		default:
			j = s.hi - 1 - int((float64(s.hiBytes)-s.est.limitBytes)/s.est.perAlert)
		}
		return s.clamp(j)
	}
	if s.hi > s.n {
		// No limit seen yet: grow exponentially.
		return s.clamp(s.i + 2*(s.lo-s.i))
	}
	return lo + (hi-lo)/2
}

// clamp keeps j strictly between lo and hi and at most n.
func (s *search) clamp(j int) int {
	return max(s.lo+1, min(j, s.hi-1, s.n))
}

// attempt is one rendered message: alerts [i, j) of g, rendered on base.
type attempt struct {
	g    *alert.Group
	base Data
	i, j int
	more int
	body []byte
}

// try renders alerts [i, j) of g as one message. The attempt comes back
// with its body also when the body fails the check, so its size can be
// learnt from; it is nil when rendering failed.
func (p *packer) try(g *alert.Group, base Data, i, j, part, parts, more int) (*attempt, error) {
	d := base
	d.setGroup(g.Slice(i, j))
	d.offset = i
	d.Part, d.Parts, d.More = part, parts, more
	body, err := p.render(&d)
	if err != nil {
		return nil, err
	}
	return &attempt{g: g, base: base, i: i, j: j, more: more, body: body}, p.check(body)
}

func (p *packer) fragmentsOf(g *alert.Group) *fragments {
	if p.fragments == nil {
		return nil
	}
	return p.fragments(g)
}

// shortenedAttempt renders alert i alone with its values cut shorter and
// shorter until it fits.
func (p *packer) shortenedAttempt(g *alert.Group, base Data, i, part, parts, more int, cause error) (*attempt, error) {
	for _, limit := range shortenSteps {
		short := g.Shortened(limit)
		base.frags = p.fragmentsOf(short)
		a, err := p.try(short, base, i, i+1, part, parts, more)
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
