package webhook_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/alert"
	dialects "github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// dialectTemplates are user templates written in each dialect's own
// vocabulary, the way its users write them: API7 with escape, Coroot
// with a JSON string spread over lines, AMMDS with its placeholders.
var dialectTemplates = map[string]string{
	dialects.API7: `{"title": "{{ .Title }}", "severity": "{{ .Severity }}", "policy": "{{ escape .AlertPolicyName }}",
"detail": "{{ .Detail }}", "events": {{ json .AlertEvents }}, "at": "{{ .AlertTime }}", "description": "{{ .Description }}"}`,
	dialects.Coroot: `{"text": "{{ if eq .Status "OK" }}Resolved{{ else }}{{ .Status }}{{ end }}: {{ .Application.Name }}@{{ .Application.Namespace }} ({{ .Application.Kind }})
{{ range .Reports }}- {{ .Name }} {{ .Check }}: {{ .Message }}
{{ end }}{{ .URL }}"}`,
	dialects.AMMDS:     `{"type":"{{type}}","title":"{{ title }}","subTitle":"{{subTitle}}","message":"{{message}}","time":"{{time}}","logo":"{{logo}}","image":"{{image}}","sign":"{{sign}}"}`,
	dialects.HertzBeat: `{"content": "{{ .Content }}", "priority": {{ .Priority }}, "instance": "{{ .Tags.instance }}"}`,
}

// dialectNotifier builds a webhook notifier speaking dialect; body is the
// user's template ("" for the preset).
func dialectNotifier(t *testing.T, dialect, body, secret string) *webhookNotifier {
	t.Helper()
	d, err := dialects.New(dialect, dialects.Options{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	s := notify.Settings{Name: "golden", Dialect: d, Secret: secret}
	var inline []render.Inline
	if body != "" {
		inline = append(inline, render.Inline{Name: "user", Text: dialects.Text(dialect, body), JSON: true})
		s.BodyTemplate = "user"
	}
	s.Templates = newSet(t, inline...)
	return &webhookNotifier{newNotifier(t, s)}
}

type webhookNotifier struct{ notify.Notifier }

func (n *webhookNotifier) bodies(t *testing.T, g *alert.Group) [][]byte {
	t.Helper()
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	bodies := make([][]byte, len(reqs))
	for i, r := range reqs {
		if !json.Valid(r.Body) {
			t.Fatalf("request %d: body is not valid JSON: %s", i+1, r.Body)
		}
		bodies[i] = r.Body
	}
	return bodies
}

// TestGoldenDialects renders every fixture in every dialect, with the
// preset (the dialect's data as JSON) and with a template written in the
// dialect's vocabulary. Besides the golden bytes, the preset body must
// decode to exactly the dialect's view: nothing lost or mangled, hostile
// values included.
func TestGoldenDialects(t *testing.T) {
	fx := notifytest.Fixtures(t)
	for _, dialect := range dialects.Names()[1:] {
		for _, name := range notifytest.SortedNames(fx) {
			t.Run(dialect+"/"+name, func(t *testing.T) {
				g := buildGroup(t, fx[name])
				d, _ := dialects.New(dialect, dialects.Options{Secret: "s3cret"})

				bodies := dialectNotifier(t, dialect, "", "s3cret").bodies(t, g)
				notifytest.GoldenBodies(t, "dialect-"+dialect+"-"+name, bodies)
				var parts []*alert.Group
				if d.PerAlert {
					for i := range g.Alerts {
						parts = append(parts, g.Slice(i, i+1))
					}
				} else {
					parts = []*alert.Group{g}
				}
				if len(bodies) != len(parts) {
					t.Fatalf("%d requests, want %d", len(bodies), len(parts))
				}
				for i, p := range parts {
					want := d.View(p)
					got := reflect.New(reflect.TypeOf(want).Elem()).Interface()
					if err := json.Unmarshal(bodies[i], got); err != nil {
						t.Fatalf("request %d: %v", i+1, err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Errorf("request %d decodes to\n%+v\nwant the view\n%+v", i+1, got, want)
					}
				}

				custom := dialectNotifier(t, dialect, dialectTemplates[dialect], "s3cret").bodies(t, g)
				notifytest.GoldenBodies(t, "dialect-"+dialect+"-"+name+"-template", custom)
			})
		}
	}
}

// TestDialectHostileValuesSurvive decodes the user-template bodies of the
// hostile fixture and finds the hostile summary verbatim where the
// dialect puts it: JSON escaping happened exactly once.
func TestDialectHostileValuesSurvive(t *testing.T) {
	g := buildGroup(t, hostilePayload())
	summary := alert.Summary(g.Alerts[0])
	if !strings.ContainsAny(summary, "\"\\{") {
		t.Fatalf("hostile fixture summary %q is not hostile", summary)
	}
	oneLine := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(summary)
	for dialect, field := range map[string]string{
		dialects.API7: "detail", dialects.Coroot: "text", dialects.AMMDS: "message", dialects.HertzBeat: "content",
	} {
		bodies := dialectNotifier(t, dialect, dialectTemplates[dialect], "k").bodies(t, g)
		var m map[string]any
		if err := json.Unmarshal(bodies[0], &m); err != nil {
			t.Fatal(err)
		}
		got, _ := m[field].(string)
		want := summary
		if dialect == dialects.API7 || dialect == dialects.AMMDS {
			want = oneLine // detail lines keep one alert on one line
		}
		if !strings.Contains(got, want) {
			t.Errorf("%s: %s = %q, want it to contain %q", dialect, field, got, want)
		}
	}
}

// TestAMMDSSignVerifies checks {{sign}} the way a receiver would: HMAC
// over the received time and message, and that the secret does not also
// switch on Standard Webhooks signing.
func TestAMMDSSignVerifies(t *testing.T) {
	g := buildGroup(t, hostilePayload())
	n := dialectNotifier(t, dialects.AMMDS, dialectTemplates[dialects.AMMDS], "whsec_c2VjcmV0")
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(reqs[0].Body, &m); err != nil {
		t.Fatal(err)
	}
	if m["sign"] == "" || m["sign"] != dialects.AMMDSSign("whsec_c2VjcmV0", m["time"], m["message"]) {
		t.Errorf("sign %q does not verify over the received time and message", m["sign"])
	}
	if h := reqs[0].Header.Get("webhook-signature"); h != "" {
		t.Errorf("webhook-signature %q set: the AMMDS dialect owns the secret", h)
	}
}

// TestHertzBeatSignsEachAlert: per-alert requests of a signed target get
// distinct, retry-stable message ids.
func TestHertzBeatSignsEachAlert(t *testing.T) {
	g := buildGroup(t, notifytest.MixedPayload())
	n := dialectNotifier(t, dialects.HertzBeat, "", "whsec_c2VjcmV0")
	ids := map[string]bool{}
	for range 2 {
		reqs, err := n.Build(context.Background(), g)
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) != len(g.Alerts) {
			t.Fatalf("%d requests for %d alerts", len(reqs), len(g.Alerts))
		}
		for _, r := range reqs {
			ids[r.Header.Get("webhook-id")] = true
		}
	}
	if len(ids) != len(g.Alerts) || ids[""] {
		t.Errorf("webhook-ids %v: want one distinct id per alert, the same on every build", ids)
	}
}

// TestTextBody: with TextBody the body goes out as rendered, quotes and
// all, and is not required to be JSON.
func TestTextBody(t *testing.T) {
	g := buildGroup(t, hostilePayload())
	set := newSet(t, render.Inline{Name: "text", Text: `Alert: "{{ .CommonLabels.alertname }}" {{ len .Alerts }}`})
	n := newNotifier(t, notify.Settings{Name: "t", Templates: set, BodyTemplate: "text", TextBody: true,
		HeaderTemplates: map[string]string{}})
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatal(err)
	}
	want := `Alert: "` + g.CommonLabels["alertname"] + `" ` + strconv.Itoa(len(g.Alerts))
	if string(reqs[0].Body) != want {
		t.Errorf("body %q, want %q", reqs[0].Body, want)
	}
}
