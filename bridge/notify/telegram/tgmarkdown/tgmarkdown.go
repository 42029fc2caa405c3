// Package tgmarkdown reads Telegram's two Markdown parse modes as
// Telegram's server does (the rules of the Bot API's "Formatting options",
// in the order its parser applies them): what a reader sees, or why
// Telegram answers "can't parse entities". Both work on bytes, as
// Telegram's parser does, and report byte offsets as Telegram does. The
// telegram integration measures its messages with it and the strict fake
// Bot API judges them with it; it imports nothing of the bridge.
package tgmarkdown

import (
	"fmt"
	"strings"
)

// isSpace is Telegram's parser's idea of a blank after a pre block's ```.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == 0
}

// at is s[i], or 0 past the end (the parser reads a C string).
func at(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// Legacy returns what Telegram shows of a text in the legacy
// Markdown parse mode: markers removed, escapes resolved. Outside an
// entity a backslash escapes _ * ` and [ (and nothing else); _ opens
// italic, * bold, ` code, ``` a pre block (a language name and one line
// break after it are skipped), [ a link whose text ends at ] and whose
// URL follows in (...). Inside an entity every character is literal until
// the entity's closing character: entities do not nest and nothing can be
// escaped. An entity that is never closed is an error, as is a link URL
// without its ")".
func Legacy(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && strings.IndexByte("_*`[", at(s, i+1)) >= 0 {
			i++
			b.WriteByte(s[i])
			continue
		}
		if c != '_' && c != '*' && c != '`' && c != '[' {
			b.WriteByte(c)
			continue
		}
		begin := i
		end := c
		if c == '[' {
			end = ']'
		}
		i++
		pre := false
		if c == '`' && at(s, i) == '`' && at(s, i+1) == '`' {
			pre = true
			i = skipPreHeader(s, i+2)
		}
		content := b.Len()
		for i < len(s) && (s[i] != end || (pre && !(at(s, i+1) == '`' && at(s, i+2) == '`'))) {
			b.WriteByte(s[i])
			i++
		}
		if i >= len(s) {
			return "", fmt.Errorf("can't find end of the entity starting at byte offset %d", begin)
		}
		if c == '[' && at(s, i+1) == '(' && b.Len() > content {
			i += 2
			url := i
			for i < len(s) && s[i] != ')' {
				i++
			}
			if i >= len(s) {
				return "", fmt.Errorf("can't find end of a URL at byte offset %d", url)
			}
		}
		if pre {
			i += 2
		}
	}
	return b.String(), nil
}

// markdownV2Reserved are the characters MarkdownV2 reserves outside code
// and pre.
const markdownV2Reserved = "_*[]()~`>#+-=|{}.!"

// v2Entity is an entity open while MarkdownV2 text is read.
type v2Entity struct {
	kind  string // "bold", "italic", "underline", "strikethrough", "spoiler", "code", "pre", "link", "emoji"
	begin int    // byte offset of its marker
}

// V2 returns what Telegram shows of a text in the
// MarkdownV2 parse mode: markers removed, escapes resolved. Any character
// from 1 to 126 may be escaped by a backslash, anywhere. Outside code and
// pre, each of _ * [ ] ( ) ~ ` > # + - = | { } . ! that is not escaped must
// be a marker: *bold*, _italic_, __underline__, ~strikethrough~,
// ||spoiler||, `code`, ```pre```, [text](URL), ![emoji](tg://emoji?id=…),
// and > starting a line of a block quote (**> an expandable one); inside
// code and pre only ` is special. Entities nest; one left open is an
// error, as is a reserved character that is no marker.
func V2(s string) (string, error) {
	var b strings.Builder
	var open []v2Entity
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && at(s, i+1) > 0 && at(s, i+1) <= 126 {
			i++
			b.WriteByte(s[i])
			continue
		}
		reserved := markdownV2Reserved
		inCode := len(open) > 0 && (open[len(open)-1].kind == "code" || open[len(open)-1].kind == "pre")
		if inCode {
			reserved = "`"
		}
		if strings.IndexByte(reserved, c) < 0 {
			b.WriteByte(c)
			continue
		}
		if !inCode && c == '>' && (i == 0 || s[i-1] == '\n') {
			continue // a block quote line
		}
		if !inCode && c == '*' && at(s, i+1) == '*' && at(s, i+2) == '>' && (i == 0 || s[i-1] == '\n') {
			i += 2 // an expandable block quote
			continue
		}
		if !inCode && c == '|' && at(s, i+1) == '|' && (at(s, i+2) == '\n' || at(s, i+2) == 0) && len(open) == 0 {
			i++ // the end of an expandable block quote
			continue
		}
		if len(open) > 0 {
			top := open[len(open)-1]
			closes := false
			switch top.kind {
			case "bold":
				closes = c == '*'
			case "italic":
				closes = c == '_' && at(s, i+1) != '_'
			case "underline":
				closes = c == '_' && at(s, i+1) == '_'
			case "strikethrough":
				closes = c == '~'
			case "spoiler":
				closes = c == '|' && at(s, i+1) == '|'
			case "code":
				closes = c == '`'
			case "pre":
				closes = c == '`' && at(s, i+1) == '`' && at(s, i+2) == '`'
			case "link", "emoji":
				closes = c == ']'
			}
			if closes {
				open = open[:len(open)-1]
				switch top.kind {
				case "underline", "spoiler":
					i++
				case "pre":
					i += 2
				case "link", "emoji":
					if at(s, i+1) != '(' {
						if top.kind == "emoji" {
							return "", fmt.Errorf("custom emoji entity must contain a tg://emoji URL")
						}
						continue
					}
					i += 2
					url := i
					for i < len(s) && s[i] != ')' {
						if s[i] == '\\' && at(s, i+1) > 0 && at(s, i+1) <= 126 {
							i++
						}
						i++
					}
					if i >= len(s) {
						return "", fmt.Errorf("can't find end of a URL at byte offset %d", url)
					}
				}
				continue
			}
		}
		e := v2Entity{begin: i}
		switch c {
		case '_':
			e.kind = "italic"
			if at(s, i+1) == '_' {
				e.kind = "underline"
				i++
			}
		case '*':
			e.kind = "bold"
		case '~':
			e.kind = "strikethrough"
		case '|':
			if at(s, i+1) != '|' {
				return "", reservedError(c)
			}
			e.kind = "spoiler"
			i++
		case '[':
			e.kind = "link"
		case '!':
			if at(s, i+1) != '[' {
				return "", reservedError(c)
			}
			e.kind = "emoji"
			i++
		case '`':
			e.kind = "code"
			if at(s, i+1) == '`' && at(s, i+2) == '`' {
				e.kind = "pre"
				i = skipPreHeader(s, i+3) - 1
			}
		default:
			return "", reservedError(c)
		}
		open = append(open, e)
	}
	if len(open) > 0 {
		top := open[len(open)-1]
		return "", fmt.Errorf("can't find end of %s entity at byte offset %d", top.kind, top.begin)
	}
	return b.String(), nil
}

func reservedError(c byte) error {
	return fmt.Errorf("character '%c' is reserved and must be escaped with the preceding '\\'", c)
}

// skipPreHeader returns where the content of a pre block starts, given
// the index just after its opening ```: past the language name, when one
// is followed by more on the line, and past one line break (\n, \r, \r\n
// or \n\r), as Telegram's parser skips them.
func skipPreHeader(s string, i int) int {
	lang := i
	for !isSpace(at(s, lang)) && at(s, lang) != '`' {
		lang++
	}
	if i != lang && lang < len(s) && at(s, lang) != '`' {
		i = lang
	}
	if cur := at(s, i); cur == '\n' || cur == '\r' {
		if next := at(s, i+1); (next == '\n' || next == '\r') && cur != next {
			return i + 2
		}
		return i + 1
	}
	return i
}
