package render

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// maxRequiredSet bounds the characters of one required set; larger classes
// (\w, [^x]) are not worth checking.
const maxRequiredSet = 16

// requiredSets returns sets of characters of which every match of the
// pattern contains at least one character each: a text that lacks all the
// characters of one set cannot match, and the regexp engine need not scan
// it (the presets run patterns like `\r?\n` over descriptions of any size).
// It returns nil when nothing is known to be required.
func requiredSets(pattern string) []string {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	return required(re.Simplify())
}

func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 || len(re.Rune) == 0 {
			return nil
		}
		return []string{string(re.Rune[0])}
	case syntax.OpCharClass:
		if re.Flags&syntax.FoldCase != 0 {
			return nil
		}
		var b strings.Builder
		n := 0
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if hi-lo+1 > maxRequiredSet-rune(n) || !utf8.ValidRune(lo) || !utf8.ValidRune(hi) {
				return nil
			}
			for r := lo; r <= hi; r++ {
				b.WriteRune(r)
				n++
			}
		}
		if n == 0 {
			return nil
		}
		return []string{b.String()}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		var sets []string
		for _, sub := range re.Sub {
			sets = append(sets, required(sub)...)
		}
		return sets
	}
	return nil
}

// cannotMatch reports whether text lacks every character of one of sets.
func cannotMatch(sets []string, text string) bool {
	for _, set := range sets {
		if !strings.ContainsAny(text, set) {
			return true
		}
	}
	return false
}
