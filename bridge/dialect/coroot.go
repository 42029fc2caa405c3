package dialect

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

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
// daemonset, cronjob, service, job (else alert.Group.Name); Kind the common kind
// label, else the kind the naming label implies (deployment: Deployment,
// ...), else empty.
func CorootView(g *alert.Group) *CorootData {
	d := &CorootData{Status: "OK", URL: g.ExternalURL}
	if g.Status == string(model.AlertFiring) {
		d.Status = "WARNING"
		if g.TopPriority() == alert.PriorityHigh {
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
		msg := alert.Summary(a)
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
