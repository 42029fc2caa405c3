package bridge

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/chat"
	dingtalkfake "github.com/alertbridge/alertbridge/bridge/notify/dingtalk/fake"
	discordfake "github.com/alertbridge/alertbridge/bridge/notify/discord/fake"
	googlechatfake "github.com/alertbridge/alertbridge/bridge/notify/googlechat/fake"
	larkfake "github.com/alertbridge/alertbridge/bridge/notify/lark/fake"
	mattermostfake "github.com/alertbridge/alertbridge/bridge/notify/mattermost/fake"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	rocketchatfake "github.com/alertbridge/alertbridge/bridge/notify/rocketchat/fake"
	slackfake "github.com/alertbridge/alertbridge/bridge/notify/slack/fake"
	teamsfake "github.com/alertbridge/alertbridge/bridge/notify/teams/fake"
	telegramfake "github.com/alertbridge/alertbridge/bridge/notify/telegram/fake"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
	wecomfake "github.com/alertbridge/alertbridge/bridge/notify/wecom/fake"
)

// conformanceCase is what the shared suite needs to know about one target
// type (notifytest.Conformance). Each type's case is in its fake package,
// bridge/notify/<type>/fake/conformance.go.
type conformanceCase struct {
	typ, mode                         string
	start                             func(t testing.TB) (*notifytest.Fake, string)
	secrets                           []string
	retryable, permanent, rateLimited notifytest.Reply
	rateLimitWait                     time.Duration
	chat                              bool
}

// conformanceCases holds each type's default case under its name, and
// its other modes' under "<type>/<mode>".
var conformanceCases = map[string]conformanceCase{}

func registerConformance(c notifytest.Conformance) {
	key := c.Type
	if c.Mode != "" {
		key += "/" + c.Mode
	}
	conformanceCases[key] = conformanceCase{
		typ: c.Type, mode: c.Mode, start: c.Start, secrets: c.Secrets,
		retryable: c.Retryable, permanent: c.Permanent, rateLimited: c.RateLimited,
		rateLimitWait: c.RateLimitWait, chat: c.Chat,
	}
}

func init() {
	for _, c := range []notifytest.Conformance{
		dingtalkfake.Conformance(),
		discordfake.Conformance(),
		googlechatfake.Conformance(),
		larkfake.Conformance(),
		larkfake.AppConformance(),
		mattermostfake.Conformance(),
		mattermostfake.APIConformance(),
		rocketchatfake.Conformance(),
		rocketchatfake.APIConformance(),
		slackfake.Conformance(),
		slackfake.APIConformance(),
		teamsfake.Conformance(),
		telegramfake.Conformance(),
		webhookfake.Conformance(),
		wecomfake.Conformance(),
	} {
		registerConformance(c)
	}
}

// conformanceModes returns the cases of type typ: its default one first,
// then its other modes', by name; the name of each subtest.
func conformanceModes(typ string) (names []string, cases []conformanceCase) {
	if c, ok := conformanceCases[typ]; ok {
		names, cases = append(names, typ), append(cases, c)
	}
	var modes []string
	for key, c := range conformanceCases {
		if c.typ == typ && c.mode != "" {
			modes = append(modes, key)
		}
	}
	slices.Sort(modes)
	for _, key := range modes {
		names, cases = append(names, key), append(cases, conformanceCases[key])
	}
	return names, cases
}

func TestEveryTypeHasAConformanceCase(t *testing.T) {
	for _, typ := range registry.Types() {
		if _, ok := conformanceCases[typ]; !ok {
			t.Errorf("type %s has no conformance case (add bridge/notify/%s/fake/conformance.go and list it in conformance_test.go)", typ, typ)
		}
	}
}

// conformanceTarget builds the runtime of a one-target configuration and
// returns what an attempt needs.
func conformanceTarget(t testing.TB, c conformanceCase, keys string) *targetRuntime {
	t.Helper()
	yml := fmt.Sprintf("global:\n  external_url: http://alertmanager.example:9093\ntargets:\n  - name: conf\n    type: %s\n%s\n", c.typ, keys)
	cfg, err := config.Parse([]byte(yml), t.TempDir())
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yml, err)
	}
	rt, err := buildRuntime(cfg, "alertbridge-conformance", time.Now)
	if err != nil {
		t.Fatalf("runtime: %v", err)
	}
	t.Cleanup(rt.close)
	return rt.targets["conf"]
}

func conformanceDeliver(t *testing.T, tr *targetRuntime, payload []byte) notify.Result {
	t.Helper()
	g := notifytest.BuildGroup(t, payload)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return (&notify.Sender{UserAgent: "alertbridge-conformance"}).Deliver(ctx, tr.client, tr.notifier, g, notify.Attempt{Timeout: 10 * time.Second})
}

var moreLine = regexp.MustCompile(`\+(\d+) more`)

func TestConformance(t *testing.T) {
	for _, typ := range registry.Types() {
		names, cases := conformanceModes(typ)
		for i, c := range cases {
			t.Run(names[i], func(t *testing.T) { conformance(t, c) })
		}
	}
}

// conformance runs the suite against one case.
func conformance(t *testing.T, c conformanceCase) {
	t.Run("hostile", func(t *testing.T) {
		fake, keys := c.start(t)
		r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.HostilePayload())
		if r.Verdict != notify.Delivered {
			t.Fatalf("result %+v", r)
		}
		got := fake.Received()
		if len(got) == 0 || len(fake.Violations()) > 0 {
			t.Fatalf("received %d, violations %q", len(got), fake.Violations())
		}
		if !c.chat {
			return
		}
		var text strings.Builder
		for _, m := range got {
			text.WriteString(m.Text)
		}
		want := `He said "hi" \o/ {{ template "x" . }} {{ .CommonLabels }} 😀 中文`
		if !strings.Contains(text.String(), want) {
			t.Errorf("the reader does not see the summary %q intact in:\n%s", want, text.String())
		}
		if !strings.Contains(text.String(), "FIRING") {
			t.Errorf("a firing notification does not say FIRING:\n%s", text.String())
		}
	})
	t.Run("resolved", func(t *testing.T) {
		fake, keys := c.start(t)
		r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.ReadExample(t, "payload-resolved.json"))
		if r.Verdict != notify.Delivered || len(fake.Violations()) > 0 {
			t.Fatalf("result %+v, violations %q", r, fake.Violations())
		}
		if got := fake.Received(); c.chat && (len(got) != 1 || !strings.Contains(got[0].Text, "RESOLVED")) {
			t.Errorf("resolved notification: %d messages, text %q", len(got), got)
		}
	})
	if c.chat {
		t.Run("storm", func(t *testing.T) {
			fake, keys := c.start(t)
			const n = 300
			r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.StormPayload(n))
			if r.Verdict != notify.Delivered || len(fake.Violations()) > 0 {
				t.Fatalf("result %+v, violations %q", r, fake.Violations())
			}
			got := fake.Received()
			if len(got) < 2 || len(got) > chat.DefaultMaxMessages || r.Sent != len(got) {
				t.Fatalf("%d messages (Sent %d), want 2..%d", len(got), r.Sent, chat.DefaultMaxMessages)
			}
			shown := map[int]int{}
			for _, m := range got {
				for i := range n {
					if strings.Contains(m.Text, notifytest.StormInstance(i)) {
						shown[i]++
					}
				}
			}
			for i, k := range shown {
				if k != 1 {
					t.Errorf("alert %d shown in %d messages", i, k)
				}
			}
			last := got[len(got)-1].Text
			m := moreLine.FindStringSubmatch(last)
			if m == nil {
				t.Fatalf("the last message does not count the alerts left out:\n%s", last)
			}
			more, _ := strconv.Atoi(m[1])
			if len(shown)+more != n {
				t.Errorf("%d alerts shown + %d more = %d, want %d", len(shown), more, len(shown)+more, n)
			}
			if !strings.Contains(last, "alertmanager.example:9093") {
				t.Errorf("the last message does not link to Alertmanager:\n%s", last)
			}
		})
		t.Run("huge", func(t *testing.T) {
			fake, keys := c.start(t)
			r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.HugePayload())
			if r.Verdict != notify.Delivered || len(fake.Violations()) > 0 {
				t.Fatalf("result %+v, violations %q", r, fake.Violations())
			}
			got := fake.Received()
			if len(got) != 1 || !strings.Contains(got[0].Text, "huge alert") || !strings.Contains(got[0].Text, "…") {
				t.Errorf("want one shortened message, got %d: %q", len(got), got)
			}
		})
	}
	answers := []struct {
		name    string
		reply   notifytest.Reply
		verdict notify.Verdict
		wait    time.Duration
	}{
		{"retryable", c.retryable, notify.Retry, -1},
		{"permanent", c.permanent, notify.Permanent, -1},
		{"rate limited", c.rateLimited, notify.Retry, c.rateLimitWait},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			fake, keys := c.start(t)
			fake.Script(a.reply)
			r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.MixedPayload())
			if r.Verdict != a.verdict {
				t.Fatalf("answer %d %s: result %+v, want %v", a.reply.Status, a.reply.Body, r, a.verdict)
			}
			if a.wait >= 0 && (r.Reason != notify.ReasonRateLimited || r.RetryAfter != a.wait) {
				t.Errorf("rate limit: reason %s, wait %s; want rateLimited, %s", r.Reason, r.RetryAfter, a.wait)
			}
			if r.Message == "" {
				t.Error("no message for the log")
			}
			assertNoSecret(t, c, r)
			if len(fake.Violations()) > 0 {
				t.Errorf("violations %q", fake.Violations())
			}
		})
	}
	t.Run("transport error", func(t *testing.T) {
		fake, keys := c.start(t)
		keys = strings.ReplaceAll(keys, fake.Server.URL, "http://127.0.0.1:1")
		r := conformanceDeliver(t, conformanceTarget(t, c, keys), notifytest.MixedPayload())
		if r.Verdict != notify.Retry {
			t.Fatalf("result %+v", r)
		}
		assertNoSecret(t, c, r)
	})
}

func assertNoSecret(t *testing.T, c conformanceCase, r notify.Result) {
	t.Helper()
	for _, s := range c.secrets {
		if s != "" && strings.Contains(r.Message, s) {
			t.Errorf("result message %q contains the secret %q", r.Message, s)
		}
	}
}
