package render

import (
	"fmt"
	"reflect"
	"strings"
	"text/template"
)

// Telegram's Markdown parse modes have no tag syntax to escape, only
// marker characters, and the legacy mode has no escape at all inside an
// entity. The escapers here print a value so that Telegram shows it
// literally and no marker of it opens, closes or breaks an entity.

// markdownV2Reserved are the characters MarkdownV2 reserves, plus the
// backslash itself (Telegram: any character from 1 to 126 may be escaped
// by a preceding backslash, anywhere, inside code, pre and link URLs too).
const markdownV2Reserved = "_*[]()~`>#+-=|{}.!\\"

// TelegramMarkdownV2 escapes text for Telegram's MarkdownV2: a backslash
// goes before each of _ * [ ] ( ) ~ ` > # + - = | { } . ! and \. The
// result is literal text in every MarkdownV2 context (plain text, inside
// an entity, code, pre and a link's URL), so one escaper serves them all.
// "web-1.example" gives "web\-1\.example".
func TelegramMarkdownV2(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for _, r := range s {
		if r < 0x80 && strings.IndexByte(markdownV2Reserved, byte(r)) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// wordJoiner is U+2060, an invisible character that separates what legacy
// Markdown would otherwise read as one marker or an escape.
const wordJoiner = "\u2060"

// Contexts of Telegram's legacy Markdown, as the escaper for a value
// printed there is told them.
const (
	mdOutside  = "text"     // outside any entity
	mdItalic   = "italic"   // inside _..._
	mdBold     = "bold"     // inside *...*
	mdCode     = "code"     // inside `...`
	mdPre      = "pre"      // inside ```...```
	mdLinkText = "linktext" // inside [...] of a link
	mdLinkURL  = "linkurl"  // inside (...) of a link
	mdAfterRef = "afterref" // right after a link's ] (a "(" would start its URL)
)

// TelegramMarkdown escapes text for Telegram's legacy Markdown outside
// any entity: a backslash goes before each of _ * ` and [ (the only
// escapes the mode has). A trailing backslash is followed by U+2060 (word
// joiner, invisible), so it cannot escape a marker the template prints
// next. "db_1 *x*" gives "db\_1 \*x\*".
func TelegramMarkdown(s string) string { return TelegramMarkdownIn(mdOutside, s) }

// TelegramMarkdownIn escapes text for a context of Telegram's legacy
// Markdown. Inside an entity the mode has no escape, so the entity is
// closed around the character that would end it: inside _..._ a "_"
// becomes _\__, inside *...* a "*" becomes *\**, and inside `...` a
// backtick becomes a backtick, a backslash and two backticks (close,
// escaped backtick, reopen). Inside ```...``` a backtick is followed by
// U+2060 so no three in a row end the block. Inside a link's [text] a "]" becomes "］"
// (U+FF3D), and inside its (URL) a ")" becomes %29, since neither can be
// escaped there. Right after a link's "]", a leading "(" is kept from
// starting a URL by a U+2060 before it. Other characters are printed as
// they are: the mode gives them no meaning inside an entity.
func TelegramMarkdownIn(context, s string) string {
	switch context {
	case mdItalic:
		return strings.ReplaceAll(s, "_", `_\__`)
	case mdBold:
		return strings.ReplaceAll(s, "*", `*\**`)
	case mdCode:
		return strings.ReplaceAll(s, "`", "`\\``")
	case mdPre:
		s = strings.ReplaceAll(s, "`", "`"+wordJoiner)
		if strings.HasPrefix(s, "`") {
			s = wordJoiner + s
		}
		return s
	case mdLinkText:
		return strings.ReplaceAll(s, "]", "］")
	case mdLinkURL:
		return strings.ReplaceAll(s, ")", "%29")
	case mdAfterRef:
		s = TelegramMarkdown(s)
		if strings.HasPrefix(s, "(") {
			s = wordJoiner + s
		}
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '_', '*', '`', '[':
			b.WriteByte('\\')
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	if strings.HasSuffix(s, `\`) {
		b.WriteString(wordJoiner)
	}
	return b.String()
}

// Names of the escapers the markup pass (markup.go) inserts.
const (
	markupHTMLEscaper       = "_markupHTML"
	markupMarkdownV2Escaper = "_markupMarkdownV2"
	markupMarkdownEscaper   = "_markupMarkdown"
)

// addMarkupFuncs adds the Telegram Markdown escapers to a function map:
// telegramMarkdown and telegramMarkdownV2 for templates, and the inserted
// escapers, which print their argument as text/template would before
// escaping it.
func addMarkupFuncs(fm template.FuncMap) {
	fm["telegramMarkdown"] = TelegramMarkdown
	fm["telegramMarkdownV2"] = TelegramMarkdownV2
	fm[markupHTMLEscaper] = func(args ...any) string { return template.HTMLEscapeString(printed(args)) }
	fm[markupMarkdownV2Escaper] = func(args ...any) string { return TelegramMarkdownV2(printed(args)) }
	fm[markupMarkdownEscaper] = func(context string, args ...any) string {
		return TelegramMarkdownIn(context, printed(args))
	}
}

// printed is what text/template prints for a pipeline's value: pointers
// followed (unless they are Stringers or errors), nil as "<no value>".
func printed(args []any) string {
	if len(args) != 1 {
		return fmt.Sprint(args...)
	}
	if args[0] == nil {
		return "<no value>"
	}
	if s, ok := args[0].(string); ok {
		return s
	}
	rv := reflect.ValueOf(args[0])
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		if _, ok := rv.Interface().(fmt.Stringer); ok {
			break
		}
		if _, ok := rv.Interface().(error); ok {
			break
		}
		rv = rv.Elem()
	}
	return fmt.Sprint(rv.Interface())
}
