package chat

import (
	"net/url"
	"sort"
	"strings"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Data is what a chat body template sees: the group (for this message,
// only the alerts it carries; status and common labels are the whole
// notification's), plus where the message stands among the notification's
// messages, who to mention, and the target's options.
type Data struct {
	*alert.Group
	// Part is this message's number (from 1) and Parts how many messages
	// carry the notification.
	Part, Parts int
	// More counts the notification's alerts that appear in no message: left
	// out for size (only ever on the last message) or truncated before the
	// bridge saw them (max_alerts, Alertmanager's max_alerts).
	More int
	// Firing and Resolved count the notification's alerts by status across
	// all its messages.
	Firing, Resolved int
	// Mentions are the users to notify for this message.
	Mentions Mentions
	// Options are the target's type-specific options.
	Options any
}

// Split reports whether the notification spans several messages.
func (d *Data) Split() bool { return d.Parts > 1 }

// Last reports whether this is the notification's last message.
func (d *Data) Last() bool { return d.Part == d.Parts }

// AlertsURL links to the group's alerts in Alertmanager's UI: the
// receiver's view filtered by the group labels. Empty without an external
// URL.
func (d *Data) AlertsURL() string {
	if d.ExternalURL == "" {
		return ""
	}
	q := url.Values{}
	q.Set("receiver", d.Receiver)
	if f := matcherFilter(d.GroupLabels); f != "" {
		q.Set("filter", f)
	}
	return strings.TrimSuffix(d.ExternalURL, "/") + "/#/alerts?" + q.Encode()
}

// SilenceURL links to Alertmanager's new-silence form prefilled with the
// alert's labels. Empty without an external URL.
func (d *Data) SilenceURL(a template.Alert) string {
	if d.ExternalURL == "" {
		return ""
	}
	q := url.Values{}
	q.Set("filter", matcherFilter(a.Labels))
	return strings.TrimSuffix(d.ExternalURL, "/") + "/#/silences/new?" + q.Encode()
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
