package notify

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRedactor(t *testing.T) {
	const hook = "https://u:PASSWORD1@hooks.example.com/services/T0AB12CD/B0EF34GH/xoxTOKENvalue123?access_token=QUERYTOKEN2&mode=plain"
	r := NewRedactor("SIGNSECRET3", "abc").WithURL(hook).WithBasicAuth("user", "BASICPW4")
	req := &Request{
		URL: "https://oapi.example.com/robot/send?access_token=QUERYTOKEN2&timestamp=1700000000000&sign=ab%2Bcd%2Fef%3D%3D",
		Header: http.Header{
			"Webhook-Signature": {"v1,SIGNATUREvalue5= v1,OTHERsig6="},
			"X-Group":           {"HighCPU"},
		},
		Body: []byte(`{"timestamp":"1599360473","sign":"LARKsig7+abc=","msg_type":"text"}`),
	}
	rr := r.WithRequest(req)
	for _, c := range []struct{ in, leaks, keeps string }{
		{"POST " + hook + " failed", "PASSWORD1", "POST <redacted> failed"},
		{"host hooks.example.com, user u", "", "host hooks.example.com, user u"},
		{"path /services/T0AB12CD/B0EF34GH/xoxTOKENvalue123 not found", "xoxTOKENvalue123", "path <redacted> not found"},
		{"no such channel: B0EF34GH/xoxTOKENvalue123 in services", "xoxTOKENvalue123", "in services"},
		{"segment T0AB12CD", "T0AB12CD", "segment"},
		{"query access_token=QUERYTOKEN2&mode=plain", "QUERYTOKEN2", "query <redacted>"},
		{"bad access_token: QUERYTOKEN2", "QUERYTOKEN2", "bad access_token"},
		{`{"error":"bad secret SIGNSECRET3"}`, "SIGNSECRET3", "bad secret"},
		{"escaped " + url.QueryEscape("SIGNSECRET3/"), "SIGNSECRET3", "escaped"},
		{"Authorization: Basic dXNlcjpCQVNJQ1BXNA==", "dXNlcjpCQVNJQ1BXNA==", "Authorization: Basic"},
		{"BASICPW4", "BASICPW4", ""},
		{"sign=ab%2Bcd%2Fef%3D%3D and ab+cd/ef==", "ab+cd/ef==", "sign="},
		{"sign=ab%2Bcd%2Fef%3D%3D", "ab%2Bcd%2Fef%3D%3D", "sign="},
		{"timestamp 1700000000000", "1700000000000", "timestamp"},
		{"Webhook-Signature: v1,SIGNATUREvalue5= v1,OTHERsig6=", "SIGNATUREvalue5", "Webhook-Signature"},
		{"OTHERsig6=", "OTHERsig6", ""},
		{`echo {"sign":"LARKsig7+abc="}`, "LARKsig7", `echo {"sign":`},
		{"group HighCPU, abc", "", "HighCPU, abc"}, // not a credential header; too short to search for
		{"robot send", "", "robot send"},           // plain path words stay
	} {
		got := rr.Redact(c.in)
		if c.leaks != "" && strings.Contains(got, c.leaks) {
			t.Errorf("%q → %q still holds %q", c.in, got, c.leaks)
		}
		if !strings.Contains(got, c.keeps) {
			t.Errorf("%q → %q lost %q", c.in, got, c.keeps)
		}
	}
	if got := r.Redact("timestamp 1700000000000"); got != "timestamp 1700000000000" {
		t.Errorf("the target's redactor learned a request's values: %q", got)
	}
	var none *Redactor
	if none.Redact("x QUERYTOKEN2") != "x QUERYTOKEN2" || none.WithRequest(req).Redact("QUERYTOKEN2") != Redacted {
		t.Error("nil Redactor")
	}
	h := rr.RedactHeader(http.Header{"Authorization": {"Bearer x"}, "X-Note": {"see QUERYTOKEN2"}, "Content-Type": {"application/json"}})
	if h.Get("Authorization") != Redacted || h.Get("X-Note") != "see "+Redacted || h.Get("Content-Type") != "application/json" {
		t.Errorf("RedactHeader: %v", h)
	}
}

func TestTokenLike(t *testing.T) {
	for s, want := range map[string]bool{
		"services": false, "open-apis": false, "cgi-bin": false, "hooks": false, "v2": false,
		"sendMessage": true, "T0AB12CD": true, "1700000000000": true, "abcdefghijklmnopqrstu": true, "bot123": true,
	} {
		if got := tokenLike(s); got != want {
			t.Errorf("tokenLike(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestWireCredentialsAreRedacted: the credential headers a transport
// writes are recorded (not other headers) and scrubbed, value and
// credential, without the scheme word; a URL's user info is scrubbed in
// the Basic form the HTTP client sends.
func TestWireCredentialsAreRedacted(t *testing.T) {
	w := &WireCredentials{}
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	req, _ := http.NewRequestWithContext(w.Context(t.Context()), "GET", srv.URL, nil)
	req.Header.Set("Authorization", "Bearer wireToken123456")
	req.Header.Set("X-Api-Key", "apiKey99887766")
	req.Header.Set("X-Plain", "plainValue42")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := NewRedactor().WithHeaderValues(w.Values()...).Redact("Bearer wireToken123456 apiKey99887766 plainValue42")
	if want := "<redacted> <redacted> plainValue42"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := NewRedactor().WithHeaderValues(w.Values()...).Redact("Bearer x"); got != "Bearer x" {
		t.Errorf("the scheme word is redacted: %q", got)
	}
	if got := NewRedactor().WithURL("http://user:pw-secret1@host/x").Redact("Authorization: Basic dXNlcjpwdy1zZWNyZXQx"); strings.Contains(got, "dXNlcjpwdy1zZWNyZXQx") {
		t.Errorf("URL user info in Basic form not redacted: %q", got)
	}
}
