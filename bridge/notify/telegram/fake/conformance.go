package fake

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

// Conformance is the type's case in the bridge's conformance suite.
func Conformance() notifytest.Conformance {
	opts := TelegramOptions{Token: "987654:tg-conformance-secret", ChatID: "-1009876543210"}
	return notifytest.Conformance{
		Type: "telegram",
		Chat: true,
		Start: func(t testing.TB) (*notifytest.Fake, string) {
			f := NewTelegram(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    chat_id: " + opts.ChatID
		},
		Secrets:   []string{opts.Token, "tg-conformance-secret"},
		Retryable: notifytest.Reply{Status: http.StatusInternalServerError, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		Permanent: notifytest.Reply{Status: http.StatusForbidden, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`},
		// Telegram's 429 carries its wait in parameters.retry_after only.
		RateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}`},
		RateLimitWait: 17 * time.Second,
	}
}
