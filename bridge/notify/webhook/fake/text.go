package fake

import (
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TextWebhook is a fake receiver of plain text bodies (a webhook target
// with a text Content-Type header). It requires POST, a Content-Type of
// text/plain (parameters such as charset=utf-8 allowed; a charset other
// than UTF-8 is refused), and a body that is valid UTF-8 and not blank;
// anything else is answered 400 and recorded in Violations. Accepted
// requests keep the body as their Text. It answers 200 "ok" unless
// scripted.
type TextWebhook struct{ *notifytest.Fake }

// NewTextWebhook starts a fake text receiver, closed when the test ends.
func NewTextWebhook(t testing.TB) *TextWebhook {
	check := func(r *http.Request, body []byte, _ time.Time) (string, string, *notifytest.Reply) {
		ct := r.Header.Get("Content-Type")
		mt, params, err := mime.ParseMediaType(ct)
		switch {
		case r.Method != http.MethodPost:
			return "", "method " + r.Method + ", want POST", nil
		case err != nil || mt != "text/plain":
			return "", "Content-Type " + ct + ", want text/plain", nil
		case params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8"):
			return "", "charset " + params["charset"] + ", want utf-8", nil
		case !utf8.Valid(body):
			return "", "body is not valid UTF-8", nil
		case strings.TrimSpace(string(body)) == "":
			return "", "empty body", nil
		}
		return string(body), "", nil
	}
	return &TextWebhook{notifytest.NewFake(t, check, notifytest.Reply{Status: http.StatusOK, Header: map[string]string{"Content-Type": "text/plain"}, Body: "ok"}, nil)}
}
