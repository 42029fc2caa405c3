package chat

import (
	"fmt"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/prometheus/alertmanager/template"
)

// Data is what a chat body template sees: the group (with its links,
// .AlertsURL and .SilenceURL) (for this message,
// only the alerts it carries; status and common labels are the whole
// notification's), plus where the message stands among the notification's
// messages, who to mention, and the target's options.
type Data struct {
	*alert.Group
	// The group's fields templates read most, repeated from Group so that
	// text/template finds them directly instead of searching the embedded
	// structs on every access. They always equal the group's.
	Receiver          string
	Status            string
	Alerts            template.Alerts
	GroupLabels       template.KV
	CommonLabels      template.KV
	CommonAnnotations template.KV
	ExternalURL       string
	Records           []alert.Record
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

	// frags remembers rendered fragments across the candidate messages of
	// one packing; offset is the index of Alerts[0] in the packed group.
	frags  *fragments
	offset int
}

// setGroup makes g the message's group.
func (d *Data) setGroup(g *alert.Group) {
	d.Group = g
	d.Receiver, d.Status, d.Alerts = g.Receiver, g.Status, g.Alerts
	d.GroupLabels, d.CommonLabels, d.CommonAnnotations = g.GroupLabels, g.CommonLabels, g.CommonAnnotations
	d.ExternalURL, d.Records = g.ExternalURL, g.Records
}

// Split reports whether the notification spans several messages.
func (d *Data) Split() bool { return d.Parts > 1 }

// Last reports whether this is the notification's last message.
func (d *Data) Last() bool { return d.Part == d.Parts }

// Fragment renders the named template for the message's alert i (from 0)
// with an AlertData. A fragment depends on its alert alone, so while a
// notification is packed each alert's fragment is rendered once and reused
// in every candidate message that carries it.
func (d *Data) Fragment(name string, i int) (string, error) {
	if i < 0 || i >= len(d.Alerts) {
		return "", fmt.Errorf("fragment %q: alert %d of a message with %d", name, i, len(d.Alerts))
	}
	if d.frags == nil {
		return "", fmt.Errorf("fragment %q: only the packer's data renders fragments", name)
	}
	return d.frags.get(name, d.offset+i)
}

// AlertData is what a per-alert fragment sees: the alert's fields (the
// same names as in an Alertmanager alert), its HertzBeat record, its
// silence link and the target's options.
type AlertData struct {
	Status       string
	Labels       template.KV
	Annotations  template.KV
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string
	// Record is the alert's HertzBeat-style record.
	Record alert.Record
	// SilenceURL links to a new silence for the alert; empty without an
	// external URL.
	SilenceURL string
	// Options are the target's type-specific options.
	Options any

	included map[string]string
}

// Included and Remember let include print a piece once per fragment.
func (a *AlertData) Included(name string) (string, bool) {
	out, ok := a.included[name]
	return out, ok
}

// Remember records what include printed for name.
func (a *AlertData) Remember(name, out string) {
	if a.included == nil {
		a.included = make(map[string]string, 4)
	}
	a.included[name] = out
}

// fragments renders and remembers the fragments of one packed group.
type fragments struct {
	g       *alert.Group
	options any
	exec    func(name string, data any) (string, error)
	byName  map[string][]*string
}

func newFragments(g *alert.Group, options any, exec func(string, any) (string, error)) *fragments {
	return &fragments{g: g, options: options, exec: exec, byName: map[string][]*string{}}
}

func (f *fragments) get(name string, k int) (string, error) {
	cache := f.byName[name]
	if cache == nil {
		cache = make([]*string, len(f.g.Alerts))
		f.byName[name] = cache
	}
	if s := cache[k]; s != nil {
		return *s, nil
	}
	a := f.g.Alerts[k]
	s, err := f.exec(name, &AlertData{
		Status: a.Status, Labels: a.Labels, Annotations: a.Annotations,
		StartsAt: a.StartsAt, EndsAt: a.EndsAt, GeneratorURL: a.GeneratorURL, Fingerprint: a.Fingerprint,
		Record: f.g.Records[k], SilenceURL: f.g.SilenceURL(a), Options: f.options,
	})
	if err != nil {
		return "", err
	}
	cache[k] = &s
	return s, nil
}
