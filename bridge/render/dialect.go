package render

import (
	"github.com/alertbridge/alertbridge/bridge/alert"

	"regexp"
	"strings"
)

// ammdsPlaceholder matches AMMDS's placeholders, {{title}} or {{ title }}.
var ammdsPlaceholder = regexp.MustCompile(`\{\{(-?\s*)(type|title|subTitle|message|time|logo|image|sign)(\s*-?)\}\}`)

// DialectText prepares template text written in a dialect's placeholder
// syntax for parsing. Only AMMDS has its own: each of {{type}} {{title}}
// {{subTitle}} {{message}} {{time}} {{logo}} {{image}} {{sign}} becomes the
// action printing that field of the AMMDS data ({{ .Title }} ...); the rest
// of the text is Go template syntax already, so Go actions may be mixed in.
// Other dialects' text is returned unchanged.
func DialectText(dialect, text string) string {
	if dialect != alert.DialectAMMDS {
		return text
	}
	return ammdsPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		p := ammdsPlaceholder.FindStringSubmatch(m)
		return "{{" + p[1] + "." + strings.ToUpper(p[2][:1]) + p[2][1:] + p[3] + "}}"
	})
}
