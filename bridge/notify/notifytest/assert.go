package notifytest

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// CheckErrorNames fails the test unless err is nil exactly when want is
// empty and, when it is not, err's message contains each of want (the
// keys and reasons a load-time check must name).
func CheckErrorNames(t testing.TB, err error, want []string) {
	t.Helper()
	if (err == nil) != (len(want) == 0) {
		t.Fatalf("error %v, want %q", err, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
}

// NoViolations fails the test (without stopping it) if the fake saw
// requests its platform would refuse.
func NoViolations(t testing.TB, f interface{ Violations() []string }) {
	t.Helper()
	if v := f.Violations(); len(v) > 0 {
		t.Errorf("violations %q", v)
	}
}

// Call sends one request to a fake the way a contract test does: body
// as is, each header of header whose value is not empty, the default
// client. It returns the answer's status, body and headers; only a
// failure to get an answer fails the test.
func Call(t testing.TB, method, url string, header map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
