package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"time"

	amtemplate "github.com/prometheus/alertmanager/template"
)

// funcs returns the function map every template sees: Alertmanager's
// default functions, so its users' templates carry over, plus the ones IMs
// need. loc is the configured time zone.
func funcs(loc *time.Location) template.FuncMap {
	fm := template.FuncMap{}
	for k, v := range amtemplate.DefaultFuncs {
		fm[k] = v
	}
	fm["json"] = toJSON
	fm["jsonString"] = JSONStringContent
	fm[jsonEscaper] = jsonEscape
	fm["inTimezone"] = func(t time.Time) time.Time { return t.In(loc) }
	fm["timeFormat"] = func(layout string, t time.Time) string { return t.In(loc).Format(layout) }
	fm["unixMilli"] = func(t time.Time) int64 { return t.UnixMilli() }
	return fm
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

// JSONStringContent escapes s for use between the quotes of a JSON string.
func JSONStringContent(s string) string {
	q, _ := toJSON(s) // encoding a string cannot fail
	return q[1 : len(q)-1]
}

// jsonEscape is the escaper the JSON-context pass appends to actions that
// sit inside a JSON string. It prints its argument as text/template would
// (pointers followed, a missing value as "<no value>") and escapes the
// result.
func jsonEscape(args ...any) string {
	if len(args) == 1 {
		switch v := args[0].(type) {
		case string:
			return JSONStringContent(v)
		case nil:
			return JSONStringContent("<no value>")
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
		return JSONStringContent(fmt.Sprint(rv.Interface()))
	}
	return JSONStringContent(fmt.Sprint(args...))
}
