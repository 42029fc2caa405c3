package importer

import (
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/alertbridge/alertbridge/bridge/render"
)

// maxInline bounds how deep Alertmanager's built-in templates are inlined
// into each other; theirs nest three deep at most.
const maxInline = 8

// rewriter turns a template text written for Alertmanager (a receiver's
// title, text, message or payload value) into template text that sits
// between the quotes of a JSON string in a bridge body template:
//
//   - literal text is JSON-escaped, so quotes and line breaks in it cannot
//     end the string;
//   - {{ template "x" . }} of a template the user's files define becomes
//     {{ include "x" . }}, whose output the bridge escapes for the string;
//   - {{ template "x" . }} of one of Alertmanager's built-in templates
//     (__subject, slack.default.title, ...) is replaced by that template's
//     own text, rewritten the same way, since the bridge does not have
//     them (and uses some of their names for its own pieces);
//   - every other action is kept as it is; the bridge escapes its output.
//
// It never panics on bad input: an unparsable text or an unknown template
// is an error, and the caller falls back to the bridge's preset.
type rewriter struct {
	// builtin holds Alertmanager's default templates by name.
	builtin map[string]*parse.Tree
	// userTrees holds the templates the user's files define, by name.
	userTrees map[string]*parse.Tree
}

// parseText parses a template text without checking functions, so texts
// that use functions the bridge lacks still parse (the bridge reports
// those itself when the configuration loads).
func parseText(name, text string) (map[string]*parse.Tree, error) {
	t := parse.New(name)
	t.Mode = parse.SkipFuncCheck | parse.ParseComments
	trees := map[string]*parse.Tree{}
	if _, err := t.Parse(text, "{{", "}}", trees); err != nil {
		return nil, err
	}
	return trees, nil
}

// Rewrite returns text rewritten for a JSON string context.
func (rw *rewriter) Rewrite(text string) (string, error) {
	trees, err := parseText("field", text)
	if err != nil {
		return "", err
	}
	if len(trees) != 1 {
		return "", fmt.Errorf("a field cannot {{ define }} templates")
	}
	root := trees["field"]
	if root == nil || root.Root == nil {
		return "", nil
	}
	var b strings.Builder
	if err := rw.list(&b, root.Root, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

func (rw *rewriter) list(b *strings.Builder, l *parse.ListNode, depth int) error {
	if l == nil {
		return nil
	}
	for _, n := range l.Nodes {
		if err := rw.node(b, n, depth); err != nil {
			return err
		}
	}
	return nil
}

func (rw *rewriter) node(b *strings.Builder, n parse.Node, depth int) error {
	switch n := n.(type) {
	case *parse.TextNode:
		b.WriteString(render.JSONStringContent(string(n.Text)))
	case *parse.CommentNode:
	case *parse.ActionNode:
		b.WriteString(n.String())
	case *parse.IfNode:
		return rw.branch(b, "if", &n.BranchNode, depth)
	case *parse.RangeNode:
		return rw.branch(b, "range", &n.BranchNode, depth)
	case *parse.WithNode:
		return rw.branch(b, "with", &n.BranchNode, depth)
	case *parse.TemplateNode:
		return rw.call(b, n, depth)
	case *parse.BreakNode, *parse.ContinueNode:
		b.WriteString(n.String())
	default:
		return fmt.Errorf("unsupported template construct %s", n)
	}
	return nil
}

func (rw *rewriter) branch(b *strings.Builder, kw string, n *parse.BranchNode, depth int) error {
	fmt.Fprintf(b, "{{%s %s}}", kw, n.Pipe)
	if err := rw.list(b, n.List, depth); err != nil {
		return err
	}
	if n.ElseList != nil {
		b.WriteString("{{else}}")
		if err := rw.list(b, n.ElseList, depth); err != nil {
			return err
		}
	}
	b.WriteString("{{end}}")
	return nil
}

// call rewrites {{ template "name" pipe }}.
func (rw *rewriter) call(b *strings.Builder, n *parse.TemplateNode, depth int) error {
	pipe := "."
	if n.Pipe != nil {
		pipe = n.Pipe.String()
	}
	if rw.userTrees[n.Name] != nil {
		if missing := rw.userMissing(n.Name); len(missing) > 0 {
			return fmt.Errorf("template %q (from the templates files) calls %s, which the bridge does not define", n.Name, strings.Join(missing, ", "))
		}
		if n.Pipe == nil {
			pipe = "nil"
		}
		fmt.Fprintf(b, "{{include %q %s}}", n.Name, pipe)
		return nil
	}
	t := rw.builtin[n.Name]
	if t == nil {
		return fmt.Errorf("template %q is not defined", n.Name)
	}
	if depth >= maxInline {
		return fmt.Errorf("template %q nests too deep", n.Name)
	}
	if pipe == "." {
		return rw.list(b, t.Root, depth+1)
	}
	// The built-in templates read their data as "."; give them the
	// pipeline's value. {{with}} skips an empty value, where a built-in
	// template would print nothing useful either.
	fmt.Fprintf(b, "{{with %s}}", pipe)
	if err := rw.list(b, t.Root, depth+1); err != nil {
		return err
	}
	b.WriteString("{{end}}")
	return nil
}

// userMissing lists the templates that the user template name calls,
// directly or through others, that the user's files do not define: those
// fail in the bridge, which has none of Alertmanager's built-in ones.
func (rw *rewriter) userMissing(name string) []string {
	seen := map[string]bool{}
	var missing []string
	var walk func(name string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		t := rw.userTrees[name]
		if t == nil {
			missing = append(missing, name)
			return
		}
		for _, called := range calledTemplates(t.Root) {
			walk(called)
		}
	}
	walk(name)
	return missing
}

// calledTemplates lists the names {{ template }} actions in the tree call.
func calledTemplates(n parse.Node) []string {
	var out []string
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.TemplateNode:
			out = append(out, n.Name)
		}
	}
	walk(n)
	return out
}

// amBuiltins returns Alertmanager's default templates (default.tmpl of the
// module in go.mod) by name, read through the template package's own
// loader so they match the Alertmanager version exactly.
func amBuiltins() (map[string]*parse.Tree, error) {
	var text *template.Template
	_, err := amFromGlobs(func(t *template.Template) { text = t })
	if err != nil {
		return nil, err
	}
	out := map[string]*parse.Tree{}
	if text == nil {
		return out, nil
	}
	for _, t := range text.Templates() {
		if t.Tree != nil {
			out[t.Name()] = t.Tree
		}
	}
	return out, nil
}
