package alert

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

var scanCases = []struct {
	name           string
	in             string
	alerts, last   int
	groupKey       string
	ok             bool
	unmarshalFails bool // the oracle refuses it too
}{
	{name: "two alerts", in: `{"version":"4","groupKey":"g","alerts":[{"status":"firing"},{"status":"resolved"}]}`, alerts: 2, last: 2, groupKey: "g", ok: true},
	{name: "empty object", in: ` {} `, ok: true},
	{name: "empty array", in: `{"alerts":[]}`, ok: true},
	{name: "null", in: `{"alerts":null}`, ok: true},
	{name: "nested alerts keys are not counted", in: `{"commonLabels":{"alerts":"x"},"alerts":[{"labels":{"alerts":"[1,2]"},"x":{"alerts":[1,2,3]}}]}`, alerts: 1, last: 1, ok: true},
	{name: "brackets and quotes inside strings", in: `{"alerts":[{"a":"]\"},[\\"},{},"{[",3,true,null,-1.5e3]}`, alerts: 7, last: 7, ok: true, unmarshalFails: true},
	{name: "upper case key", in: `{"ALERTS":[{},{},{}]}`, alerts: 3, last: 3, ok: true},
	{name: "escaped key", in: `{"al\u0065rts":[{}]}`, alerts: 1, last: 1, ok: true},
	{name: "long s folds to s", in: `{"alert\u017f":[{},{}]}`, alerts: 2, last: 2, ok: true},
	{name: "long s unescaped", in: "{\"alert\u017f\":[{},{}]}", alerts: 2, last: 2, ok: true},
	{name: "kelvin sign is not an alerts key", in: `{"alerts\u212a":[{},{}]}`, ok: true},
	{name: "duplicate keys: the largest and the last", in: `{"alerts":[{},{},{}],"Alerts":[{}]}`, alerts: 3, last: 1, ok: true},
	{name: "duplicate keys: null last", in: `{"alerts":[{},{}],"alerts":null}`, alerts: 2, ok: true},
	{name: "group key with escapes", in: `{"groupKey":"{}:{a=\"b\\\\\"}","alerts":[{}]}`, alerts: 1, last: 1, groupKey: `{}:{a="b\\"}`, ok: true},
	{name: "group key: the last string", in: `{"groupKey":"a","GROUPKEY":"b","groupKey":null}`, groupKey: "b", ok: true},
	{name: "whitespace everywhere", in: "\t{ \"alerts\" :\n[ {} ,\r{ } ] , \"x\" : 1 }\n", alerts: 2, last: 2, ok: true},
	{name: "deep nesting inside an alert", in: `{"alerts":[` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `,{}]}`, alerts: 2, last: 2, ok: true, unmarshalFails: true},
	{name: "trailing data after the object", in: `{"alerts":[{},{}]} {"alerts":[{},{},{}]}`, alerts: 2, last: 2, ok: true, unmarshalFails: true},
	{name: "alerts is an object", in: `{"alerts":{"a":[1,2]}}`, ok: true, unmarshalFails: true},
	{name: "null", in: ` null `, ok: true},
	{name: "not an object", in: `[{"alerts":[{}]}]`, unmarshalFails: true},
	{name: "a string", in: `"alerts"`, unmarshalFails: true},
	{name: "empty", in: ``, unmarshalFails: true},
	{name: "truncated in the array", in: `{"alerts":[{},`, alerts: 0, unmarshalFails: true},
	{name: "truncated in a string", in: `{"alerts":[{"a":"\`, unmarshalFails: true},
	{name: "truncated after a key", in: `{"alerts"`, unmarshalFails: true},
	{name: "missing comma", in: `{"alerts":[{}] "x":1}`, alerts: 1, last: 1, unmarshalFails: true},
}

func TestScanShape(t *testing.T) {
	for _, c := range scanCases {
		t.Run(c.name, func(t *testing.T) {
			got := scanShape([]byte(c.in))
			want := shape{alerts: c.alerts, lastAlerts: c.last, groupKey: c.groupKey, ok: c.ok}
			if got != want {
				t.Errorf("scanShape(%q) = %+v, want %+v", c.in, got, want)
			}
			// encoding/json is the oracle: whatever it decodes, the scan
			// counted.
			var m Message
			err := json.Unmarshal([]byte(c.in), &m)
			if (err != nil) != c.unmarshalFails {
				t.Fatalf("json.Unmarshal error = %v, want failure %v", err, c.unmarshalFails)
			}
			if err == nil && (len(m.Alerts) != got.lastAlerts || m.GroupKey != got.groupKey) {
				t.Errorf("json.Unmarshal decoded %d alerts and group key %q; the scan counted %d and %q", len(m.Alerts), m.GroupKey, got.lastAlerts, got.groupKey)
			}
		})
	}
}

// FuzzScanShape checks scanShape against encoding/json on any input: what
// either decoder builds, the scan counted; what the scan gives up on, both
// decoders refuse. Decoding never panics.
func FuzzScanShape(f *testing.F) {
	for _, c := range scanCases {
		f.Add([]byte(c.in))
	}
	for _, file := range []string{"../../examples/payload-firing.json", "../../examples/payload-resolved.json"} {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sh := scanShape(b)
		var m Message
		if err := json.Unmarshal(b, &m); err == nil {
			if !sh.ok || sh.lastAlerts != len(m.Alerts) || sh.alerts < len(m.Alerts) || sh.groupKey != m.GroupKey {
				t.Fatalf("Unmarshal: %d alerts, group key %q; scan: %+v", len(m.Alerts), m.GroupKey, sh)
			}
		}
		var first Message
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(&first); err == nil {
			if !sh.ok || sh.lastAlerts != len(first.Alerts) {
				t.Fatalf("stream decoder: %d alerts; scan: %+v", len(first.Alerts), sh)
			}
		}
		for _, limit := range []int{0, 1, 2} {
			msg, err := DecodeWith(bytes.NewReader(b), DecodeOptions{MaxAlerts: limit})
			var tooMany *TooManyAlertsError
			switch {
			case err == nil:
				if limit > 0 && len(msg.Alerts) > limit {
					t.Fatalf("limit %d: decoded %d alerts", limit, len(msg.Alerts))
				}
			case errors.As(err, &tooMany):
				if limit == 0 || tooMany.Alerts <= limit {
					t.Fatalf("limit %d: %v", limit, err)
				}
			case !IsInvalid(err):
				t.Fatalf("limit %d: error of type %T: %v", limit, err, err)
			}
		}
	})
}

func TestDecodeWithMaxAlerts(t *testing.T) {
	payload := func(n int) string {
		alerts := make([]string, n)
		for i := range alerts {
			alerts[i] = fmt.Sprintf(`{"status":"firing","labels":{"i":"%d"}}`, i)
		}
		return `{"version":"4","groupKey":"{}:{a=\"b\"}","alerts":[` + strings.Join(alerts, ",") + `]}`
	}
	cases := []struct {
		name        string
		in          string
		limit       int
		wantAlerts  int    // decoded, when no error is wanted
		wantTooMany int    // the count in a *TooManyAlertsError
		wantInvalid string // part of an *InvalidError's message
	}{
		{name: "under the limit", in: payload(2), limit: 3, wantAlerts: 2},
		{name: "at the limit", in: payload(3), limit: 3, wantAlerts: 3},
		{name: "over the limit", in: payload(4), limit: 3, wantTooMany: 4},
		{name: "no limit", in: payload(50), limit: 0, wantAlerts: 50},
		{name: "over the limit with an upper-case key", in: strings.Replace(payload(4), `"alerts"`, `"ALERTS"`, 1), limit: 3, wantTooMany: 4},
		{name: "over the limit in a replaced array", in: strings.Replace(payload(4), `"alerts"`, `"alerts":[{},{},{},{},{}],"alerts"`, 1), limit: 4, wantTooMany: 5},
		{name: "over the limit with trailing data", in: payload(4) + `xyz`, limit: 3, wantTooMany: 4},
		{name: "malformed beats the count", in: strings.TrimSuffix(payload(4), "]}"), limit: 3, wantInvalid: "unexpected end"},
		{name: "invalid payload under the limit", in: strings.Replace(payload(2), `"version":"4"`, `"version":"3"`, 1), limit: 3, wantInvalid: "unsupported version"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := DecodeWith(strings.NewReader(c.in), DecodeOptions{MaxAlerts: c.limit, SizeHint: int64(len(c.in))})
			var tooMany *TooManyAlertsError
			var inv *InvalidError
			switch {
			case c.wantTooMany > 0:
				if !errors.As(err, &tooMany) || tooMany.Alerts != c.wantTooMany || tooMany.Limit != c.limit || tooMany.GroupKey != `{}:{a="b"}` {
					t.Fatalf("err = %#v, want %d alerts over %d with the group key", err, c.wantTooMany, c.limit)
				}
				if want := fmt.Sprintf("over the limit of %d", c.limit); !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not name the limit", err)
				}
			case c.wantInvalid != "":
				if !errors.As(err, &inv) || !strings.Contains(inv.Msg, c.wantInvalid) {
					t.Fatalf("err = %v, want an *InvalidError with %q", err, c.wantInvalid)
				}
				if inv.GroupKey != `{}:{a="b"}` {
					t.Errorf("InvalidError.GroupKey = %q, want the payload's", inv.GroupKey)
				}
			default:
				if err != nil || len(m.Alerts) != c.wantAlerts {
					t.Fatalf("got %v, %v; want %d alerts", m, err, c.wantAlerts)
				}
			}
		})
	}
}
