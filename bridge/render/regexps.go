package render

import (
	"regexp"
	"strings"
	"sync"
)

// maxCachedRegexps bounds the compiled patterns kept; templates use a
// handful of literal patterns, so the bound only matters for patterns
// built from data, which are compiled on every call as before.
const maxCachedRegexps = 512

// regexps caches compiled patterns for match and reReplaceAll, which
// Alertmanager's functions compile again on every call (once per alert
// per render in the presets that check links).
type regexps struct {
	mu sync.RWMutex
	m  map[string]*compiled
}

// compiled is a pattern and, when it is a plain non-empty literal, that
// literal, which replaces faster than the regexp engine finds it.
type compiled struct {
	re      *regexp.Regexp
	literal string
	// required are character sets a match needs one of each (see
	// requiredSets).
	required []string
}

func (c *regexps) compile(pattern string) (*compiled, error) {
	c.mu.RLock()
	cp, ok := c.m[pattern]
	c.mu.RUnlock()
	if ok {
		return cp, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	cp = &compiled{re: re, required: requiredSets(pattern)}
	if prefix, complete := re.LiteralPrefix(); complete && prefix != "" {
		cp.literal = prefix
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*compiled{}
	}
	if len(c.m) < maxCachedRegexps {
		c.m[pattern] = cp
	}
	c.mu.Unlock()
	return cp, nil
}

// match is Alertmanager's match (regexp.MatchString) with the pattern
// compiled once.
func (c *regexps) match(pattern, s string) (bool, error) {
	cp, err := c.compile(pattern)
	if err != nil {
		return false, err
	}
	if cannotMatch(cp.required, s) {
		return false, nil
	}
	return cp.re.MatchString(s), nil
}

// reReplaceAll is Alertmanager's reReplaceAll with the pattern compiled
// once; an invalid pattern panics as there, which text/template reports as
// the call's error.
func (c *regexps) reReplaceAll(pattern, repl, text string) string {
	cp, err := c.compile(pattern)
	if err != nil {
		panic(err)
	}
	if cp.literal != "" && !strings.Contains(repl, "$") {
		// A literal without expansions: the same leftmost, non-overlapping
		// replacement.
		return strings.ReplaceAll(text, cp.literal, repl)
	}
	if cannotMatch(cp.required, text) {
		return text
	}
	return cp.re.ReplaceAllString(text, repl)
}
