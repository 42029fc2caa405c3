package render

import (
	"regexp"
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
	m  map[string]*regexp.Regexp
}

func (c *regexps) compile(pattern string) (*regexp.Regexp, error) {
	c.mu.RLock()
	re, ok := c.m[pattern]
	c.mu.RUnlock()
	if ok {
		return re, nil
	}
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]*regexp.Regexp{}
	}
	if len(c.m) < maxCachedRegexps {
		c.m[pattern] = re
	}
	c.mu.Unlock()
	return re, nil
}

// match is Alertmanager's match (regexp.MatchString) with the pattern
// compiled once.
func (c *regexps) match(pattern, s string) (bool, error) {
	re, err := c.compile(pattern)
	if err != nil {
		return false, err
	}
	return re.MatchString(s), nil
}

// reReplaceAll is Alertmanager's reReplaceAll with the pattern compiled
// once; an invalid pattern panics as there, which text/template reports as
// the call's error.
func (c *regexps) reReplaceAll(pattern, repl, text string) string {
	re, err := c.compile(pattern)
	if err != nil {
		panic(err)
	}
	return re.ReplaceAllString(text, repl)
}
