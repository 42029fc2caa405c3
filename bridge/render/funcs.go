package render

import (
	"bytes"
	"encoding/json"
	"strings"
	"text/template"
	"time"
	"unicode/utf8"

	amtemplate "github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// funcs returns the function map every template sees: Alertmanager's
// default functions, so its users' templates carry over, plus the ones IMs
// need. loc is the configured time zone.
func funcs(loc *time.Location) template.FuncMap {
	fm := template.FuncMap{}
	for k, v := range amtemplate.DefaultFuncs {
		fm[k] = v
	}
	var re regexps
	fm["match"] = re.match
	fm["reReplaceAll"] = re.reReplaceAll
	fm["chatWhen"] = chatWhen(loc)
	fm["chatSummary"] = chatSummary
	fm["json"] = toJSON
	fm["jsonString"] = JSONStringContent
	// escape is API7's name for the same thing.
	fm["escape"] = JSONStringContent
	fm[jsonEscaper] = jsonEscape
	fm["inTimezone"] = func(t time.Time) time.Time { return t.In(loc) }
	fm["timeFormat"] = func(layout string, t time.Time) string { return t.In(loc).Format(layout) }
	fm["unixMilli"] = func(t time.Time) int64 { return t.UnixMilli() }
	fm["truncate"] = truncate
	fm["mrkdwn"] = Mrkdwn
	fm["markdown"] = Markdown
	fm["markdownBasic"] = MarkdownBasic
	fm["larkMarkdown"] = LarkMarkdown
	addMarkupFuncs(fm)
	return fm
}

// truncate cuts s to at most n runes, the last one "…", on a rune
// boundary. Applied before escaping (escapers run last in a pipeline), it
// can never split an escape sequence.
func truncate(n int, s string) string { return alert.Shorten(s, n) }

// mrkdwnEscaper escapes the three characters Slack's mrkdwn gives meaning
// to, and nothing else.
var mrkdwnEscaper = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// Mrkdwn escapes text for Slack mrkdwn (and Mattermost's Slack-compatible
// parser): & < > become entities, so a label can neither inject a link or
// mention nor break formatting.
func Mrkdwn(s string) string { return mrkdwnEscaper.Replace(s) }

// Markdown escapes text so chat Markdown shows it literally: a backslash
// goes before the characters that open emphasis, code, links, tables and
// HTML anywhere in a line (\ ` * _ ~ | [ ] < >), and before the ones that
// open headings, quotes and lists at the start of a line (# > - +). This
// is the subset every dialect chat tools speak (CommonMark, Discord,
// Mattermost, Rocket.Chat, DingTalk, WeCom, Teams) honours; "web-1" and
// "99.5%" stay as they are.
func Markdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	lineStart := true
	for _, r := range s {
		switch {
		case strings.ContainsRune("\\`*_~|[]<>", r):
			b.WriteByte('\\')
		case lineStart && strings.ContainsRune("#-+", r):
			b.WriteByte('\\')
		}
		b.WriteRune(r)
		lineStart = r == '\n' || (lineStart && (r == ' ' || r == '\t'))
	}
	return b.String()
}

// toJSON encodes v as compact JSON without HTML escaping, so "<" and "&"
// stay readable in chat messages.
func toJSON(v any) (string, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// jsonEscape is the escaper the JSON-context pass appends to actions that
// sit inside a JSON string. It prints its argument as text/template would
// (pointers followed, a missing value as "<no value>") and escapes the
// result.
func jsonEscape(args ...any) string { return JSONStringContent(printed(args)) }

// markdownBasicEscaper escapes only emphasis and code markers.
var markdownBasicEscaper = strings.NewReplacer("_", `\_`, "*", `\*`, "`", "\\`")

// MarkdownBasic backslash-escapes only _ * and ` : the subset the
// markdown of DingTalk and WeCom robots is known to honour, where escaping
// more would show stray backslashes.
func MarkdownBasic(s string) string { return markdownBasicEscaper.Replace(s) }

// larkEntities are the characters Lark's card markdown gives meaning to
// anywhere in a line, as the HTML entities Lark shows literally.
var larkEntities = map[rune]string{
	'\\': "&#92;", '*': "&#42;", '_': "&#95;", '~': "&#126;", '`': "&#96;",
	'[': "&#91;", ']': "&#93;", '$': "&#36;", '|': "&#124;",
	// and what html escapes
	'<': "&lt;", '>': "&gt;", '&': "&amp;", '"': "&#34;", '\'': "&#39;",
}

// larkLineStart are the characters that open a heading, list or setext
// underline when they start a line (after blanks).
var larkLineStart = map[rune]string{'#': "&#35;", '-': "&#45;", '+': "&#43;", '=': "&#61;"}

// LarkMarkdown escapes text for Lark's card markdown ("lark_md" and the
// markdown element), which honours no backslash escapes, only HTML
// entities: the text is HTML-escaped, line breaks become <br> (a single
// newline is a soft break Lark may drop), emphasis, code, link, formula and
// table markers become entities, an emoji code like :OK: loses its first
// colon, and the markers that open headings, lists and setext underlines
// are escaped at the start of a line ("1." and "1)" keep their number).
func LarkMarkdown(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	lineStart := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '\r' || r == '\n':
			if r == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			b.WriteString("<br>")
			lineStart = true
			continue
		case lineStart && (r == ' ' || r == '\t'):
			b.WriteRune(r)
			continue
		case lineStart && r >= '0' && r <= '9':
			j := i
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			b.WriteRune(r)
			b.WriteString(s[i:j])
			i = j
			if i < len(s) && (s[i] == '.' || s[i] == ')') {
				b.WriteString(map[byte]string{'.': "&#46;", ')': "&#41;"}[s[i]])
				i++
			}
		case lineStart && larkLineStart[r] != "":
			b.WriteString(larkLineStart[r])
		case r == ':':
			j := i
			for j < len(s) && (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') {
				j++
			}
			if j > i && j < len(s) && s[j] == ':' {
				b.WriteString("&#58;")
				b.WriteString(s[i : j+1])
				i = j + 1
			} else {
				b.WriteByte(':')
			}
		case larkEntities[r] != "":
			b.WriteString(larkEntities[r])
		case r == 0:
			b.WriteRune(utf8.RuneError)
		default:
			b.WriteRune(r)
		}
		lineStart = false
	}
	return b.String()
}
