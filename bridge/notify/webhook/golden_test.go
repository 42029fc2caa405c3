package webhook_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/webhook"
	"github.com/alertbridge/alertbridge/bridge/render"
)

var (
	fixedNow       = notifytest.FixedNow
	buildGroup     = notifytest.BuildGroup
	hostilePayload = notifytest.HostilePayload
	golden         = notifytest.Golden
	readExample    = notifytest.ReadExample
)

// newSet builds a template set with the presets and the given inline
// templates.
func newSet(t *testing.T, inline ...render.Inline) *render.Set {
	t.Helper()
	set, err := render.New(render.Options{Inline: inline})
	if err != nil {
		t.Fatalf("render.New: %v", err)
	}
	return set
}

func newNotifier(t *testing.T, s notify.Settings) *webhook.Notifier {
	t.Helper()
	if s.Now == nil {
		s.Now = func() time.Time { return fixedNow }
	}
	if s.URL == "" {
		s.URL = "http://127.0.0.1:1/hook/TOKEN"
	}
	n, err := webhook.New(s)
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return n
}

// buildOne builds g and returns the single request's body.
func buildOne(t *testing.T, n *webhook.Notifier, g *alert.Group) []byte {
	t.Helper()
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(reqs) != 1 {
		t.Fatalf("Build returned %d requests, want 1", len(reqs))
	}
	return reqs[0].Body
}

func TestGoldenDefaultBody(t *testing.T) {
	fx := notifytest.Fixtures(t)
	for _, name := range notifytest.SortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			g := buildGroup(t, fx[name])
			n := newNotifier(t, notify.Settings{Name: "golden", Templates: newSet(t)})
			body := buildOne(t, n, g)
			if !json.Valid(body) {
				t.Fatalf("body is not valid JSON: %s", body)
			}
			// Independently of the golden bytes: the body is exactly the
			// group's records, losslessly (hostile values included).
			var got []alert.Record
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not a record array: %v", err)
			}
			if !reflect.DeepEqual(got, g.Records) {
				t.Errorf("decoded body differs from the group's records:\n got %+v\nwant %+v", got, g.Records)
			}
			golden(t, name, body)
		})
	}
}

const customText = `{"text": "{{ .CommonLabels.alertname }}: {{ (index .Alerts 0).Annotations.summary }}"}`

func TestGoldenCustomInlineHostile(t *testing.T) {
	set := newSet(t, render.Inline{Name: "custom", Text: customText, JSON: true})
	n := newNotifier(t, notify.Settings{Name: "custom", Templates: set, BodyTemplate: "custom"})
	g := buildGroup(t, hostilePayload())
	body := buildOne(t, n, g)
	if !json.Valid(body) {
		t.Fatalf("body is not valid JSON: %s", body)
	}
	var got struct{ Text string }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := notifytest.HostileName + ": " + notifytest.HostileSummary; got.Text != want {
		t.Errorf("text does not round-trip:\n got %q\nwant %q", got.Text, want)
	}
	golden(t, "custom-hostile", body)
}
