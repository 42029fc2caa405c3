package alert

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"
)

// Dialect names: the template vocabularies a target can speak.
const (
	DialectAlertmanager = "alertmanager"
	DialectHertzBeat    = "hertzbeat"
	DialectAPI7         = "api7"
	DialectCoroot       = "coroot"
	DialectAMMDS        = "ammds"
)

// Dialects lists every dialect name, the default first.
func Dialects() []string {
	return []string{DialectAlertmanager, DialectHertzBeat, DialectAPI7, DialectCoroot, DialectAMMDS}
}

// DialectSigns reports whether the dialect's data carries a signature made
// with the target's secret (AMMDS's {{sign}}): the secret is then the
// dialect's, on any target type, and no other signing applies.
func DialectSigns(name string) bool { return name == DialectAMMDS }

// ammdsPlaceholder matches AMMDS's placeholders, {{title}} or {{ title }}.
var ammdsPlaceholder = regexp.MustCompile(`\{\{(-?\s*)(type|title|subTitle|message|time|logo|image|sign)(\s*-?)\}\}`)

// DialectText prepares template text written in a dialect's placeholder
// syntax for parsing. Only AMMDS has its own: each of {{type}} {{title}}
// {{subTitle}} {{message}} {{time}} {{logo}} {{image}} {{sign}} becomes the
// action printing that field of the AMMDS data ({{ .Title }} ...); the rest
// of the text is Go template syntax already, so Go actions may be mixed in.
// Other dialects' text is returned unchanged.
func DialectText(dialect, text string) string {
	if dialect != DialectAMMDS {
		return text
	}
	return ammdsPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		p := ammdsPlaceholder.FindStringSubmatch(m)
		return "{{" + p[1] + "." + strings.ToUpper(p[2][:1]) + p[2][1:] + p[3] + "}}"
	})
}

// DialectTimeLayout is how the API7 and AMMDS views print times.
const DialectTimeLayout = "2006-01-02 15:04:05"

// DialectTime is a time that prints (and encodes to JSON) as
// DialectTimeLayout, while templates can still call its time methods:
// {{ .AlertTime }} and {{ .AlertTime.Format "2006 Jan 02 15:04:05" }} both
// work, as they do in API7.
type DialectTime struct{ time.Time }

// String formats the time with DialectTimeLayout.
func (t DialectTime) String() string { return t.Format(DialectTimeLayout) }

// MarshalJSON encodes the time as a JSON string in String's form (not
// time.Time's RFC 3339).
func (t DialectTime) MarshalJSON() ([]byte, error) { return []byte(`"` + t.String() + `"`), nil }

// UnmarshalJSON reads what MarshalJSON wrote (as UTC).
func (t *DialectTime) UnmarshalJSON(b []byte) error {
	v, err := time.Parse(`"`+DialectTimeLayout+`"`, string(b))
	t.Time = v
	return err
}

// A Dialect turns a group into the data another system's templates expect,
// so a template copied from that system works unchanged. The zero dialect
// (nil) is Alertmanager's own: templates see the Group.
type Dialect struct {
	// Name is one of Dialects().
	Name string
	// PerAlert means the data describes one alert: the group is sent as one
	// request per alert, and View gets one-alert groups.
	PerAlert bool
	// Signs means the data carries a signature made with the target's
	// secret, so the secret is the dialect's and no other signing applies.
	Signs bool
	view  func(*Group) any
}

// DialectOptions are what a dialect's views need from the target.
type DialectOptions struct {
	// Location is the time zone of printed times; nil means UTC.
	Location *time.Location
	// Secret keys the AMMDS {{sign}} value; empty leaves it empty.
	Secret string
}

// NewDialect returns the named dialect, or nil for the Alertmanager
// dialect (and the empty name), whose data is the group itself.
func NewDialect(name string, o DialectOptions) (*Dialect, error) {
	loc := orUTC(o.Location)
	switch name {
	case "", DialectAlertmanager:
		return nil, nil
	case DialectHertzBeat:
		return &Dialect{Name: name, PerAlert: true, view: func(g *Group) any { return HertzBeatView(g) }}, nil
	case DialectAPI7:
		return &Dialect{Name: name, view: func(g *Group) any { return API7View(g, loc) }}, nil
	case DialectCoroot:
		return &Dialect{Name: name, view: func(g *Group) any { return CorootView(g) }}, nil
	case DialectAMMDS:
		secret := o.Secret
		return &Dialect{Name: name, Signs: DialectSigns(name), view: func(g *Group) any { return AMMDSView(g, loc, secret) }}, nil
	}
	return nil, fmt.Errorf("unknown dialect %q (one of %s)", name, strings.Join(Dialects(), ", "))
}

// View returns what a template sees for g: the dialect's data, or g itself
// for the Alertmanager dialect (a nil Dialect).
func (d *Dialect) View(g *Group) any {
	if d == nil {
		return g
	}
	return d.view(g)
}

// Summary is one alert's headline, and its record's content: its
// summary, description or message annotation (the first that is not
// blank), else its alertname.
func Summary(a template.Alert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if v := strings.TrimSpace(a.Annotations[k]); v != "" {
			return v
		}
	}
	return a.Labels[model.AlertNameLabel]
}

// Name is what the group is about: its group label values, else the
// common alertname, else "alerts".
func (g *Group) Name() string {
	if vs := g.GroupLabels.SortedPairs().Values(); len(vs) > 0 {
		return strings.Join(vs, " ")
	}
	if n := g.CommonLabels[model.AlertNameLabel]; n != "" {
		return n
	}
	return "alerts"
}

// Title is the notification's one-line title, as the chat presets print
// it: "[FIRING:2] HighCPU node" or "[RESOLVED] HighCPU node".
func (g *Group) Title() string {
	if g.Status == string(model.AlertFiring) {
		return fmt.Sprintf("[FIRING:%d] %s", len(g.Alerts.Firing()), g.Name())
	}
	return "[RESOLVED] " + g.Name()
}

// TopPriority is the most urgent HertzBeat priority among the firing
// alerts (all alerts when none fires), PriorityLow for an empty group.
func (g *Group) TopPriority() int {
	top, found := PriorityLow, false
	for _, firingOnly := range []bool{true, false} {
		for i, r := range g.Records {
			if firingOnly && g.Alerts[i].Status != string(model.AlertFiring) {
				continue
			}
			top, found = min(top, r.Priority), true
		}
		if found {
			break
		}
	}
	return top
}

// DetailLine describes one alert on one line of plain text:
// "[FIRING] HighCPU: CPU is hot (instance=web-1, job=node)". Line breaks
// inside values become spaces, so one alert is always one line.
func DetailLine(a template.Alert) string {
	status := "FIRING"
	if a.Status == string(model.AlertResolved) {
		status = "RESOLVED"
	}
	name := a.Labels[model.AlertNameLabel]
	var b strings.Builder
	fmt.Fprintf(&b, "[%s] %s", status, name)
	if s := Summary(a); s != name {
		b.WriteString(": " + s)
	}
	var pairs []string
	for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
		if k != model.AlertNameLabel {
			pairs = append(pairs, k+"="+a.Labels[k])
		}
	}
	if len(pairs) > 0 {
		b.WriteString(" (" + strings.Join(pairs, ", ") + ")")
	}
	return oneLine(b.String())
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")

func oneLine(s string) string { return lineBreaks.Replace(s) }

// detail is every alert's DetailLine, one per line.
func detail(alerts template.Alerts) string {
	lines := make([]string, len(alerts))
	for i, a := range alerts {
		lines[i] = DetailLine(a)
	}
	return strings.Join(lines, "\n")
}

// HertzBeatAlert is HertzBeat's alert record as its webhooks push it: one
// alert, the record's fields at the top level.
type HertzBeatAlert struct {
	Record
	// NextEvalInterval is HertzBeat's time to the next evaluation in
	// milliseconds. Alertmanager does not pass a rule's evaluation
	// interval, so it is always 0.
	NextEvalInterval int64 `json:"nextEvalInterval"`
}

// HertzBeatView is the record of the group's first alert (the dialect is
// per alert, so the group has one).
func HertzBeatView(g *Group) *HertzBeatAlert {
	if len(g.Records) == 0 {
		return &HertzBeatAlert{}
	}
	return &HertzBeatAlert{Record: g.Records[0]}
}

// API7Data is the data of API7 Enterprise's alert templates.
type API7Data struct {
	// Title is the notification's title (Group.Title).
	Title string `json:"title"`
	// Severity is High, Medium or Low: the most urgent priority among the
	// firing alerts (all alerts once resolved).
	Severity string `json:"severity"`
	// Detail is one line per alert (DetailLine).
	Detail string `json:"detail"`
	// AlertEvents maps each alertname to the detail lines of its alerts,
	// so {{ .AlertEvents.HighCPU }} reads one rule's alerts.
	AlertEvents map[string]string `json:"alertEvents"`
	// AlertPolicyName is what the group is about (Group.Name).
	AlertPolicyName string `json:"alertPolicyName"`
	// AlertDetail is Detail, under the newer name.
	AlertDetail string `json:"alertDetail"`
	// Description is the common description or summary annotation, else
	// the title.
	Description string `json:"description"`
	// AlertTime is when the bridge received the notification, in the
	// configured time zone; it prints as "2006-01-02 15:04:05" and has the
	// methods of time.Time.
	AlertTime DialectTime `json:"alertTime"`
	// TriggerGatewayGroup is the common gateway_group label (API7's
	// gateway group), else empty.
	TriggerGatewayGroup string `json:"triggerGatewayGroup"`
}

var api7Severity = map[int]string{PriorityHigh: "High", PriorityMedium: "Medium", PriorityLow: "Low"}

// API7View maps the group to API7's vocabulary; times are printed in loc
// (nil: UTC).
func API7View(g *Group, loc *time.Location) *API7Data {
	loc = orUTC(loc)
	d := &API7Data{
		Title:           g.Title(),
		Severity:        api7Severity[g.TopPriority()],
		Detail:          detail(g.Alerts),
		AlertEvents:     map[string]string{},
		AlertPolicyName: g.Name(),
		AlertTime:       DialectTime{g.ReceivedAt.In(loc)},
	}
	d.TriggerGatewayGroup = g.CommonLabels["gateway_group"]
	d.AlertDetail = d.Detail
	for _, a := range g.Alerts {
		name := a.Labels[model.AlertNameLabel]
		if prev := d.AlertEvents[name]; prev != "" {
			d.AlertEvents[name] = prev + "\n" + DetailLine(a)
		} else {
			d.AlertEvents[name] = DetailLine(a)
		}
	}
	d.Description = strings.TrimSpace(g.CommonAnnotations["description"])
	if d.Description == "" {
		d.Description = strings.TrimSpace(g.CommonAnnotations["summary"])
	}
	if d.Description == "" {
		d.Description = d.Title
	}
	return d
}

// CorootData is the data of Coroot's incident templates
// (IncidentTemplateValues), with Coroot's JSON names for {{ json . }}.
type CorootData struct {
	// Status is OK (resolved), CRITICAL (a high-priority alert fires) or
	// WARNING (other alerts fire).
	Status      string            `json:"status"`
	Application CorootApplication `json:"application"`
	Reports     []CorootReport    `json:"reports"`
	// URL links to the alert's source when the group has one alert with a
	// generator URL, else to the group in Alertmanager, else to
	// Alertmanager itself.
	URL string `json:"url"`
}

// CorootApplication names the application the group is about, from the
// common labels (see CorootView). Like Coroot's application id it prints
// and encodes to JSON as "namespace:Kind:name", while templates reach the
// parts as .Namespace, .Kind and .Name.
type CorootApplication struct {
	Namespace string
	Kind      string
	Name      string
}

// String is Coroot's application id, "namespace:Kind:name".
func (a CorootApplication) String() string { return a.Namespace + ":" + a.Kind + ":" + a.Name }

// MarshalText encodes the application id as String does.
func (a CorootApplication) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads an application id; the name may hold colons.
func (a *CorootApplication) UnmarshalText(b []byte) error {
	parts := strings.SplitN(string(b), ":", 3)
	if len(parts) != 3 {
		return fmt.Errorf("application id %q is not namespace:Kind:name", b)
	}
	a.Namespace, a.Kind, a.Name = parts[0], parts[1], parts[2]
	return nil
}

// CorootReport is one alert: Name its alertname, Check its instance
// label, Message its summary (prefixed "resolved: " when the alert is
// resolved in a firing group).
type CorootReport struct {
	Name    string `json:"name"`
	Check   string `json:"check"`
	Message string `json:"message"`
}

// corootNames are the labels, in order, that name an application, and the
// kind each implies.
var corootNames = []struct{ label, kind string }{
	{"application", ""}, {"app", ""}, {"app_kubernetes_io_name", ""},
	{"deployment", "Deployment"}, {"statefulset", "StatefulSet"}, {"daemonset", "DaemonSet"},
	{"cronjob", "CronJob"}, {"service", ""}, {"job", ""},
}

// CorootView maps the group to Coroot's vocabulary. Application.Namespace
// is the common namespace label; Name the first common label of
// application, app, app_kubernetes_io_name, deployment, statefulset,
// daemonset, cronjob, service, job (else Group.Name); Kind the common kind
// label, else the kind the naming label implies (deployment: Deployment,
// ...), else empty.
func CorootView(g *Group) *CorootData {
	d := &CorootData{Status: "OK", URL: g.ExternalURL}
	if g.Status == string(model.AlertFiring) {
		d.Status = "WARNING"
		if g.TopPriority() == PriorityHigh {
			d.Status = "CRITICAL"
		}
	}
	common := g.CommonLabels
	d.Application.Namespace = common["namespace"]
	d.Application.Kind = common["kind"]
	for _, n := range corootNames {
		if v := common[n.label]; v != "" {
			d.Application.Name = v
			if d.Application.Kind == "" {
				d.Application.Kind = n.kind
			}
			break
		}
	}
	if d.Application.Name == "" {
		d.Application.Name = g.Name()
	}
	d.Reports = make([]CorootReport, len(g.Alerts))
	for i, a := range g.Alerts {
		msg := Summary(a)
		if a.Status == string(model.AlertResolved) && d.Status != "OK" {
			msg = "resolved: " + msg
		}
		d.Reports[i] = CorootReport{Name: a.Labels[model.AlertNameLabel], Check: a.Labels["instance"], Message: msg}
	}
	switch {
	case len(g.Alerts) == 1 && g.Alerts[0].GeneratorURL != "":
		d.URL = g.Alerts[0].GeneratorURL
	case g.AlertsURL() != "":
		d.URL = g.AlertsURL()
	}
	return d
}

// AMMDSData is the data behind AMMDS's placeholders: {{type}} {{title}}
// {{subTitle}} {{message}} {{time}} {{logo}} {{image}} {{sign}}.
type AMMDSData struct {
	// Type is the notification's status: firing or resolved.
	Type string `json:"type"`
	// Title is the notification's title (Group.Title).
	Title string `json:"title"`
	// SubTitle is the severity and the counts: "critical · 2 firing, 1
	// resolved".
	SubTitle string `json:"subTitle"`
	// Message is one line per alert (DetailLine).
	Message string `json:"message"`
	// Time is when the bridge received the notification, in the
	// configured time zone ("2006-01-02 15:04:05").
	Time string `json:"time"`
	// Logo and Image are the common logo (or logo_url) and image (or
	// image_url) annotations; empty when the alerts do not share one.
	Logo  string `json:"logo"`
	Image string `json:"image"`
	// Sign is base64(HMAC-SHA256(secret, Time + "\n" + Message)); empty
	// without a secret. See AMMDSSign.
	Sign string `json:"sign"`
}

// AMMDSView maps the group to AMMDS's placeholders; times are printed in
// loc (nil: UTC).
func AMMDSView(g *Group, loc *time.Location, secret string) *AMMDSData {
	loc = orUTC(loc)
	firing := len(g.Alerts.Firing())
	sub := fmt.Sprintf("%d firing, %d resolved", firing, len(g.Alerts)-firing)
	if sev := oneLine(strings.TrimSpace(g.CommonLabels["severity"])); sev != "" {
		sub = sev + " · " + sub
	}
	d := &AMMDSData{
		Type:     g.Status,
		Title:    oneLine(g.Title()),
		SubTitle: sub,
		Message:  detail(g.Alerts),
		Time:     g.ReceivedAt.In(loc).Format(DialectTimeLayout),
		Logo:     firstOf(g.CommonAnnotations, "logo", "logo_url"),
		Image:    firstOf(g.CommonAnnotations, "image", "image_url"),
	}
	if secret != "" {
		d.Sign = AMMDSSign(secret, d.Time, d.Message)
	}
	return d
}

// AMMDSSign is the {{sign}} value: the standard base64 of
// HMAC-SHA256 keyed by the secret over time, a line feed, and message. A
// receiver recomputes it from the time and message it received.
func AMMDSSign(secret, time, message string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(time + "\n" + message))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
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
