package notify

import "testing"

func TestVerifyCheck(t *testing.T) {
	tests := []struct {
		name   string
		verify Verify
		code   int
		body   string
		want   bool
	}{
		{"default 200", Verify{}, 200, "", true},
		{"default 204", Verify{}, 204, "", true},
		{"default 299", Verify{}, 299, "", true},
		{"default 199", Verify{}, 199, "", false},
		{"default 300", Verify{}, 300, "", false},
		{"default 500", Verify{}, 500, "", false},
		{"status listed", Verify{Status: []int{200, 202}}, 202, "", true},
		{"status not listed", Verify{Status: []int{200, 202}}, 201, "", false},
		{"status list may accept non-2xx", Verify{Status: []int{302}}, 302, "", true},
		{"status list replaces 2xx default", Verify{Status: []int{302}}, 200, "", false},
		{"body contains", Verify{BodyContains: "ok"}, 200, `{"result":"ok"}`, true},
		{"body missing", Verify{BodyContains: "ok"}, 200, `{"result":"fail"}`, false},
		{"body ok but status bad", Verify{BodyContains: "ok"}, 500, "ok", false},
		{"status and body", Verify{Status: []int{200}, BodyContains: `"errcode":0`}, 200, `{"errcode":0}`, true},
		{"status and wrong body", Verify{Status: []int{200}, BodyContains: `"errcode":0`}, 200, `{"errcode":40001}`, false},
		{"body case-sensitive", Verify{BodyContains: "OK"}, 200, "ok", false},
		{"empty body with check", Verify{BodyContains: "ok"}, 200, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.verify.Check(&Response{StatusCode: tc.code, Body: []byte(tc.body)}); got != tc.want {
				t.Errorf("Check(%d, %q) with %+v = %v, want %v", tc.code, tc.body, tc.verify, got, tc.want)
			}
		})
	}
}
