// Package dialect turns a group into the data another system's templates
// expect (HertzBeat, API7, Coroot, AMMDS), one file per dialect, so a
// template copied from that system works unchanged; the Alertmanager
// dialect is the group itself. See docs/templates.md.
package dialect

import (
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Dialect names: the template vocabularies a target can speak.
const (
	Alertmanager = "alertmanager"
	HertzBeat    = "hertzbeat"
	API7         = "api7"
	Coroot       = "coroot"
	AMMDS        = "ammds"
)

// Dialects lists every dialect name, the default first.
func Names() []string {
	return []string{Alertmanager, HertzBeat, API7, Coroot, AMMDS}
}

// Signs reports whether the dialect's data carries a signature made
// with the target's secret (AMMDS's {{sign}}): the secret is then the
// dialect's, on any target type, and no other signing applies.
func Signs(name string) bool { return name == AMMDS }

// TimeLayout is how the API7 and AMMDS views print times.
const TimeLayout = "2006-01-02 15:04:05"

// Time is a time that prints (and encodes to JSON) as
// TimeLayout, while templates can still call its time methods:
// {{ .AlertTime }} and {{ .AlertTime.Format "2006 Jan 02 15:04:05" }} both
// work, as they do in API7.
type Time struct{ time.Time }

// String formats the time with TimeLayout.
func (t Time) String() string { return t.Format(TimeLayout) }

// MarshalJSON encodes the time as a JSON string in String's form (not
// time.Time's RFC 3339).
func (t Time) MarshalJSON() ([]byte, error) { return []byte(`"` + t.String() + `"`), nil }

// UnmarshalJSON reads what MarshalJSON wrote (as UTC).
func (t *Time) UnmarshalJSON(b []byte) error {
	v, err := time.Parse(`"`+TimeLayout+`"`, string(b))
	t.Time = v
	return err
}

// A Dialect turns a group into the data another system's templates expect,
// so a template copied from that system works unchanged. The zero dialect
// (nil) is Alertmanager's own: templates see the alert.Group.
type Dialect struct {
	// Name is one of Names().
	Name string
	// PerAlert means the data describes one alert: the group is sent as one
	// request per alert, and View gets one-alert groups.
	PerAlert bool
	// Signs means the data carries a signature made with the target's
	// secret, so the secret is the dialect's and no other signing applies.
	Signs bool
	view  func(*alert.Group) any
}

// Options are what a dialect's views need from the target.
type Options struct {
	// Location is the time zone of printed times; nil means UTC.
	Location *time.Location
	// Secret keys the AMMDS {{sign}} value; empty leaves it empty.
	Secret string
}

// New returns the named dialect, or nil for the Alertmanager
// dialect (and the empty name), whose data is the group itself.
func New(name string, o Options) (*Dialect, error) {
	loc := orUTC(o.Location)
	switch name {
	case "", Alertmanager:
		return nil, nil
	case HertzBeat:
		return &Dialect{Name: name, PerAlert: true, view: func(g *alert.Group) any { return HertzBeatView(g) }}, nil
	case API7:
		return &Dialect{Name: name, view: func(g *alert.Group) any { return API7View(g, loc) }}, nil
	case Coroot:
		return &Dialect{Name: name, view: func(g *alert.Group) any { return CorootView(g) }}, nil
	case AMMDS:
		secret := o.Secret
		return &Dialect{Name: name, Signs: Signs(name), view: func(g *alert.Group) any { return AMMDSView(g, loc, secret) }}, nil
	}
	return nil, fmt.Errorf("unknown dialect %q (one of %s)", name, strings.Join(Names(), ", "))
}

// View returns what a template sees for g: the dialect's data, or g itself
// for the Alertmanager dialect (a nil Dialect).
func (d *Dialect) View(g *alert.Group) any {
	if d == nil {
		return g
	}
	return d.view(g)
}

// Text prepares template text written in a dialect's placeholder
// syntax for parsing. Only AMMDS has its own: each of {{type}} {{title}}
// {{subTitle}} {{message}} {{time}} {{logo}} {{image}} {{sign}} becomes the
// action printing that field of the AMMDS data ({{ .Title }} ...); the rest
// of the text is Go template syntax already, so Go actions may be mixed in.
// Other dialects' text is returned unchanged.
func Text(dialect, text string) string {
	if dialect != AMMDS {
		return text
	}
	return ammdsPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		p := ammdsPlaceholder.FindStringSubmatch(m)
		return "{{" + p[1] + "." + strings.ToUpper(p[2][:1]) + p[2][1:] + p[3] + "}}"
	})
}

// detail is every alert's alert.DetailLine, one per line.
func detail(alerts template.Alerts) string {
	lines := make([]string, len(alerts))
	for i, a := range alerts {
		lines[i] = alert.DetailLine(a)
	}
	return strings.Join(lines, "\n")
}

func orUTC(loc *time.Location) *time.Location {
	if loc == nil {
		return time.UTC
	}
	return loc
}

func firstOf(kv template.KV, keys ...string) string {
	for _, k := range keys {
		if v := strings.TrimSpace(kv[k]); v != "" {
			return v
		}
	}
	return ""
}
