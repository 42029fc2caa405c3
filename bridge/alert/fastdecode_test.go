package alert

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// fastDecodeCases are payloads on which the fast decoder must agree with
// encoding/json: the examples, hostile strings and malformed documents.
var fastDecodeCases = []string{
	`{"version":"4","groupKey":"{}:{a=\"b\"}","status":"firing","receiver":"r","alerts":[{"status":"firing","labels":{"alertname":"X","q":"\"quoted\" \\ back\nline {{ .x }}"},"annotations":{"d":"\u00e9\u4e2d\ud83d\ude00"},"startsAt":"2026-11-23T10:00:00+08:00","endsAt":"0001-01-01T00:00:00Z","fingerprint":"abc"}]}`,
	`{"version":"4","groupKey":"k","alerts":[{"labels":{"a":"\xff\xfe bad utf8"},"startsAt":"2026-11-23T10:00:00Z"}]}`,
	`{"version":"4","groupKey":"k","alerts":[{"labels":{"a":"\ud800 lone surrogate"}}]}`,
	`{"version":"4","groupKey":"k","alerts":null,"commonLabels":{}}`,
	`{"version":"4","groupKey":"k","groupKey":"dup","alerts":[]}`,
	`{"version":4,"groupKey":"k"}`,
	`{"version":"4","groupKey":"k","alerts":[{"startsAt":"not a time"}]}`,
	`{"version":"4","groupKey":"k","truncatedAlerts":-1}`,
	`{"version":"4","groupKey":"k","alerts":[{"labels":{"a":1}}]}`,
	`{"version":"4","groupKey":"k"} trailing`,
	`{"version":"4","groupKey":"k",}`,
	`{"version":"4" "groupKey":"k"}`,
	`{"version":"4","groupKey":"k","alerts":[{]}`,
	`[1,2,3]`,
	`"string"`,
	`null`,
	``,
	`{"VERSION":"4","GroupKey":"case folded"}`,
	`{"version":"4","groupKey":"k","alerts":[{"labels":{"a":"b"},"labels":{"c":"d"}}]}`,
	`{"version":"4","groupKey":"k","extra":{"nested":[1,{"x":null}]},"alerts":[]}`,
}

// TestFastDecodeMatchesStandard: where goccy/go-json decodes a payload,
// encoding/json decodes it too, into the same message. DecodeWith relies
// on it: it answers with goccy's result and falls back to encoding/json
// only when goccy refuses.
func TestFastDecodeMatchesStandard(t *testing.T) {
	cases := append([]string(nil), fastDecodeCases...)
	for _, file := range []string{"../../examples/payload-firing.json", "../../examples/payload-resolved.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, string(b))
	}
	for _, c := range cases {
		checkFastDecode(t, []byte(c))
	}
}

func checkFastDecode(t *testing.T, b []byte) {
	t.Helper()
	var std Message
	fast, ferr := decodeFast(b)
	serr := json.Unmarshal(b, &std)
	if ferr == nil && serr != nil {
		t.Fatalf("fast decoder accepts what encoding/json refuses (%v): %q", serr, b)
	}
	if ferr == nil && !reflect.DeepEqual(*fast, std) {
		t.Fatalf("decoders disagree on %q:\nfast %#v\nstd  %#v", b, fast, std)
	}
	// DecodeWith gives encoding/json's verdict either way.
	_, derr := DecodeWith(bytes.NewReader(b), DecodeOptions{})
	if serr != nil && derr == nil {
		t.Fatalf("DecodeWith accepted a payload encoding/json refuses: %q", b)
	}
}

// FuzzFastDecodeMatchesStandard runs the same comparison on any input.
func FuzzFastDecodeMatchesStandard(f *testing.F) {
	for _, c := range fastDecodeCases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) { checkFastDecode(t, b) })
}
