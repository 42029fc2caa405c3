package notifytest

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSlackStylePayload(t *testing.T) {
	form := "payload=" + url.QueryEscape(`{"text":"a & b"}`)
	for _, tc := range []struct {
		ct, body, msg, problem string
	}{
		{"application/json; charset=utf-8", `{"text":"x"}`, `{"text":"x"}`, ""},
		{"application/x-www-form-urlencoded", form, `{"text":"a & b"}`, ""},
		{"application/x-www-form-urlencoded", "text=x", "", "form without payload"},
		{"application/x-www-form-urlencoded", "payload=%zz", "", "form without payload"},
		{"text/plain", `{"text":"x"}`, "", "Content-Type text/plain"},
		{"", `{"text":"x"}`, "", "Content-Type "},
	} {
		r := httptest.NewRequest("POST", "/hook", strings.NewReader(tc.body))
		if tc.ct != "" {
			r.Header.Set("Content-Type", tc.ct)
		}
		msg, problem := SlackStylePayload(r, []byte(tc.body))
		if string(msg) != tc.msg || problem != tc.problem {
			t.Errorf("%q %q: (%q, %q), want (%q, %q)", tc.ct, tc.body, msg, problem, tc.msg, tc.problem)
		}
	}
}
