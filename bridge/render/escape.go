package render

import (
	"fmt"
	"text/template/parse"
)

// jsonEscaper is the internal function name the JSON-context pass inserts.
const jsonEscaper = "_jsonEscape"

// jsonState is where the JSON lexer stands after some text.
type jsonState int

const (
	outsideString jsonState = iota
	insideString
	afterBackslash
)

// scanJSON advances the JSON string lexer over literal template text.
func scanJSON(st jsonState, text []byte) jsonState {
	for _, c := range text {
		switch st {
		case outsideString:
			if c == '"' {
				st = insideString
			}
		case insideString:
			switch c {
			case '\\':
				st = afterBackslash
			case '"':
				st = outsideString
			}
		case afterBackslash:
			st = insideString
		}
	}
	return st
}

// escapeLineBreaks scans literal text like scanJSON and returns it with
// every raw line feed, carriage return and tab inside a JSON string
// written as its escape, so a template may spread a JSON string over
// several lines, as Coroot's multi-line templates do: raw, they would make
// the body invalid JSON.
func escapeLineBreaks(st jsonState, text []byte) (jsonState, []byte) {
	var out []byte // nil until the first change
	for i, c := range text {
		var esc string
		if st == insideString {
			switch c {
			case '\n':
				esc = `\n`
			case '\r':
				esc = `\r`
			case '\t':
				esc = `\t`
			}
		}
		if esc != "" && out == nil {
			out = append(make([]byte, 0, len(text)+8), text[:i]...)
		}
		st = scanJSON(st, text[i:i+1])
		switch {
		case esc != "":
			out = append(out, esc...)
		case out != nil:
			out = append(out, c)
		}
	}
	if out == nil {
		return st, text
	}
	return st, out
}

// escapeJSONStrings rewrites tree so that every action printing inside a
// JSON string literal ("text": "{{ .Labels.x }}") escapes its output for
// that place, and raw line breaks in literal text inside a string become
// escapes (see escapeLineBreaks). Actions outside strings are left alone: they print numbers,
// booleans or whole values built with json. It is the JSON counterpart of
// html/template's contextual escaping, so a label holding a quote,
// backslash, newline or "{{" can never break a body.
func escapeJSONStrings(tree *parse.Tree) error {
	if tree == nil || tree.Root == nil {
		return nil
	}
	e := escaper{tree: tree, loops: new([]jsonState)}
	st, err := e.list(outsideString, tree.Root)
	if err != nil {
		return err
	}
	if st != outsideString {
		return fmt.Errorf("%s: unterminated JSON string at the end of the template", tree.ParseName)
	}
	return nil
}

type escaper struct {
	tree *parse.Tree
	// loops holds the lexer state at the start of each enclosing range, so
	// break and continue can be checked like the end of the body.
	loops *[]jsonState
}

func (e escaper) list(st jsonState, l *parse.ListNode) (jsonState, error) {
	if l == nil {
		return st, nil
	}
	var err error
	for _, n := range l.Nodes {
		if st, err = e.node(st, n); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (e escaper) node(st jsonState, n parse.Node) (jsonState, error) {
	switch n := n.(type) {
	case *parse.TextNode:
		var text []byte
		st, text = escapeLineBreaks(st, n.Text)
		n.Text = text
		return st, nil
	case *parse.ActionNode:
		if st != outsideString && len(n.Pipe.Decl) == 0 && !endsEscaped(n.Pipe) {
			n.Pipe.Cmds = append(n.Pipe.Cmds, &parse.CommandNode{
				NodeType: parse.NodeCommand,
				Pos:      n.Pos,
				Args:     []parse.Node{parse.NewIdentifier(jsonEscaper).SetTree(e.tree).SetPos(n.Pos)},
			})
		}
		if st == afterBackslash {
			st = insideString
		}
		return st, nil
	case *parse.IfNode:
		return e.branch(st, "if", &n.BranchNode, false)
	case *parse.WithNode:
		return e.branch(st, "with", &n.BranchNode, false)
	case *parse.RangeNode:
		return e.branch(st, "range", &n.BranchNode, true)
	case *parse.ListNode:
		return e.list(st, n)
	case *parse.BreakNode, *parse.ContinueNode:
		if l := *e.loops; len(l) > 0 && l[len(l)-1] != st {
			loc, _ := e.tree.ErrorContext(n)
			return st, fmt.Errorf("%s: {{break}} or {{continue}} inside an open JSON string; close the string first", loc)
		}
		return st, nil
	}
	// Comments, {{template}}, break and continue print nothing of their own
	// that this pass can see; the rendered body is validated afterwards.
	return st, nil
}

// branch requires every path through a conditional or loop to leave the
// lexer where it found it (or, for if/with, all branches to agree), as
// html/template does; otherwise whether an action sits inside a string
// would depend on data.
func (e escaper) branch(st jsonState, kind string, b *parse.BranchNode, loop bool) (jsonState, error) {
	if loop {
		*e.loops = append(*e.loops, st)
	}
	after, err := e.list(st, b.List)
	if loop {
		*e.loops = (*e.loops)[:len(*e.loops)-1]
	}
	if err != nil {
		return st, err
	}
	if loop && after != st {
		return st, e.contextErr(b, kind)
	}
	elseAfter := st
	if b.ElseList != nil {
		if elseAfter, err = e.list(st, b.ElseList); err != nil {
			return st, err
		}
	}
	if after != elseAfter {
		return st, e.contextErr(b, kind)
	}
	return after, nil
}

func (e escaper) contextErr(b *parse.BranchNode, kind string) error {
	loc, _ := e.tree.ErrorContext(b)
	return fmt.Errorf("%s: {{%s}} opens or closes a JSON string in one branch only; keep quotes balanced inside each branch", loc, kind)
}

// endsEscaped reports whether the pipeline already ends in an escaper.
func endsEscaped(p *parse.PipeNode) bool {
	if len(p.Cmds) == 0 {
		return false
	}
	last := p.Cmds[len(p.Cmds)-1]
	if len(last.Args) == 0 {
		return false
	}
	id, ok := last.Args[0].(*parse.IdentifierNode)
	return ok && (id.Ident == jsonEscaper || id.Ident == "jsonString" || id.Ident == "escape")
}
