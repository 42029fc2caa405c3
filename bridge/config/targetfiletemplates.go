package config

import (
	"fmt"
	"strings"
	"text/template/parse"

	"github.com/alertbridge/alertbridge/bridge/dialect"
)

// Every target's inline templates share one namespace with the presets,
// the templates: files and the other targets' templates (named
// target/<name>/body and target/<name>/header/<header>). A target file's
// templates are checked so they cannot reach or change the others':
// they may not call {{ template }} or include on a target/ name, may call
// include with a literal name only, and may not {{ define }} or
// {{ block }} templates (which would replace a preset or another
// target's template for everyone).

// checkTargetFileTemplates checks the body and header templates of a
// target of a target file, whose YAML node is at line.
func checkTargetFileTemplates(p string, t *Target, line int) []error {
	var errs []error
	check := func(key, text string) {
		for _, msg := range templateRefusals(dialect.Text(t.Dialect, text)) {
			errs = append(errs, fmt.Errorf("%s.%s: %s (target at line %d)", p, key, msg, line))
		}
	}
	check("template", t.Template)
	for h, text := range t.Headers {
		check("headers."+h, text)
	}
	return errs
}

// templateRefusals parses text (functions unchecked: the renderer checks
// them) and returns what a target file may not do in it; a text that
// does not parse is left to the renderer, which reports it.
func templateRefusals(text string) []string {
	if !strings.Contains(text, "{{") {
		return nil
	}
	tree := parse.New("t")
	tree.Mode = parse.SkipFuncCheck
	set := map[string]*parse.Tree{}
	if _, err := tree.Parse(text, "{{", "}}", set); err != nil {
		return []string{fmt.Sprintf("does not parse: %v", err)}
	}
	var out []string
	for name := range set {
		if name != "t" {
			out = append(out, fmt.Sprintf("{{ define }} and {{ block }} (%q) are not allowed in a target file: they would replace a template every target shares", name))
		}
	}
	for _, tr := range set {
		walkTemplate(tr.Root, &out)
	}
	return out
}

// walkTemplate appends to out each reference to another target's
// templates, and each include whose name is not a literal, under n.
func walkTemplate(n parse.Node, out *[]string) {
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walkTemplate(c, out)
		}
	case *parse.ActionNode:
		walkTemplate(n.Pipe, out)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, out)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, out)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, out)
	case *parse.TemplateNode:
		if strings.HasPrefix(n.Name, "target/") {
			*out = append(*out, fmt.Sprintf("{{ template %q }}: another target's template is not reachable from a target file", n.Name))
		}
		walkTemplate(n.Pipe, out)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walkTemplate(c, out)
		}
	case *parse.CommandNode:
		if id, ok := n.Args[0].(*parse.IdentifierNode); ok && id.Ident == "include" {
			name, literal := "", len(n.Args) > 1
			if literal {
				s, ok := n.Args[1].(*parse.StringNode)
				literal = ok
				if ok {
					name = s.Text
				}
			}
			switch {
			case !literal:
				*out = append(*out, "include needs a literal template name in a target file")
			case strings.HasPrefix(name, "target/"):
				*out = append(*out, fmt.Sprintf("include %q: another target's template is not reachable from a target file", name))
			}
		}
		for _, a := range n.Args {
			walkTemplate(a, out)
		}
	case *parse.ChainNode:
		walkTemplate(n.Node, out)
	}
}

func walkBranch(b *parse.BranchNode, out *[]string) {
	walkTemplate(b.Pipe, out)
	walkTemplate(b.List, out)
	if b.ElseList != nil {
		walkTemplate(b.ElseList, out)
	}
}
