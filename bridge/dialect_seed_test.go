package bridge

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/dialect"
	dingtalkfake "github.com/alertbridge/alertbridge/bridge/notify/dingtalk/fake"
	discordfake "github.com/alertbridge/alertbridge/bridge/notify/discord/fake"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	mattermostfake "github.com/alertbridge/alertbridge/bridge/notify/mattermost/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	slackfake "github.com/alertbridge/alertbridge/bridge/notify/slack/fake"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
	wecomfake "github.com/alertbridge/alertbridge/bridge/notify/wecom/fake"
)

// The seed systems' own examples, shipped in examples/templates, rendered
// from Alertmanager-shaped payloads by a running bridge and delivered to
// the strict fake of the platform each example is written for. Every
// target reads its example through template_file, so what is tested is
// what users copy.

// seedFixture is one notification a seed example is rendered from, with
// what each dialect must make of it (written out here, from the documented
// mapping, rather than computed by the code under test).
type seedFixture struct {
	name    string
	payload []byte
	// alerts are the payload's alerts after decoding (fingerprints filled).
	alerts template.Alerts
	// title is Group.Title: "[FIRING:n] name" or "[RESOLVED] name".
	title string
	// api7Severity is API7's High, Medium or Low.
	api7Severity string
	// coroot is the Coroot view.
	coroot corootJSON
	// subTitle is the AMMDS {{subTitle}}.
	subTitle string
	// logo and image are the AMMDS {{logo}} and {{image}}.
	logo, image string

	// Set by runSeed: when the fixture was posted and when its last
	// request arrived.
	posted, done time.Time
}

// corootJSON is Coroot's incident data as the coroot dialect encodes it:
// the application as Coroot's id, "namespace:Kind:name".
type corootJSON struct {
	Status      string             `json:"status"`
	Application string             `json:"application"`
	Reports     []corootReportJSON `json:"reports"`
	URL         string             `json:"url"`
}

type corootReportJSON struct {
	Name    string `json:"name"`
	Check   string `json:"check"`
	Message string `json:"message"`
}

// alertsURLPrefix starts the link to a group in the fixtures'
// Alertmanager.
const alertsURLPrefix = "http://alertmanager.example:9093/#/alerts?"

// brandedPayload is a firing group whose alerts share a logo and an image
// annotation, for AMMDS's {{logo}} and {{image}}.
func brandedPayload() []byte {
	a := func(instance string) notifytest.Alert {
		return notifytest.Alert{
			Status: "firing",
			Labels: map[string]string{"alertname": "Backup\"Late\"", "severity": "critical", "instance": instance, "job": "backup"},
			Annotations: map[string]string{
				"summary":   "backup on " + instance + " is late: \\\\share\\x",
				"logo_url":  "https://img.example/logo.png?a=1&b=\"2\"",
				"image_url": "https://img.example/graph.png",
			},
			StartsAt:     "2026-11-23T10:00:00Z",
			EndsAt:       notifytest.ZeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=backup_age+%3E+86400",
		}
	}
	return notifytest.NewPayload("alertname", []notifytest.Alert{a("nas-1"), a("nas-2")})
}

// seedFixtures returns the mixed, hostile and resolved notifications (and,
// with branded, one whose alerts carry a logo and an image).
func seedFixtures(t *testing.T, branded bool) []*seedFixture {
	t.Helper()
	report := func(name, check, message string) corootReportJSON {
		return corootReportJSON{Name: name, Check: check, Message: message}
	}
	coroot := func(status, name string, url string, reports ...corootReportJSON) corootJSON {
		var c corootJSON
		c.Status, c.Application, c.URL, c.Reports = status, "::"+name, url, reports
		return c
	}
	fxs := []*seedFixture{
		{
			name: "mixed", payload: notifytest.MixedPayload(),
			title: "[FIRING:2] DiskFull", api7Severity: "Medium", subTitle: "2 firing, 2 resolved",
			// No common job: the application is the group's name.
			coroot: coroot("WARNING", "DiskFull", alertsURLPrefix,
				report("DiskFull", "db-1:9100", "Disk /var on db-1 at 91%"),
				report("DiskFull", "db-2:9100", "resolved: disk freed on db-2"),
				report("DiskFull", "db-3:9100", "DiskFull"),
				report("DiskFull", "db-4:9100", "resolved: db-4 recovered")),
		},
		{
			name: "hostile", payload: notifytest.HostilePayload(),
			// severity "critical\n" is trimmed: critical.
			title: "[FIRING:1] " + notifytest.HostileName, api7Severity: "High", subTitle: "critical · 1 firing, 1 resolved",
			coroot: coroot("CRITICAL", `a"b\c`, alertsURLPrefix,
				report(notifytest.HostileName, `{{ template "x" }}:9100`, notifytest.HostileSummary),
				report(notifytest.HostileName, "\u200b\ufeff:9100", "resolved: second \x1f \u0085 \U0001F4A9")),
		},
		{
			name: "resolved", payload: notifytest.ReadExample(t, "payload-resolved.json"),
			title: "[RESOLVED] HighCPU", api7Severity: "High", subTitle: "critical · 0 firing, 2 resolved",
			coroot: coroot("OK", "node", alertsURLPrefix,
				report("HighCPU", "web-1:9100", "CPU on web-1 above 95% for 10m"),
				report("HighCPU", "web-2:9100", "CPU on web-2 above 95% for 10m")),
		},
	}
	if branded {
		fxs = append(fxs, &seedFixture{
			name: "branded", payload: brandedPayload(),
			title: `[FIRING:2] Backup"Late"`, api7Severity: "High", subTitle: "critical · 2 firing, 0 resolved",
			coroot: coroot("CRITICAL", "backup", alertsURLPrefix,
				report(`Backup"Late"`, "nas-1", `backup on nas-1 is late: \\share\x`),
				report(`Backup"Late"`, "nas-2", `backup on nas-2 is late: \\share\x`)),
			logo: "https://img.example/logo.png?a=1&b=\"2\"", image: "https://img.example/graph.png",
		})
	}
	for _, fx := range fxs {
		m, err := alert.Decode(bytes.NewReader(fx.payload))
		if err != nil {
			t.Fatalf("%s: %v", fx.name, err)
		}
		fx.alerts = m.Alerts
	}
	return fxs
}

// seedCase is one seed example: the fake it is written for, the target
// that sends it, and what the fake must have received for each fixture.
type seedCase struct {
	name string
	// branded adds the fixture with a logo and an image.
	branded bool
	// start starts the fake and returns it with the target, a YAML list
	// item.
	start func(t *testing.T) (*notifytest.Fake, string)
	// count is how many requests a fixture makes.
	count func(fx *seedFixture) int
	// check asserts on the requests one fixture made, in arrival order.
	check func(t *testing.T, fx *seedFixture, got []notifytest.Received)
}

func onePerGroup(*seedFixture) int    { return 1 }
func onePerAlert(fx *seedFixture) int { return len(fx.alerts) }

// exampleTemplate is the absolute path of a file of examples/templates.
func exampleTemplate(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "examples", "templates", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

// seedTarget is a target list item for a seed example: type, dialect,
// url, the example as template_file, and further keys (YAML lines, each
// indented by four spaces in the result).
func seedTarget(t *testing.T, name, typ, dialect, url, file string, keys ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  - name: %s\n    type: %s\n    dialect: %s\n    url: %q\n    template_file: %q\n", name, typ, dialect, url, exampleTemplate(t, file))
	for _, k := range keys {
		b.WriteString("    " + k + "\n")
	}
	return b.String()
}

const seedGlobal = "global:\n  retry: {attempts: 3, interval: 50ms, max_interval: 200ms}\ntargets:\n"

// runSeed starts c's fake and a bridge with c's target, posts every
// fixture in turn, waits for its requests and checks them.
func runSeed(t *testing.T, c seedCase) {
	fake, target := c.start(t)
	b := startBridge(t, seedGlobal+target, "")
	total := 0
	for _, fx := range seedFixtures(t, c.branded) {
		fx.posted = time.Now()
		status, answer := b.post(t, "/webhook", fx.payload)
		if status != http.StatusOK {
			t.Fatalf("%s: POST /webhook answered %d %v", fx.name, status, answer)
		}
		n := c.count(fx)
		total += n
		got := fake.WaitFor(total, 20*time.Second)
		fx.done = time.Now()
		if len(got) < total {
			t.Fatalf("%s: %d requests arrived, want %d; violations %q", fx.name, len(got), total, fake.Violations())
		}
		t.Run(fx.name, func(t *testing.T) { c.check(t, fx, got[total-n:total]) })
	}
	if v := fake.Violations(); len(v) > 0 {
		t.Errorf("contract violations: %q", v)
	}
	if got := fake.Received(); len(got) != total {
		t.Errorf("%d requests received, want %d", len(got), total)
	}
}

func TestSeedExamples(t *testing.T) {
	for _, c := range seedCases() {
		t.Run(c.name, func(t *testing.T) {
			// Each case has its own fake and bridge; the chat types' pacing
			// makes some take seconds.
			t.Parallel()
			runSeed(t, c)
		})
	}
}

func seedCases() []seedCase {
	return []seedCase{
		{
			// API7's own Lark text template, unchanged, to a signed bot
			// with the keyword API7.
			name: "api7-lark",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				opts := larkfake.LarkOptions{Token: "seed-lark-token", Secret: "seed-lark-secret", Keyword: "API7"}
				f := larkfake.NewLark(t, opts)
				return f.Fake, seedTarget(t, "api7-lark", "lark", "api7", f.URL, "api7-lark.json.tmpl",
					"secret: "+opts.Secret, "keyword: "+opts.Keyword)
			},
			count: onePerGroup,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				var m struct {
					MsgType string `json:"msg_type"`
					Content struct {
						Text string `json:"text"`
					} `json:"content"`
				}
				decodeJSON(t, got[0].Body, &m)
				if want := "API7 EE Alarm: " + fx.title; m.MsgType != "text" || m.Content.Text != want {
					t.Errorf("msg_type %q, text %q; want text %q", m.MsgType, m.Content.Text, want)
				}
			},
		},
		{
			name: "api7-dingtalk",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				opts := dingtalkfake.DingTalkOptions{Token: "seed-dt-token", Secret: "SECseed0123456789", Keyword: "API7"}
				f := dingtalkfake.NewDingTalk(t, opts)
				return f.Fake, seedTarget(t, "api7-dingtalk", "dingtalk", "api7", f.URL, "api7-dingtalk.json.tmpl",
					"secret: "+opts.Secret, "keyword: "+opts.Keyword)
			},
			count: onePerGroup,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				text := got[0].Text
				wantAll(t, text, "API7 EE alert · "+fx.api7Severity, fx.title)
				for _, a := range fx.alerts {
					wantAll(t, text, alert.DetailLine(a))
				}
			},
		},
		{
			name: "api7-wecom",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := wecomfake.NewWeCom(t, "seed-wecom-key")
				return f.Fake, seedTarget(t, "api7-wecom", "wecom", "api7", f.URL, "api7-wecom.json.tmpl")
			},
			count: onePerGroup,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				text := got[0].Text
				wantAll(t, text, "API7 EE alert: "+fx.title, "Severity: "+fx.api7Severity)
				for _, a := range fx.alerts {
					wantAll(t, text, alert.DetailLine(a))
				}
			},
		},
		{
			// Coroot's plain text template, sent as text/plain by a
			// webhook target.
			name: "coroot-plain",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := webhookfake.NewTextWebhook(t)
				return f.Fake, seedTarget(t, "coroot-plain", "webhook", "coroot", f.URL+"/incidents", "coroot-plain.txt.tmpl",
					"headers: {Content-Type: text/plain; charset=utf-8}")
			},
			count: onePerGroup,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				text := got[0].Text
				c := fx.coroot
				name := strings.TrimPrefix(c.Application, "::") // no namespace or kind in these fixtures
				head := c.Status + ": " + name + "@ is not meeting its objectives"
				if c.Status == "OK" {
					head = name + "@: incident resolved"
				}
				if !strings.HasPrefix(text, head+"\n") {
					t.Errorf("text does not start with %q:\n%s", head, text)
				}
				for _, r := range c.Reports {
					wantAll(t, text, "\n- "+r.Name+" / "+r.Check+": "+r.Message+"\n")
				}
				wantAll(t, text, "\n"+alertsURLPrefix)
			},
		},
		{
			name: "coroot-json",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := webhookfake.NewWebhook(t)
				return f.Fake, seedTarget(t, "coroot-json", "webhook", "coroot", f.URL+"/incidents", "coroot-json.json.tmpl")
			},
			count: onePerGroup,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				var c corootJSON
				decodeJSONStrict(t, got[0].Body, &c)
				want := fx.coroot
				if !strings.HasPrefix(c.URL, want.URL) {
					t.Errorf("url %q, want a link starting %q", c.URL, want.URL)
				}
				c.URL, want.URL = "", ""
				if diff := compareJSON(c, want); diff != "" {
					t.Errorf("coroot data:\n%s", diff)
				}
			},
		},
		{
			name: "coroot-telegram",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				// The chat the example's body names.
				f := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{Token: "424242:seed-tg", ChatID: "-1001234567890"})
				return f.Fake, seedTarget(t, "coroot-telegram", "telegram", "coroot", f.URL, "coroot-telegram.json.tmpl",
					`chat_id: "-1001234567890"`)
			},
			count: onePerGroup,
			check: corootChatCheck(func(s string) string {
				// html writes NUL as U+FFFD.
				return strings.ReplaceAll(s, "\x00", "\uFFFD")
			}),
		},
		{
			// Coroot's published sample, parse_mode Markdown, values
			// printed raw: the bridge escapes them for the mode.
			name: "coroot-telegram-markdown",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := telegramfake.NewTelegram(t, telegramfake.TelegramOptions{Token: "424242:seed-tg", ChatID: "-123456789"})
				return f.Fake, seedTarget(t, "coroot-telegram-markdown", "telegram", "coroot", f.URL, "coroot-telegram-markdown.json.tmpl",
					`chat_id: "-123456789"`)
			},
			count: onePerGroup,
			check: corootChatCheck(func(s string) string {
				// In the link's text a ] cannot be escaped.
				return strings.ReplaceAll(s, "]", "］")
			}),
		},
		{
			name: "coroot-mattermost",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := mattermostfake.NewMattermost(t, mattermostfake.MattermostOptions{Key: "seedmattermostkey0123"})
				return f.Fake, seedTarget(t, "coroot-mattermost", "mattermost", "coroot", f.URL, "coroot-mattermost.json.tmpl")
			},
			count: onePerGroup,
			check: corootChatCheck(nil),
		},
		{
			name: "coroot-discord",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := discordfake.NewDiscord(t, discordfake.DiscordOptions{ID: "323456789012345678", Token: "seed-discord-token"})
				return f.Fake, seedTarget(t, "coroot-discord", "discord", "coroot", f.URL, "coroot-discord.json.tmpl")
			},
			count: onePerGroup,
			check: corootChatCheck(nil),
		},
		{
			name: "coroot-slack",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := slackfake.NewSlack(t, slackfake.SlackOptions{Path: "/services/TSEED/BSEED/seed-slack-token", Burst: 4})
				return f.Fake, seedTarget(t, "coroot-slack", "slack", "coroot", f.URL, "coroot-slack.json.tmpl")
			},
			count: onePerGroup,
			check: corootChatCheck(nil),
		},
		{
			// HertzBeat's record, one request per alert, every field
			// checked against the alert it came from.
			name: "hertzbeat-webhook",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				f := webhookfake.NewWebhook(t)
				return f.Fake, seedTarget(t, "hertzbeat-webhook", "webhook", "hertzbeat", f.URL+"/api/alerts", "hertzbeat-webhook.json.tmpl")
			},
			count: onePerAlert,
			check: checkHertzBeatRecords,
		},
		{
			name: "hertzbeat-dingtalk",
			start: func(t *testing.T) (*notifytest.Fake, string) {
				opts := dingtalkfake.DingTalkOptions{Token: "seed-hb-dt-token", Secret: "SEChertzbeat0123456789", Keyword: "alert"}
				f := dingtalkfake.NewDingTalk(t, opts)
				// DingTalk's own limit, 20 a minute, with room for the
				// eight messages at once.
				return f.Fake, seedTarget(t, "hertzbeat-dingtalk", "dingtalk", "hertzbeat", f.URL, "hertzbeat-dingtalk.json.tmpl",
					"secret: "+opts.Secret, "keyword: "+opts.Keyword, "rate_limit: {requests: 20, interval: 1m, burst: 10}")
			},
			count: onePerAlert,
			check: func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
				// Firing alerts first, then resolved ones, each once.
				want := slices.Clone(fx.alerts)
				slices.SortStableFunc(want, func(a, b template.Alert) int {
					return boolInt(a.Status != "firing") - boolInt(b.Status != "firing")
				})
				for i, a := range want {
					status := "FIRING"
					if a.Status == "resolved" {
						status = "RESOLVED"
					}
					text := got[i].Text
					wantAll(t, text, "[HertzBeat alert] "+status+" · priority ", "Target: "+hbTarget(a)+"\n", "Content: "+hbContent(a)+"\n")
					for _, k := range slices.Sorted(maps.Keys(a.Labels)) {
						wantAll(t, text, "\n  "+k+" = "+a.Labels[k])
					}
				}
			},
		},
		{
			// AMMDS's body with all eight placeholders; the fake
			// recomputes {{sign}} from the received time and message.
			name:    "ammds-webhook",
			branded: true,
			start: func(t *testing.T) (*notifytest.Fake, string) {
				const secret = "seed-ammds-secret"
				f := newAMMDSFake(t, secret)
				return f, seedTarget(t, "ammds", "webhook", "ammds", f.URL+"/notify", "ammds-webhook.json.tmpl",
					"secret: "+secret, `headers: {X-Sign: "{{sign}}", X-Title: "{{ title }}"}`,
					`verify: {status: [200], body_contains: '"code":0'}`)
			},
			count: onePerGroup,
			check: checkAMMDS,
		},
	}
}

// corootChatCheck checks a Coroot incident message as the reader sees it:
// the status, the application and every report, values intact. visible
// maps a value to how the platform's escaper lets the reader see it (nil:
// unchanged).
func corootChatCheck(visible func(string) string) func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
	if visible == nil {
		visible = func(s string) string { return s }
	}
	return func(t *testing.T, fx *seedFixture, got []notifytest.Received) {
		text := got[0].Text
		c := fx.coroot
		if c.Status == "OK" {
			wantAll(t, text, "incident resolved")
		} else {
			wantAll(t, text, c.Status)
		}
		wantAll(t, text, visible(strings.TrimPrefix(c.Application, "::"))+"@")
		for _, r := range c.Reports {
			// The name may be set in bold: check it apart.
			wantAll(t, text, visible(r.Name), " / "+visible(r.Check)+": "+visible(r.Message))
		}
	}
}

// hbRecordKeys are the fields of HertzBeat's record, all required.
var hbRecordKeys = []string{
	"alertDefineId", "content", "firstTriggerTime", "gmtCreate", "gmtUpdate", "id", "lastTriggerTime",
	"nextEvalInterval", "priority", "status", "tags", "target", "times",
}

type hbRecord struct {
	ID               int64             `json:"id"`
	Target           string            `json:"target"`
	AlertDefineID    int64             `json:"alertDefineId"`
	Priority         int               `json:"priority"`
	Content          string            `json:"content"`
	Status           int               `json:"status"`
	Times            int64             `json:"times"`
	FirstTriggerTime int64             `json:"firstTriggerTime"`
	LastTriggerTime  int64             `json:"lastTriggerTime"`
	NextEvalInterval int64             `json:"nextEvalInterval"`
	Tags             map[string]string `json:"tags"`
	GmtCreate        string            `json:"gmtCreate"`
	GmtUpdate        string            `json:"gmtUpdate"`
}

const hbLayout = "2006-01-02T15:04:05"

// checkHertzBeatRecords decodes one record per request and checks every
// field against the alert with its id, each alert exactly once.
func checkHertzBeatRecords(t *testing.T, fx *seedFixture, got []notifytest.Received) {
	byID := map[int64]template.Alert{}
	for _, a := range fx.alerts {
		byID[alert.RecordID(a)] = a
	}
	seen := map[int64]bool{}
	from, to := fx.posted.Truncate(time.Second), fx.done
	for _, req := range got {
		var keys map[string]json.RawMessage
		decodeJSON(t, req.Body, &keys)
		if k := slices.Sorted(maps.Keys(keys)); !slices.Equal(k, hbRecordKeys) {
			t.Errorf("record fields %q, want %q", k, hbRecordKeys)
		}
		var r hbRecord
		decodeJSONStrict(t, req.Body, &r)
		a, ok := byID[r.ID]
		if !ok || seen[r.ID] {
			t.Errorf("record id %d: not an alert of the notification, or sent twice", r.ID)
			continue
		}
		seen[r.ID] = true
		name := a.Labels["alertname"]
		errorf := func(format string, args ...any) {
			t.Errorf("%s %s: "+format, append([]any{name, a.Labels["instance"]}, args...)...)
		}
		if r.Target != hbTarget(a) {
			errorf("target %q, want %q", r.Target, hbTarget(a))
		}
		if r.AlertDefineID != alert.RuleID(a) || r.AlertDefineID <= 0 {
			errorf("alertDefineId %d, want %d", r.AlertDefineID, alert.RuleID(a))
		}
		if want := hbPriority(a.Labels["severity"]); r.Priority != want {
			errorf("priority %d, want %d (severity %q)", r.Priority, want, a.Labels["severity"])
		}
		if r.Content != hbContent(a) {
			errorf("content %q, want %q", r.Content, hbContent(a))
		}
		wantStatus := 0
		if a.Status == "resolved" {
			wantStatus = 2
		}
		if r.Status != wantStatus {
			errorf("status %d, want %d", r.Status, wantStatus)
		}
		if r.Times < 1 {
			errorf("times %d, want at least 1", r.Times)
		}
		if !maps.Equal(r.Tags, map[string]string(a.Labels)) {
			errorf("tags %q, want the labels %q", r.Tags, a.Labels)
		}
		if r.NextEvalInterval != 0 {
			errorf("nextEvalInterval %d, want 0", r.NextEvalInterval)
		}
		created, err1 := time.ParseInLocation(hbLayout, r.GmtCreate, time.UTC)
		updated, err2 := time.ParseInLocation(hbLayout, r.GmtUpdate, time.UTC)
		switch {
		case err1 != nil || err2 != nil:
			errorf("gmtCreate %q, gmtUpdate %q: not %s", r.GmtCreate, r.GmtUpdate, hbLayout)
		case updated.Before(from) || updated.After(to):
			errorf("gmtUpdate %s outside the delivery window %s..%s", updated, from, to)
		case created.After(updated) || created.Before(from):
			// Each alert is new to this bridge: first seen now.
			errorf("gmtCreate %s, want the first sight, %s..%s", created, from, updated)
		}
		switch {
		case !a.StartsAt.IsZero() && r.FirstTriggerTime != a.StartsAt.UnixMilli():
			errorf("firstTriggerTime %d, want startsAt %d", r.FirstTriggerTime, a.StartsAt.UnixMilli())
		case a.StartsAt.IsZero() && (r.FirstTriggerTime < from.UnixMilli() || r.FirstTriggerTime > to.UnixMilli()):
			errorf("firstTriggerTime %d without startsAt, want the first sight", r.FirstTriggerTime)
		}
		switch {
		case a.Status == "resolved" && !a.EndsAt.IsZero():
			if r.LastTriggerTime != a.EndsAt.UnixMilli() {
				errorf("lastTriggerTime %d, want endsAt %d", r.LastTriggerTime, a.EndsAt.UnixMilli())
			}
		case r.LastTriggerTime < fx.posted.UnixMilli() || r.LastTriggerTime > to.UnixMilli():
			errorf("lastTriggerTime %d, want the notification's time", r.LastTriggerTime)
		}
	}
	if len(seen) != len(fx.alerts) {
		t.Errorf("%d distinct records for %d alerts", len(seen), len(fx.alerts))
	}
}

// hbTarget is the record's target: job/alertname, or the alertname alone.
func hbTarget(a template.Alert) string {
	if job := a.Labels["job"]; job != "" {
		return job + "/" + a.Labels["alertname"]
	}
	return a.Labels["alertname"]
}

// hbContent is the record's content: the first non-blank of the summary,
// description and message annotations, else the alertname.
func hbContent(a template.Alert) string {
	for _, k := range []string{"summary", "description", "message"} {
		if v := strings.TrimSpace(a.Annotations[k]); v != "" {
			return v
		}
	}
	return a.Labels["alertname"]
}

// hbPriority is the default severity mapping, blanks around the value
// ignored: 0 high, 1 medium, 2 low.
func hbPriority(severity string) int {
	switch strings.ToLower(strings.TrimSpace(severity)) {
	case "critical", "emergency", "high", "page":
		return 0
	case "error", "major", "medium":
		return 1
	}
	return 2
}

// ammdsKeys are the fields of the AMMDS example body.
var ammdsKeys = []string{"image", "logo", "message", "sign", "subTitle", "time", "title", "type"}

type ammdsBody struct {
	Type, Title, SubTitle, Message, Time, Logo, Image, Sign string
}

// newAMMDSFake starts a receiver of the AMMDS example body: POST, JSON
// with the eight string fields, and "sign" equal to
// base64(HMAC-SHA256(secret, time + "\n" + message)) recomputed from the
// received fields, also in the X-Sign header; a mismatch is answered 401.
// Standard Webhooks headers are a violation: the dialect owns the
// secret. Accepted requests are answered {"code":0}.
func newAMMDSFake(t testing.TB, secret string) *notifytest.Fake {
	check := func(r *http.Request, body []byte, _ time.Time) (string, string, *notifytest.Reply) {
		unauthorized := &notifytest.Reply{Status: http.StatusUnauthorized, Body: `{"code":401,"msg":"bad sign"}`}
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method, nil
		case r.Header.Get("Content-Type") != "application/json":
			return "", "Content-Type " + r.Header.Get("Content-Type"), nil
		case r.Header.Get("webhook-signature") != "" || r.Header.Get("webhook-id") != "":
			return "", "Standard Webhooks headers on a target whose secret keys {{sign}}", nil
		}
		var fields map[string]any
		if err := json.Unmarshal(body, &fields); err != nil {
			return "", "invalid JSON: " + err.Error(), nil
		}
		for _, k := range ammdsKeys {
			if _, ok := fields[k].(string); !ok {
				return "", "field " + k + " missing or not a string", nil
			}
		}
		if len(fields) != len(ammdsKeys) {
			return "", fmt.Sprintf("%d fields, want %d", len(fields), len(ammdsKeys)), nil
		}
		var b ammdsBody
		_ = json.Unmarshal(body, &b)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(b.Time + "\n" + b.Message))
		want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
		if !hmac.Equal([]byte(b.Sign), []byte(want)) {
			return "", "sign " + b.Sign + " does not match the time and message", unauthorized
		}
		if h := r.Header.Get("X-Sign"); h != b.Sign {
			return "", "X-Sign header " + h + " is not the body's sign", unauthorized
		}
		return "", "", nil
	}
	return notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Body: `{"code":0,"msg":"ok"}`}, nil)
}

func checkAMMDS(t *testing.T, fx *seedFixture, got []notifytest.Received) {
	var b ammdsBody
	decodeJSON(t, got[0].Body, &b)
	firing := 0
	for _, a := range fx.alerts {
		if a.Status == "firing" {
			firing++
		}
	}
	wantType := "resolved"
	if firing > 0 {
		wantType = "firing"
	}
	oneLine := strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ")
	if b.Type != wantType || b.Title != oneLine.Replace(fx.title) || b.SubTitle != fx.subTitle {
		t.Errorf("type %q, title %q, subTitle %q; want %q, %q, %q", b.Type, b.Title, b.SubTitle, wantType, oneLine.Replace(fx.title), fx.subTitle)
	}
	if b.Logo != fx.logo || b.Image != fx.image {
		t.Errorf("logo %q, image %q; want %q, %q", b.Logo, b.Image, fx.logo, fx.image)
	}
	lines := strings.Split(b.Message, "\n")
	if len(lines) != len(fx.alerts) {
		t.Fatalf("message has %d lines for %d alerts:\n%s", len(lines), len(fx.alerts), b.Message)
	}
	for i, a := range fx.alerts {
		prefix := "[FIRING] "
		if a.Status == "resolved" {
			prefix = "[RESOLVED] "
		}
		prefix += oneLine.Replace(a.Labels["alertname"])
		if !strings.HasPrefix(lines[i], prefix) {
			t.Errorf("message line %d %q does not start with %q", i+1, lines[i], prefix)
		}
		if s := strings.TrimSpace(a.Annotations["summary"]); s != "" && !strings.Contains(lines[i], oneLine.Replace(s)) {
			t.Errorf("message line %d %q lacks the summary %q", i+1, lines[i], s)
		}
	}
	at, err := time.ParseInLocation(dialect.TimeLayout, b.Time, time.UTC)
	if err != nil || at.Before(fx.posted.Truncate(time.Second)) || at.After(fx.done) {
		t.Errorf("time %q (%v): want the notification's time in UTC, %s..%s", b.Time, err, fx.posted, fx.done)
	}
	// A header value cannot hold control characters: they arrive as
	// spaces (tabs are allowed).
	wantHeader := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r != '\t' && unicode.IsControl(r) {
			return ' '
		}
		return r
	}, b.Title))
	if h := got[0].Header.Get("X-Title"); h != wantHeader {
		t.Errorf("X-Title header %q, want the title %q", h, wantHeader)
	}
}

// TestSeedAMMDSFakeRefusesBadSign: the AMMDS fake the seed tests rely on
// refuses a sign that does not match, and a correct sign in the body with
// another in the header.
func TestSeedAMMDSFakeRefusesBadSign(t *testing.T) {
	const secret = "s3cret"
	f := newAMMDSFake(t, secret)
	body := func(sign string) []byte {
		b, _ := json.Marshal(map[string]string{"type": "firing", "title": "t", "subTitle": "s", "message": "m", "time": "2026-11-23 10:05:00", "logo": "", "image": "", "sign": sign})
		return b
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte("2026-11-23 10:05:00\nm"))
	good := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	for _, c := range []struct {
		sign, header string
		want         int
	}{
		{good, good, http.StatusOK},
		{"AAAA" + good[4:], "AAAA" + good[4:], http.StatusUnauthorized},
		{good, "", http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodPost, f.URL, bytes.NewReader(body(c.sign)))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Sign", c.header)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("sign %q, header %q: answered %d, want %d", c.sign, c.header, resp.StatusCode, c.want)
		}
	}
	if n := len(f.Violations()); n != 2 {
		t.Errorf("%d violations recorded, want 2: %q", n, f.Violations())
	}
}

// TestSeedTextWebhookIsStrict: the text fake refuses JSON, other
// charsets, invalid UTF-8 and blank bodies.
func TestSeedTextWebhookIsStrict(t *testing.T) {
	f := webhookfake.NewTextWebhook(t)
	for _, c := range []struct {
		method, ct string
		body       string
		want       int
	}{
		{http.MethodPost, "text/plain; charset=utf-8", "ok 告警", http.StatusOK},
		{http.MethodPost, "text/plain", "plain", http.StatusOK},
		{http.MethodPut, "text/plain", "x", http.StatusBadRequest},
		{http.MethodPost, "application/json", `"x"`, http.StatusBadRequest},
		{http.MethodPost, "text/plain; charset=iso-8859-1", "x", http.StatusBadRequest},
		{http.MethodPost, "text/plain", "\xff\xfe", http.StatusBadRequest},
		{http.MethodPost, "text/plain", " \n ", http.StatusBadRequest},
	} {
		req, _ := http.NewRequest(c.method, f.URL, strings.NewReader(c.body))
		req.Header.Set("Content-Type", c.ct)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s %s %q: answered %d, want %d", c.method, c.ct, c.body, resp.StatusCode, c.want)
		}
	}
	if got := f.Received(); len(got) != 2 || got[0].Text != "ok 告警" {
		t.Errorf("received %q", got)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wantAll reports each want that text does not contain.
func wantAll(t *testing.T, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Errorf("the message does not show %q intact:\n%q", w, text)
		}
	}
}

func decodeJSON(t *testing.T, body []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// decodeJSONStrict decodes body into v, refusing fields v lacks.
func decodeJSONStrict(t *testing.T, body []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
}

// compareJSON describes how got and want differ, as indented JSON.
func compareJSON(got, want any) string {
	g, _ := json.MarshalIndent(got, "", "  ")
	w, _ := json.MarshalIndent(want, "", "  ")
	if bytes.Equal(g, w) {
		return ""
	}
	return "got:\n" + string(g) + "\nwant:\n" + string(w)
}

// TestSeedExamplesCoverEveryTemplate: every example template but the
// generic example.tmpl has a seed case of its name, so no shipped example
// goes untested.
func TestSeedExamplesCoverEveryTemplate(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "examples", "templates", "*.tmpl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no example templates (%v)", err)
	}
	cases := map[string]bool{}
	for _, c := range seedCases() {
		cases[c.name] = true
	}
	for _, f := range files {
		base := filepath.Base(f)
		if base == "example.tmpl" {
			continue
		}
		name, _, _ := strings.Cut(base, ".")
		if !cases[name] {
			t.Errorf("%s has no seed case %q", base, name)
		}
	}
}
