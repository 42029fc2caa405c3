package bridge

import (
	"context"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/amtest"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// TestEndToEndDialects has a real Alertmanager deliver one group, firing
// then resolved, through the bridge to one target per dialect at once,
// each speaking its seed system's vocabulary to its strict fake:
// alertmanager (the webhook preset's records), hertzbeat (the record
// example, one request per alert), api7 (API7's Lark text template to a
// signed bot), coroot (the Telegram example) and ammds (the eight
// placeholders, sign recomputed by the receiver). Every fake must see the
// firing and then the resolved notification, hostile label values intact,
// and no contract violation.
func TestEndToEndDialects(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs a real Alertmanager")
	}
	const ammdsSecret = "e2e-ammds-secret"
	records := webhookfake.NewWebhook(t)
	hertzbeat := webhookfake.NewWebhook(t)
	larkOpts := larkfake.LarkOptions{Token: "e2e-lark-token", Secret: "e2e-lark-secret", Keyword: "API7"}
	lark := larkfake.NewLark(t, larkOpts)
	telegram := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{Token: "777:e2e-tg", ChatID: "-1001234567890"})
	ammds := newAMMDSFake(t, ammdsSecret)

	cfg := "global:\n  retry: {attempts: 5, interval: 50ms, max_interval: 200ms}\ntargets:\n" +
		"  - name: e2e-alertmanager\n    type: webhook\n    dialect: alertmanager\n    url: " + records.URL + "/records\n" +
		seedTarget(t, "e2e-hertzbeat", "webhook", "hertzbeat", hertzbeat.URL+"/api/alerts", "hertzbeat-webhook.json.tmpl") +
		seedTarget(t, "e2e-api7", "lark", "api7", lark.URL, "api7-lark.json.tmpl", "secret: "+larkOpts.Secret, "keyword: "+larkOpts.Keyword) +
		seedTarget(t, "e2e-coroot", "telegram", "coroot", telegram.URL, "coroot-telegram.json.tmpl", `chat_id: "-1001234567890"`) +
		seedTarget(t, "e2e-ammds", "webhook", "ammds", ammds.URL+"/notify", "ammds-webhook.json.tmpl",
			"secret: "+ammdsSecret, `headers: {X-Sign: "{{sign}}"}`)
	b := startBridge(t, cfg, "")
	am := amtest.Start(t, amtest.Options{WebhookURL: b.url + "/webhook"})

	summary := `disk "full" on C:\ {{ x }} 磁盘 🔥 <b>&amp;</b>`
	a := amtest.Alert{
		Labels:       hostileLabels,
		Annotations:  map[string]string{"summary": summary},
		GeneratorURL: "http://prometheus.example/graph?g0.expr=up+%3D%3D+0",
	}
	sinks := []struct {
		name string
		fake *notifytest.Fake
	}{
		{"alertmanager", records.Fake}, {"hertzbeat", hertzbeat.Fake}, {"api7", lark.Fake},
		{"coroot", telegram.Fake}, {"ammds", ammds},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := am.PostAlerts(ctx, a); err != nil {
		t.Fatal(err)
	}
	for _, s := range sinks {
		if got := s.fake.WaitFor(1, 30*time.Second); len(got) < 1 {
			t.Fatalf("%s: nothing received for the firing notification; violations %q", s.name, s.fake.Violations())
		}
	}
	if err := am.Resolve(ctx, a); err != nil {
		t.Fatal(err)
	}
	got := map[string][]notifytest.Received{}
	for _, s := range sinks {
		got[s.name] = s.fake.WaitFor(2, 30*time.Second)
		if v := s.fake.Violations(); len(v) > 0 {
			t.Errorf("%s: contract violations %q", s.name, v)
		}
		if len(got[s.name]) != 2 {
			t.Fatalf("%s: received %d requests, want firing then resolved", s.name, len(got[s.name]))
		}
	}
	statuses := []string{"firing", "resolved"}

	t.Run("alertmanager", func(t *testing.T) {
		for i, req := range got["alertmanager"] {
			var recs []hbRecord
			decodeJSONStrict(t, req.Body, &recs)
			if len(recs) != 1 || recs[0].Status != 2*i || !maps.Equal(recs[0].Tags, hostileLabels) || recs[0].Content != summary {
				t.Errorf("%s: records %+v; want one with status %d, the labels as tags and the summary as content", statuses[i], recs, 2*i)
			}
		}
	})
	t.Run("hertzbeat", func(t *testing.T) {
		var recs [2]hbRecord
		for i, req := range got["hertzbeat"] {
			decodeJSONStrict(t, req.Body, &recs[i])
			r := recs[i]
			if r.Status != 2*i || !maps.Equal(r.Tags, hostileLabels) || r.Content != summary || r.Target != "e2e/E2EHostile" || r.Priority != 0 {
				t.Errorf("%s: record %+v", statuses[i], r)
			}
		}
		if recs[0].ID != recs[1].ID || recs[1].Times <= recs[0].Times || recs[0].FirstTriggerTime != recs[1].FirstTriggerTime {
			t.Errorf("firing and resolved records are not the same alert counted twice: %+v / %+v", recs[0], recs[1])
		}
		if recs[1].LastTriggerTime < recs[1].FirstTriggerTime {
			t.Errorf("resolved record ends (%d) before it starts (%d)", recs[1].LastTriggerTime, recs[1].FirstTriggerTime)
		}
	})
	t.Run("api7", func(t *testing.T) {
		for i, want := range []string{"API7 EE Alarm: [FIRING:1] E2EHostile", "API7 EE Alarm: [RESOLVED] E2EHostile"} {
			var m struct {
				MsgType string `json:"msg_type"`
				Content struct {
					Text string `json:"text"`
				} `json:"content"`
			}
			decodeJSON(t, got["api7"][i].Body, &m)
			if m.MsgType != "text" || m.Content.Text != want {
				t.Errorf("%s: msg_type %q text %q, want text %q", statuses[i], m.MsgType, m.Content.Text, want)
			}
		}
	})
	t.Run("coroot", func(t *testing.T) {
		// The common job label names the application; critical is CRITICAL.
		for i, head := range []string{"🔴 ", "✅ "} {
			text := got["coroot"][i].Text
			wantAll(t, text, head, "e2e@", " / : "+summary)
			if i == 0 {
				wantAll(t, text, "CRITICAL: not meeting its objectives", "E2EHostile")
			} else {
				wantAll(t, text, "incident resolved")
			}
		}
	})
	t.Run("ammds", func(t *testing.T) {
		for i, req := range got["ammds"] {
			var m ammdsBody
			decodeJSON(t, req.Body, &m)
			if m.Type != statuses[i] || !strings.Contains(m.Message, summary) || !strings.HasPrefix(m.Message, "["+strings.ToUpper(statuses[i])+"] E2EHostile: ") {
				t.Errorf("%s: type %q, message %q", statuses[i], m.Type, m.Message)
			}
			if !strings.HasPrefix(m.SubTitle, "critical · ") {
				t.Errorf("%s: subTitle %q, want the severity first", statuses[i], m.SubTitle)
			}
			// The label with line breaks is one line in the message.
			if strings.Contains(m.Message, "\n") || !strings.Contains(m.Message, "newline=line1 line2 line3") {
				t.Errorf("%s: message is not one line per alert: %q", statuses[i], m.Message)
			}
		}
	})
}
