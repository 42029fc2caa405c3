package alert

import (
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"

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
// alert's labels. Empty without an external URL. A group built by a
// Builder computes each alert's link once, for every view, message and
// target that shows it.
func (g *Group) SilenceURL(a template.Alert) string {
	if g.ExternalURL == "" {
		return ""
	}
	return g.links.silenceURL(g.ExternalURL, a.Labels)
}

func silenceURL(externalURL string, labels template.KV) string {
	q := url.Values{}
	q.Set("filter", matcherFilter(labels))
	return strings.TrimSuffix(externalURL, "/") + "/#/silences/new?" + q.Encode()
}

// links remembers the links computed for a group's alerts, keyed by the
// identity of their label maps: a group never changes its maps, and every
// group derived from it that shares this cache (views, parts, firing-first
// order) shares them too. Shortened copies get a cache of their own.
type links struct {
	mu      sync.Mutex
	silence map[uintptr]string
}

func (l *links) silenceURL(externalURL string, labels template.KV) string {
	if l == nil || labels == nil {
		return silenceURL(externalURL, labels)
	}
	key := reflect.ValueOf(labels).Pointer()
	l.mu.Lock()
	u, ok := l.silence[key]
	l.mu.Unlock()
	if ok {
		return u
	}
	u = silenceURL(externalURL, labels)
	l.mu.Lock()
	if l.silence == nil {
		l.silence = map[uintptr]string{}
	}
	l.silence[key] = u
	l.mu.Unlock()
	return u
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
