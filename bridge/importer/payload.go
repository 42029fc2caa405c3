package importer

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template/parse"
)

// payload turns a webhook_config payload (Alertmanager 0.34: a YAML value
// whose strings are templates) into a JSON body template. Keys are
// literal; a string value is a JSON string whose template text is
// rewritten for it, except a value that is one {{ toJson ... }} or
// {{ json ... }} action, which is written unquoted.
func (a *amConv) payload(src, target string, v any) (string, error) {
	var b strings.Builder
	if err := a.payloadValue(&b, src, target, v, 0); err != nil {
		return "", err
	}
	b.WriteString("\n")
	return b.String(), nil
}

func (a *amConv) payloadValue(b *strings.Builder, src, target string, v any, depth int) error {
	if depth > 32 {
		return fmt.Errorf("payload nests too deep")
	}
	switch v := v.(type) {
	case map[string]any:
		return a.payloadMap(b, src, target, len(v), func(k string) any { return v[k] }, sortedKeys(v), depth)
	case map[any]any:
		m := map[string]any{}
		for k, x := range v {
			m[fmt.Sprint(k)] = x
		}
		return a.payloadValue(b, src, target, m, depth)
	case []any:
		b.WriteString("[")
		for i, x := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := a.payloadValue(b, src, target, x, depth+1); err != nil {
				return err
			}
		}
		b.WriteString("]")
	case string:
		if raw, ok := jsonAction(v); ok {
			b.WriteString(raw)
			return nil
		}
		s, err := a.rw.Rewrite(v)
		if err != nil {
			return err
		}
		b.WriteString(`"` + s + `"`)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			return err
		}
		b.Write(j)
	}
	return nil
}

func (a *amConv) payloadMap(b *strings.Builder, src, target string, n int, get func(string) any, keys []string, depth int) error {
	sort.Strings(keys)
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		if strings.Contains(k, "{{") {
			a.note(src, "payload."+k, Differs, target, "a templated key is sent as written")
		}
		j, _ := json.Marshal(k)
		// Braces in a literal key would read as a template action.
		key := strings.ReplaceAll(strings.ReplaceAll(string(j), "{{", `{{"{{"}}`), "}}", `{{"}}"}}`)
		b.WriteString(key + ": ")
		if err := a.payloadValue(b, src, target, get(k), depth+1); err != nil {
			return err
		}
	}
	b.WriteString("}")
	return nil
}

// jsonAction reports whether s is a single action whose pipeline ends in
// toJson or json, and returns it as the bridge writes it.
func jsonAction(s string) (string, bool) {
	trees, err := parseText("v", strings.TrimSpace(s))
	if err != nil || len(trees) != 1 || trees["v"] == nil || trees["v"].Root == nil {
		return "", false
	}
	nodes := trees["v"].Root.Nodes
	if len(nodes) != 1 {
		return "", false
	}
	act, ok := nodes[0].(*parse.ActionNode)
	if !ok || act.Pipe == nil || len(act.Pipe.Cmds) == 0 {
		return "", false
	}
	last := act.Pipe.Cmds[len(act.Pipe.Cmds)-1]
	if len(last.Args) == 0 {
		return "", false
	}
	id, ok := last.Args[0].(*parse.IdentifierNode)
	if !ok || (id.Ident != "toJson" && id.Ident != "json") {
		return "", false
	}
	return act.String(), true
}
