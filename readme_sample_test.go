package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestReadmeSampleMessage: the sample message in README.md is what the
// command it names prints (the text of the body), with each "…" standing
// for what the README leaves out.
func TestReadmeSampleMessage(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)`go run \\. render --config\\.file=(\\S+) --target=(\\S+) --payload (\\S+)`.*?\n```\n(.*?)\n```").FindSubmatch(readme)
	if m == nil {
		t.Fatal("README.md: no render command followed by a sample")
	}
	config, target, payload, sample := string(m[1]), string(m[2]), string(m[3]), string(m[4])
	for k, v := range chatTargetsEnv {
		t.Setenv(k, v)
	}
	var body, diag bytes.Buffer
	if code := render(&body, &diag, config, target, payload); code != 0 {
		t.Fatalf("render --target=%s: exit %d: %s", target, code, diag.String())
	}
	var msg struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(body.Bytes(), &msg); err != nil {
		t.Fatalf("render --target=%s: %v\n%s", target, err, body.String())
	}
	parts := strings.Split(sample, "…")
	for i := range parts {
		parts[i] = regexp.QuoteMeta(parts[i])
	}
	if !regexp.MustCompile("(?s)^" + strings.Join(parts, ".*?")).MatchString(msg.Text) {
		t.Errorf("README.md's sample for %s is not what render prints; render prints:\n%s", target, msg.Text)
	}
}
