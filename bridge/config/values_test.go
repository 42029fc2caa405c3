package config

import (
	"strings"
	"testing"
)

// TestEveryBadValueIsReportedWithItsKeyAndLine: one parse reports the
// unknown key, each value that does not decode (with its key path and
// line) and the validation errors, instead of stopping at the first.
func TestEveryBadValueIsReportedWithItsKeyAndLine(t *testing.T) {
	const file = `global:
  timeout: 10x
  retry:
    attempts: many
    interval: 1s
targets:
  - name: a
    type: webhook
    url: https://hooks.example.com/a
    timeout: soon
    max_in_flight: [1]
    http_config:
      bearer_token: x
      bearer_token_file: /y
  - name: b
    type: slack
    url: https://hooks.slack.com/services/T/B/X
    colour: red
    rate_limit: {requests: 1, interval: often}
  - name: ''
    type: webhook
    url: https://hooks.example.com/c
`
	_, err := Parse([]byte(file), t.TempDir())
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{
		`global.timeout: unknown unit "x" in duration "10x" (line 2)`,
		"global.retry.attempts: cannot unmarshal !!str `many` into int (line 4)",
		`targets[0] (a).timeout: not a valid duration string: "soon" (line 10)`,
		"targets[0] (a).max_in_flight: cannot unmarshal !!seq into int (line 11)",
		"targets[0] (a).http_config: at most one of bearer_token & bearer_token_file must be configured (line 13)",
		"targets[1] (b).colour: unknown field (line 18)",
		`targets[1] (b).rate_limit.interval: not a valid duration string: "often" (line 19)`,
		"targets[2].name: required",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
}
