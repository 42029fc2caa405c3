package alert

import (
	"bytes"
	"encoding/json"
	"strings"
)

// shape is what scanShape learns about a payload without decoding it.
type shape struct {
	// alerts is the largest number of elements of any top-level "alerts"
	// array. encoding/json decodes every such array in turn (keys match
	// case-insensitively, a later one replaces an earlier one), so this
	// bounds the alerts any decode materialises at once.
	alerts int
	// lastAlerts is the number of elements of the last top-level
	// "alerts" value (0 for null): what a successful decode holds.
	lastAlerts int
	// groupKey is the last top-level "groupKey" string, if any.
	groupKey string
	// ok: the top-level value is an object that was scanned to its end,
	// or null.
	// When false the counts cover only what came before the scan gave up.
	ok bool
}

// scanShape walks the top-level JSON object in b and counts the elements
// of its "alerts" arrays, allocating nothing but the group key. It stops
// at the end of the first top-level value, as the stream decoder does.
//
// The counts are exact for every b that is valid JSON up to the end of its
// first value; that is the only input encoding/json ever decodes, since it
// checks a value's syntax in full before it builds anything. For other
// input the scan stops early (ok is false) or its counts are meaningless,
// and the decoder refuses the payload on its own.
func scanShape(b []byte) shape {
	var s shape
	i := skipSpace(b, 0)
	if bytes.HasPrefix(b[i:], []byte("null")) {
		s.ok = true // decodes to an empty message
		return s
	}
	if i >= len(b) || b[i] != '{' {
		return s
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		s.ok = true
		return s
	}
	for i < len(b) {
		if b[i] != '"' {
			return s
		}
		end := skipString(b, i)
		if end < 0 {
			return s
		}
		key := b[i+1 : end-1]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return s
		}
		i = skipSpace(b, i+1)
		if i >= len(b) {
			return s
		}
		switch {
		case keyIs(key, "alerts"):
			n, next := countElements(b, i)
			if next < 0 {
				return s
			}
			s.lastAlerts = n
			s.alerts = max(s.alerts, n)
			i = next
		case keyIs(key, "groupKey") && b[i] == '"':
			next := skipString(b, i)
			if next < 0 {
				return s
			}
			s.groupKey = unquote(b[i:next])
			i = next
		default:
			if i = skipValue(b, i); i < 0 {
				return s
			}
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return s
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			s.ok = true
			return s
		default:
			return s
		}
	}
	return s
}

// keyIs reports whether the raw (still escaped) object key matches name
// the way encoding/json matches a key to a struct field: exactly or
// case-insensitively (with Unicode simple folding, so "ALERTS" and
// "alerſ" match too).
func keyIs(raw []byte, name string) bool {
	if bytes.IndexByte(raw, '\\') < 0 {
		return bytes.EqualFold(raw, []byte(name))
	}
	// Escapes are rare in keys; unquoting allocates.
	var k string
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	if json.Unmarshal(quoted, &k) != nil {
		return false
	}
	return strings.EqualFold(k, name)
}

// unquote decodes a JSON string literal (quotes included); "" if invalid.
func unquote(lit []byte) string {
	var v string
	if json.Unmarshal(lit, &v) != nil {
		return ""
	}
	return v
}

// countElements counts the elements of the array at b[i] and returns the
// index after it. A null counts as an empty array. Any other value is
// skipped and counted as 0: the decoder refuses it. next < 0: b ends
// before the value does.
func countElements(b []byte, i int) (n, next int) {
	if b[i] != '[' {
		return 0, skipValue(b, i)
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return 0, i + 1
	}
	for i < len(b) {
		if i = skipValue(b, i); i < 0 {
			return n, -1
		}
		n++
		i = skipSpace(b, i)
		if i >= len(b) {
			return n, -1
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return n, i + 1
		default:
			return n, -1
		}
	}
	return n, -1
}

// skipValue returns the index just after the JSON value that starts at
// b[i], or -1 if b ends first. Containers are skipped by depth, without
// recursion, so nesting depth costs nothing.
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	// A number, true, false or null: it ends at a delimiter.
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the index just after the string literal whose
// opening quote is b[i], or -1 if b ends first.
func skipString(b []byte, i int) int {
	i++
	for {
		j := bytes.IndexAny(b[i:], `"\`)
		if j < 0 {
			return -1
		}
		i += j
		if b[i] == '"' {
			return i + 1
		}
		i += 2 // a backslash and the character it escapes
		if i > len(b) {
			return -1
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}
