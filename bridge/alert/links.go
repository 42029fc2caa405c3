package alert

import (
	"net/url"
	"slices"
	"strings"

	"github.com/prometheus/alertmanager/template"
)

// AlertsURL links to the group's alerts in Alertmanager's UI: the
// receiver's view filtered by the group labels. Empty without an external
// URL.
func (g *Group) AlertsURL() string {
	if g.ExternalURL == "" {
		return ""
	}
	q := url.Values{}
	q.Set("receiver", g.Receiver)
	if f := matcherFilter(g.GroupLabels); f != "" {
		q.Set("filter", f)
	}
	return strings.TrimSuffix(g.ExternalURL, "/") + "/#/alerts?" + q.Encode()
}

// SilenceURL links to Alertmanager's new-silence form prefilled with the
// alert's labels. Empty without an external URL.
func (g *Group) SilenceURL(a template.Alert) string {
	if g.ExternalURL == "" {
		return ""
	}
	q := url.Values{}
	q.Set("filter", matcherFilter(a.Labels))
	return strings.TrimSuffix(g.ExternalURL, "/") + "/#/silences/new?" + q.Encode()
}

// matcherValue escapes a label value inside a matcher's double quotes.
var matcherValue = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// matcherFilter renders labels as an Alertmanager filter, {a="1",b="2"}.
func matcherFilter(kv template.KV) string {
	if len(kv) == 0 {
		return ""
	}
	var buf [16]string
	keys := buf[:0]
	size := 2
	for k, v := range kv {
		keys = append(keys, k)
		size += len(k) + len(v) + 4
	}
	slices.Sort(keys)
	var b strings.Builder
	b.Grow(size)
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		matcherValue.WriteString(&b, kv[k])
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}
