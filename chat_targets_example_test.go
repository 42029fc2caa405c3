package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// chatTargetsExample is the annotated configuration with one target of
// every type that docs/targets.md describes.
const chatTargetsExample = "examples/chat-targets.yml"

// chatTargetsEnv gives the ${NAME} references of the example values in the
// shapes each type's URL check accepts, as a user would export them.
var chatTargetsEnv = map[string]string{
	"LARK_BOT_TOKEN":          "example-token",
	"LARK_SECRET":             "example-secret",
	"DINGTALK_ACCESS_TOKEN":   "example-token",
	"DINGTALK_SECRET":         "SECexample",
	"WECOM_ROBOT_KEY":         "example-key",
	"SLACK_WEBHOOK_URL":       "https://example.invalid/services/T000/B000/XXXX",
	"TEAMS_WORKFLOW_URL":      "https://example.invalid/workflows/1/triggers/manual/paths/invoke?api-version=1&sig=example",
	"DISCORD_WEBHOOK_URL":     "https://example.invalid/api/webhooks/1/example-token",
	"TELEGRAM_BOT_TOKEN":      "123456:example",
	"MATTERMOST_HOOK_KEY":     "example-key",
	"GOOGLE_CHAT_WEBHOOK_URL": "https://example.invalid/v1/spaces/AAAA/messages?key=example&token=example",
	"ROCKETCHAT_WEBHOOK_URL":  "https://example.invalid/hooks/example-id/example-token",
	"WEBHOOK_SECRET":          "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}

// TestChatTargetsExample: examples/chat-targets.yml passes check-config
// (strict decoding, URL checks, every target rendered against sample
// data) once its ${NAME} references are set, has a target of every
// registered type, and renders the example payload for each target, as
// the samples in docs/targets.md were made.
func TestChatTargetsExample(t *testing.T) {
	raw, err := os.ReadFile(chatTargetsExample)
	if err != nil {
		t.Fatal(err)
	}
	envRef := regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, m := range envRef.FindAllStringSubmatch(line, -1) {
			if _, ok := chatTargetsEnv[m[1]]; !ok {
				t.Errorf("%s uses ${%s}, which this test does not set", chatTargetsExample, m[1])
			}
		}
	}
	for k, v := range chatTargetsEnv {
		t.Setenv(k, v)
	}

	var out bytes.Buffer
	if code := checkConfig(&out, []string{chatTargetsExample}, ""); code != 0 {
		t.Fatalf("check-config %s: exit %d\n%s", chatTargetsExample, code, out.String())
	}

	cfg, err := config.Load(chatTargetsExample)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, tg := range cfg.Targets {
		seen[tg.Type] = true // canonical: the loader resolves aliases
		var body, diag bytes.Buffer
		if code := render(&body, &diag, chatTargetsExample, tg.Name, "examples/payload-firing.json"); code != 0 || body.Len() == 0 {
			t.Errorf("render --target=%s: exit %d, %d bytes: %s", tg.Name, code, body.Len(), diag.String())
		}
	}
	for _, typ := range registry.Types() {
		if !seen[typ] {
			t.Errorf("%s has no target of type %s", chatTargetsExample, typ)
		}
	}
}
