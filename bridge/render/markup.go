package render

import (
	"fmt"
	"sort"
	"strings"
	"text/template/parse"
	"unicode/utf8"
)

// Markup is the markup a message text is written in.
type Markup int

// The markups values can be escaped for.
const (
	// MarkupPlain is text shown as it is: values need no escaping.
	MarkupPlain Markup = iota
	// MarkupHTML is Telegram's HTML (values are HTML-escaped).
	MarkupHTML
	// MarkupTelegramMarkdown is Telegram's legacy Markdown.
	MarkupTelegramMarkdown
	// MarkupTelegramMarkdownV2 is Telegram's MarkdownV2.
	MarkupTelegramMarkdownV2
)

// MarkupRule says where a JSON body keeps its message text and how the
// body declares the text's markup, for a platform whose bodies choose
// their markup (Telegram's "parse_mode"). An inline body template with a
// rule gets every action printed inside the text escaped for the declared
// markup, as actions inside any JSON string are escaped for JSON: a
// template written for the markup (Coroot's published Telegram sample
// prints raw values into "parse_mode": "Markdown" text) works with any
// label value.
//
// The rule reads the template's literal text: the mode must be written
// out ("parse_mode": "Markdown"), the same in every branch; a body that
// does not name one is plain text. An action whose pipeline already ends
// in the markup's escaper (html or safeHtml for HTML, telegramMarkdown,
// telegramMarkdownV2) is left alone, so templates that escape for
// themselves keep working. Only the body template itself is read:
// templates it calls with {{template}} print what they print (the
// rendered body is still checked by the platform).
type MarkupRule struct {
	// TextKey is the top-level key whose string value is the message text.
	TextKey string
	// ModeKey is the top-level key whose string value names the markup.
	ModeKey string
	// Modes maps ModeKey values, matched ignoring case, to markups.
	Modes map[string]Markup
}

// markupMode finds the markup a body template declares.
func (r *MarkupRule) markupMode(tree *parse.Tree) (Markup, error) {
	w := &markupWalker{tree: tree, rule: r, markup: MarkupPlain}
	w.list(markupState{}, tree.Root)
	if w.err != nil {
		return 0, w.err
	}
	if w.dynamicMode {
		return 0, fmt.Errorf("%s: %q must be written out (for example \"HTML\"), not computed: values in %q are escaped for it", tree.ParseName, r.ModeKey, r.TextKey)
	}
	var found []string
	for _, m := range w.modes {
		if len(found) == 0 || !strings.EqualFold(found[0], m) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		return MarkupPlain, nil
	case 1:
		for name, mk := range r.Modes {
			if strings.EqualFold(name, found[0]) {
				return mk, nil
			}
		}
		return 0, fmt.Errorf("%s: %s %q is none of %s", tree.ParseName, r.ModeKey, found[0], r.modeNames())
	}
	return 0, fmt.Errorf("%s: %s is %q in one place and %q in another: values in %q are escaped for one markup", tree.ParseName, r.ModeKey, found[0], found[1], r.TextKey)
}

func (r *MarkupRule) modeNames() string {
	var names []string
	for n := range r.Modes {
		names = append(names, fmt.Sprintf("%q", n))
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// escapeMarkup rewrites a JSON body template so every action printing
// inside the rule's text string escapes its output for the markup the body
// declares (see MarkupRule). It runs before escapeJSONStrings, which then
// escapes the result for the JSON string.
func escapeMarkup(tree *parse.Tree, rule *MarkupRule) error {
	if tree == nil || tree.Root == nil || rule == nil {
		return nil
	}
	mk, err := rule.markupMode(tree)
	if err != nil || mk == MarkupPlain {
		return err
	}
	w := &markupWalker{tree: tree, rule: rule, markup: mk, insert: true}
	w.list(markupState{}, tree.Root)
	return w.err
}

// inUnicodeEscape is the JSON lexer reading the four hex digits of \u.
const inUnicodeEscape = afterBackslash + 1

// markupState is where the walker stands in the JSON document and, inside
// the text string, in the legacy Markdown of the text.
type markupState struct {
	js jsonState
	// unicode counts the hex digits of a \u escape still to read, and
	// code accumulates them.
	unicode int
	code    rune
	// stack holds the open containers, '{' or '['.
	stack string
	// expectKey: in an object, the next string is a key.
	expectKey bool
	// inKey: the current string is a key; key is the last key read
	// (keyDynamic when an action printed into it).
	inKey      bool
	key        string
	keyDynamic bool
	// field is the top-level key the current string is the value of.
	field string
	// buf is the decoded literal text of the current string so far, and
	// dynamic tells whether an action printed into it.
	buf     string
	dynamic bool
	// md is the legacy Markdown context inside the text, md* constants
	// ("" meaning mdOutside); ticks counts the backticks of a marker being
	// read, mdEscape is set after a backslash.
	md       string
	ticks    int
	mdEscape bool
}

// same reports whether two states agree on everything the escaping
// depends on.
func (s markupState) same(o markupState) bool {
	return s.js == o.js && s.stack == o.stack && s.field == o.field && s.inKey == o.inKey &&
		s.md == o.md && s.ticks == o.ticks
}

type markupWalker struct {
	tree   *parse.Tree
	rule   *MarkupRule
	markup Markup
	// insert is set on the second pass, which rewrites actions; the first
	// collects the declared modes.
	insert      bool
	modes       []string
	dynamicMode bool
	err         error
}

func (w *markupWalker) fail(n parse.Node, format string, args ...any) {
	if w.err == nil {
		loc, _ := w.tree.ErrorContext(n)
		w.err = fmt.Errorf("%s: %s", loc, fmt.Sprintf(format, args...))
	}
}

func (w *markupWalker) list(st markupState, l *parse.ListNode) markupState {
	if l == nil {
		return st
	}
	for _, n := range l.Nodes {
		st = w.node(st, n)
	}
	return st
}

func (w *markupWalker) node(st markupState, n parse.Node) markupState {
	switch n := n.(type) {
	case *parse.TextNode:
		for _, c := range n.Text {
			st = w.byte(st, c)
		}
	case *parse.ActionNode:
		if len(n.Pipe.Decl) > 0 || st.js == outsideString {
			return st
		}
		st.dynamic = true
		if st.inKey {
			st.keyDynamic = true
		}
		if st.inText(w.rule) && w.insert {
			w.escapeAction(st, n)
		}
		if st.md == mdAfterRef || (st.md == mdCode && st.ticks == 2) {
			// The value was escaped as plain text: "]" was not followed
			// by "(", or "``" was an empty code entity.
			st.md, st.ticks = mdOutside, 0
		}
		st.mdEscape = false
	case *parse.IfNode:
		return w.branch(st, "if", &n.BranchNode, false)
	case *parse.WithNode:
		return w.branch(st, "with", &n.BranchNode, false)
	case *parse.RangeNode:
		return w.branch(st, "range", &n.BranchNode, true)
	case *parse.ListNode:
		return w.list(st, n)
	}
	return st
}

func (w *markupWalker) branch(st markupState, kind string, b *parse.BranchNode, loop bool) markupState {
	after := w.list(st, b.List)
	if loop && !after.same(st) && w.insert && st.inText(w.rule) {
		w.fail(b, "{{%s}} opens or closes a Markdown entity in its body; close every *, _, ` and [ inside it", kind)
	}
	elseAfter := st
	if b.ElseList != nil {
		elseAfter = w.list(st, b.ElseList)
	}
	if !after.same(elseAfter) && w.insert && (after.inText(w.rule) || elseAfter.inText(w.rule)) {
		w.fail(b, "{{%s}} opens or closes a Markdown entity in one branch only; close every *, _, ` and [ inside each branch", kind)
	}
	return after
}

// inText reports whether the state is inside the value of the text key.
func (st markupState) inText(r *MarkupRule) bool {
	return st.js != outsideString && !st.inKey && st.field == r.TextKey && st.field != ""
}

// escapeAction makes the action's pipeline escape its output for the
// markup at st, unless it already ends in that markup's escaper.
func (w *markupWalker) escapeAction(st markupState, n *parse.ActionNode) {
	cmds := n.Pipe.Cmds
	last := len(cmds)
	if last > 0 && lastIdent(cmds[last-1]) == "jsonString" || last > 0 && lastIdent(cmds[last-1]) == "escape" {
		last-- // escape for the markup before the JSON escape
	}
	if last > 0 {
		switch id := lastIdent(cmds[last-1]); {
		case w.markup == MarkupHTML && (id == "html" || id == "safeHtml"),
			w.markup == MarkupTelegramMarkdownV2 && id == "telegramMarkdownV2",
			w.markup == MarkupTelegramMarkdown && id == "telegramMarkdown" && st.md == mdOutside:
			return
		}
	}
	args := []parse.Node{}
	switch w.markup {
	case MarkupHTML:
		args = append(args, parse.NewIdentifier(markupHTMLEscaper).SetTree(w.tree).SetPos(n.Pos))
	case MarkupTelegramMarkdownV2:
		args = append(args, parse.NewIdentifier(markupMarkdownV2Escaper).SetTree(w.tree).SetPos(n.Pos))
	case MarkupTelegramMarkdown:
		ctx := st.md
		if ctx == "" || (ctx == mdCode && st.ticks == 2) {
			ctx = mdOutside
		}
		args = append(args, parse.NewIdentifier(markupMarkdownEscaper).SetTree(w.tree).SetPos(n.Pos),
			&parse.StringNode{NodeType: parse.NodeString, Pos: n.Pos, Quoted: fmt.Sprintf("%q", ctx), Text: ctx})
	default:
		return
	}
	cmd := &parse.CommandNode{NodeType: parse.NodeCommand, Pos: n.Pos, Args: args}
	n.Pipe.Cmds = append(cmds[:last:last], append([]*parse.CommandNode{cmd}, cmds[last:]...)...)
}

// lastIdent is the function a command calls, if it is a plain identifier.
func lastIdent(c *parse.CommandNode) string {
	if len(c.Args) == 0 {
		return ""
	}
	if id, ok := c.Args[0].(*parse.IdentifierNode); ok {
		return id.Ident
	}
	return ""
}

// byte advances the state over one byte of literal template text.
func (w *markupWalker) byte(st markupState, c byte) markupState {
	switch st.js {
	case outsideString:
		top := byte(0)
		if st.stack != "" {
			top = st.stack[len(st.stack)-1]
		}
		switch c {
		case '"':
			st.js, st.buf, st.dynamic = insideString, "", false
			st.inKey = top == '{' && st.expectKey
			st.field = ""
			if st.inKey {
				st.keyDynamic = false
			} else if len(st.stack) == 1 && top == '{' && !st.keyDynamic {
				st.field = st.key
			}
			st.md, st.ticks, st.mdEscape = mdOutside, 0, false
		case '{', '[':
			st.stack += string(c)
			st.expectKey = c == '{'
		case '}', ']':
			if st.stack != "" {
				st.stack = st.stack[:len(st.stack)-1]
			}
			st.expectKey = false
		case ':':
			st.expectKey = false
		case ',':
			st.expectKey = top == '{'
		}
		return st
	case insideString:
		switch c {
		case '\\':
			st.js = afterBackslash
			return st
		case '"':
			w.closeString(&st)
			return st
		}
		return w.decoded(st, c)
	case afterBackslash:
		st.js = insideString
		switch c {
		case 'n':
			c = '\n'
		case 't':
			c = '\t'
		case 'r':
			c = '\r'
		case 'b':
			c = '\b'
		case 'f':
			c = '\f'
		case 'u':
			st.unicode, st.code = 4, 0
			st.js = inUnicodeEscape
			return st
		}
		return w.decoded(st, c)
	default: // inUnicodeEscape
		var d rune
		switch {
		case c >= '0' && c <= '9':
			d = rune(c - '0')
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			d = rune(c|0x20-'a') + 10
		}
		st.code = st.code<<4 | d
		if st.unicode--; st.unicode > 0 {
			return st
		}
		st.js = insideString
		var b [utf8.UTFMax]byte
		for _, x := range b[:utf8.EncodeRune(b[:], st.code)] {
			st = w.decoded(st, x)
		}
		return st
	}
}

// closeString ends the current string: a key becomes the key of the next
// value; the value of the mode key is recorded.
func (w *markupWalker) closeString(st *markupState) {
	st.js = outsideString
	if st.inKey {
		st.key, st.inKey, st.expectKey = st.buf, false, false
		if st.dynamic {
			st.keyDynamic = true
		}
		return
	}
	if st.field == w.rule.ModeKey {
		if st.dynamic {
			w.dynamicMode = true
		} else {
			w.modes = append(w.modes, st.buf)
		}
	}
	st.field = ""
}

// decoded advances over one byte of a string's decoded content.
func (w *markupWalker) decoded(st markupState, c byte) markupState {
	if st.inKey || st.field == w.rule.ModeKey {
		if len(st.buf) < 64 {
			st.buf += string(c)
		}
		return st
	}
	if st.field != w.rule.TextKey || w.markup != MarkupTelegramMarkdown {
		return st
	}
	return legacyMarkdown(st, c)
}

// legacyMarkdown advances the legacy Markdown context over one byte of
// the text, as Telegram's parser reads it: outside an entity a backslash
// escapes the next _ * ` [; _ * ` and [ open an entity that ends at the
// same character (] for [), ``` opens a pre block that ends at the next
// ```, and a link's ] may be followed by its (URL).
func legacyMarkdown(st markupState, c byte) markupState {
	switch st.md {
	case "", mdOutside:
		if st.mdEscape {
			st.mdEscape = false
			if strings.IndexByte("_*`[", c) >= 0 {
				return st
			}
		}
		switch c {
		case '\\':
			st.mdEscape = true
		case '_':
			st.md = mdItalic
		case '*':
			st.md = mdBold
		case '`':
			st.md, st.ticks = mdCode, 1
		case '[':
			st.md = mdLinkText
		}
	case mdItalic:
		if c == '_' {
			st.md = mdOutside
		}
	case mdBold:
		if c == '*' {
			st.md = mdOutside
		}
	case mdCode:
		switch {
		case st.ticks == 1 && c == '`':
			st.ticks = 2 // "``": empty code, or the start of ```
		case st.ticks == 2 && c == '`':
			st.md, st.ticks = mdPre, 0
		case st.ticks == 2:
			// "``" was an empty code entity; c is plain text.
			st.md, st.ticks = mdOutside, 0
			return legacyMarkdown(st, c)
		case c == '`':
			st.md, st.ticks = mdOutside, 0
		default:
			st.ticks = 0
		}
	case mdPre:
		if c == '`' {
			if st.ticks++; st.ticks == 3 {
				st.md, st.ticks = mdOutside, 0
			}
		} else {
			st.ticks = 0
		}
	case mdLinkText:
		if c == ']' {
			st.md = mdAfterRef
		}
	case mdAfterRef:
		if c == '(' {
			st.md = mdLinkURL
		} else {
			st.md = mdOutside
			return legacyMarkdown(st, c)
		}
	case mdLinkURL:
		if c == ')' {
			st.md = mdOutside
		}
	}
	return st
}
