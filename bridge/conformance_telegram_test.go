package bridge

import (
	"net/http"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
)

func init() {
	opts := notifytest.TelegramOptions{Token: "987654:tg-conformance-secret", ChatID: "-1009876543210"}
	registerConformance(conformanceCase{
		typ:  "telegram",
		chat: true,
		start: func(t testing.TB) (*notifytest.Fake, string) {
			f := notifytest.NewTelegram(t, opts)
			return f.Fake, "    url: " + f.URL + "\n    chat_id: " + opts.ChatID
		},
		secrets:   []string{opts.Token, "tg-conformance-secret"},
		retryable: notifytest.Reply{Status: http.StatusInternalServerError, Body: `{"ok":false,"error_code":500,"description":"Internal Server Error"}`},
		permanent: notifytest.Reply{Status: http.StatusForbidden, Body: `{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the supergroup chat"}`},
		// Telegram's 429 carries its wait in parameters.retry_after only.
		rateLimited:   notifytest.Reply{Status: http.StatusTooManyRequests, Body: `{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 17","parameters":{"retry_after":17}}`},
		rateLimitWait: 17 * time.Second,
	})
}
