package alert

import (
	"net/url"
	"sort"
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

// matcherFilter renders labels as an Alertmanager filter, {a="1",b="2"}.
func matcherFilter(kv template.KV) string {
	if len(kv) == 0 {
		return ""
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		v := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(kv[k])
		b.WriteString(k + `="` + v + `"`)
	}
	b.WriteByte('}')
	return b.String()
}
