package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// badValues walks a YAML node tree alongside the Go type it will be
// decoded into, decodes each value that is not a structure of this
// package on its own, and reports every one that does not decode (a
// duration like "10x", a string where a number goes, an invalid
// http_config) named by its key path and line, as unknownKeys does for
// keys. It removes what it reports from the tree, so the whole document
// then decodes and validation can still run: one pass reports every
// problem of the file. The YAML library alone stops at the first such
// value, and names neither its key nor, for most types, its line.
func badValues(n *yaml.Node, t reflect.Type, path string) []error {
	errs, _ := badValue(n, t, path)
	return errs
}

var (
	unmarshalerType         = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()
	obsoleteUnmarshalerType = reflect.TypeOf((*interface {
		UnmarshalYAML(func(any) error) error
	})(nil)).Elem()
	thisPackage = reflect.TypeOf(Config{}).PkgPath()
)

// ours reports whether t is a structure walked field by field: one of
// this package (its own UnmarshalYAML, if any, only sets defaults) or one
// without decoding rules of its own (a target type's options).
func ours(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	if t.PkgPath() == thisPackage {
		return true
	}
	p := reflect.PointerTo(t)
	return !p.Implements(unmarshalerType) && !p.Implements(obsoleteUnmarshalerType)
}

// badValue checks n against t; drop reports that n itself does not decode
// and was reported, so its parent removes it.
func badValue(n *yaml.Node, t reflect.Type, path string) (errs []error, drop bool) {
	if n == nil {
		return nil, false
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, false
		}
		return badValue(n.Content[0], t, path)
	case yaml.AliasNode:
		return nil, false
	}
	if n.Tag == "!!null" {
		return nil, false
	}
	switch {
	case ours(t) && n.Kind == yaml.MappingNode:
		fields, _ := yamlFields(t)
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if ft, ok := fields[key.Value]; ok && key.Value != "<<" {
				e, d := badValue(val, ft, join(path, key.Value))
				errs = append(errs, e...)
				if d {
					continue
				}
			}
			kept = append(kept, key, val)
		}
		n.Content = kept
		return errs, false
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && ours(derefType(t.Elem())) && n.Kind == yaml.SequenceNode:
		for i, item := range n.Content {
			p := fmt.Sprintf("%s[%d]", path, i)
			if name := scalarValue(item, "name"); name != "" {
				p += " (" + name + ")"
			}
			e, _ := badValue(item, t.Elem(), p)
			errs = append(errs, e...)
		}
		return errs, false
	case t.Kind() == reflect.Map && ours(derefType(t.Elem())) && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			e, _ := badValue(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
			errs = append(errs, e...)
		}
		return errs, false
	}
	// A leaf: a scalar, a list or map of scalars, or another package's
	// type (a Secret, an HTTP client config) decoded by its own rules.
	v := reflect.New(t)
	if err := n.Decode(v.Interface()); err != nil {
		return []error{fmt.Errorf("%s: %s (line %d)", path, decodeMessage(err), n.Line)}, true
	}
	return nil, false
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// scalarValue is the value of a mapping node's scalar key, or "".
func scalarValue(n *yaml.Node, key string) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key && n.Content[i+1].Kind == yaml.ScalarNode {
			return n.Content[i+1].Value
		}
	}
	return ""
}

// decodeMessage is a decoding error without the YAML library's prefixes
// and line numbers (the caller names the line).
func decodeMessage(err error) string {
	if te, ok := err.(*yaml.TypeError); ok {
		msgs := make([]string, len(te.Errors))
		for i, m := range te.Errors {
			if _, rest, ok := strings.Cut(m, ": "); ok && strings.HasPrefix(m, "line ") {
				m = rest
			}
			msgs[i] = m
		}
		return strings.Join(msgs, "; ")
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}
