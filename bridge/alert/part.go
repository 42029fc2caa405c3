package alert

import (
	"maps"
	"slices"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
)

// FiringFirst returns the group with its firing alerts ahead of its
// resolved ones, each in Alertmanager's order, so whatever a size limit
// leaves out is resolved before firing. The group itself is unchanged.
func (g *Group) FiringFirst() *Group {
	if slices.IsSortedFunc(g.Alerts, func(a, b template.Alert) int { return firingRank(a) - firingRank(b) }) {
		return g
	}
	idx := make([]int, len(g.Alerts))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return firingRank(g.Alerts[a]) - firingRank(g.Alerts[b]) })
	n := *g
	n.Alerts = make(template.Alerts, len(idx))
	n.Records = make([]Record, len(idx))
	for to, from := range idx {
		n.Alerts[to] = g.Alerts[from]
		n.Records[to] = g.Records[from]
	}
	return &n
}

// Slice returns alerts [i, j) of the group as one part of a notification
// that is split over several messages. Unlike Filter it keeps the
// notification's status, group key and common labels and annotations: a
// part of a firing notification is still that notification.
func (g *Group) Slice(i, j int) *Group {
	if i == 0 && j == len(g.Alerts) {
		return g
	}
	n := *g
	n.Alerts = g.Alerts[i:j:j]
	n.Records = g.Records[i:j:j]
	return &n
}

// Shortened returns a deep copy of the group in which every label and
// annotation value, and every record's content and tag, longer than limit
// runes is cut to limit-1 runes plus "…". Cuts fall on rune boundaries of the
// raw values, before any escaping, so no output escape or UTF-8 sequence is
// ever split. It is how one alert too large for a platform's message limit
// still gets delivered, shortened rather than lost.
func (g *Group) Shortened(limit int) *Group {
	n := *g
	n.links = &links{}
	n.GroupLabels = shortenKV(g.GroupLabels, limit)
	n.CommonLabels = shortenKV(g.CommonLabels, limit)
	n.CommonAnnotations = shortenKV(g.CommonAnnotations, limit)
	n.Alerts = make(template.Alerts, len(g.Alerts))
	for i, a := range g.Alerts {
		a.Labels = shortenKV(a.Labels, limit)
		a.Annotations = shortenKV(a.Annotations, limit)
		a.GeneratorURL = shortenURL(a.GeneratorURL, limit)
		n.Alerts[i] = a
	}
	n.Records = make([]Record, len(g.Records))
	for i, r := range g.Records {
		r.Content = Shorten(r.Content, limit)
		r.Target = Shorten(r.Target, limit)
		tags := make(map[string]string, len(r.Tags))
		for k, v := range r.Tags {
			tags[k] = Shorten(v, limit)
		}
		r.Tags = tags
		n.Records[i] = r
	}
	return &n
}

// Shorten cuts s to at most limit runes, the last of them "…", on a rune
// boundary. limit < 1 is treated as 1.
func Shorten(s string, limit int) string {
	limit = max(limit, 1)
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	cut, runes := 0, 0
	for cut < len(s) && runes < limit-1 {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
		runes++
	}
	return s[:cut] + "…"
}

// shortenURL drops a link that would have to be cut: half a URL is worse
// than none.
func shortenURL(u string, limit int) string {
	if utf8.RuneCountInString(u) <= limit {
		return u
	}
	return ""
}

func shortenKV(kv template.KV, limit int) template.KV {
	if kv == nil {
		return nil
	}
	out := maps.Clone(kv)
	for k, v := range out {
		out[k] = Shorten(v, limit)
	}
	return out
}
