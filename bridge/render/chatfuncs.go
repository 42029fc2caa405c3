package render

import (
	"strings"
	"time"

	commontemplates "github.com/prometheus/common/helpers/templates"
)

// chatTimeLayout is how the chat pieces print a time.
const chatTimeLayout = "2006-01-02 15:04:05 MST"

// chatWhen prints one alert's "when" for the chat.when piece: "since
// <start>" for a firing alert (nothing without a start), "resolved" or
// "resolved <end>, after <duration>" for a resolved one, times in loc. It is
// the piece's former template logic in one call, so the chat presets spend
// one function call per alert on it instead of a dozen reflective ones.
func chatWhen(loc *time.Location) func(status string, startsAt, endsAt time.Time) (string, error) {
	return func(status string, startsAt, endsAt time.Time) (string, error) {
		if status == "firing" {
			if startsAt.IsZero() {
				return "", nil
			}
			return "since " + startsAt.In(loc).Format(chatTimeLayout), nil
		}
		if endsAt.IsZero() {
			return "resolved", nil
		}
		s := "resolved " + endsAt.In(loc).Format(chatTimeLayout)
		if startsAt.IsZero() {
			return s, nil
		}
		d, err := commontemplates.HumanizeDuration(endsAt.Sub(startsAt))
		if err != nil {
			return "", err
		}
		return s + ", after " + d, nil
	}
}

// chatSummary is the chat.summary piece's choice: the first of the summary,
// description and message annotations that is not blank, trimmed, else the
// alertname label.
func chatSummary(annotations, labels map[string]string) string {
	for _, k := range [...]string{"summary", "description", "message"} {
		if s := strings.TrimSpace(annotations[k]); s != "" {
			return s
		}
	}
	return labels["alertname"]
}
