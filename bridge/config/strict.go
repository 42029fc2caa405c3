package config

import (
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknownKeys walks a YAML node tree alongside the Go type it will be decoded
// into and reports every mapping key that no field accepts, named by its path
// (for example "targets[2].retry.atempts") and source line. It exists because
// the YAML library names only the Go type of an unknown field, which tells a
// user little about where their typo is.
func unknownKeys(n *yaml.Node, t reflect.Type, path string) []error {
	if n == nil {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil
		}
		return unknownKeys(n.Content[0], t, path)
	case yaml.AliasNode:
		return unknownKeys(n.Alias, t, path)
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder reports the type mismatch
		}
		fields, open := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, val := n.Content[i], n.Content[i+1]
			if key.Value == "<<" {
				continue
			}
			ft, ok := fields[key.Value]
			if !ok {
				if !open {
					errs = append(errs, fmt.Errorf("%s: unknown field (line %d)", join(path, key.Value), key.Line))
				}
				continue
			}
			errs = append(errs, unknownKeys(val, ft, join(path, key.Value))...)
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, item := range n.Content {
			errs = append(errs, unknownKeys(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, unknownKeys(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))...)
		}
	}
	return errs
}

// yamlFields maps the YAML keys of a struct to their field types, descending
// into inline structs. open reports an inline map, which accepts any key.
func yamlFields(t reflect.Type) (fields map[string]reflect.Type, open bool) {
	fields = map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Map {
				open = true
				continue
			}
			inner, innerOpen := yamlFields(ft)
			for k, v := range inner {
				fields[k] = v
			}
			open = open || innerOpen
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields, open
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// valueLine is the line of the file where the value of a mapping node's
// key starts: the line after a | or > block indicator, else the key's
// line. 0 when the key is absent.
func valueLine(n *yaml.Node, key string) int {
	if n == nil || n.Kind != yaml.MappingNode {
		return 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value != key {
			continue
		}
		v := n.Content[i+1]
		if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
			return v.Line + 1
		}
		return v.Line
	}
	return 0
}
