package dialect

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// ammdsPlaceholder matches AMMDS's placeholders, {{title}} or {{ title }}.
var ammdsPlaceholder = regexp.MustCompile(`\{\{(-?\s*)(type|title|subTitle|message|time|logo|image|sign)(\s*-?)\}\}`)

// AMMDSData is the data behind AMMDS's placeholders: {{type}} {{title}}
// {{subTitle}} {{message}} {{time}} {{logo}} {{image}} {{sign}}.
type AMMDSData struct {
	// Type is the notification's status: firing or resolved.
	Type string `json:"type"`
	// Title is the notification's title (alert.Group.Title).
	Title string `json:"title"`
	// SubTitle is the severity and the counts: "critical · 2 firing, 1
	// resolved".
	SubTitle string `json:"subTitle"`
	// Message is one line per alert (alert.DetailLine).
	Message string `json:"message"`
	// Time is when the bridge received the notification, in the
	// configured time zone ("2006-01-02 15:04:05").
	Time string `json:"time"`
	// Logo and Image are the common logo (or logo_url) and image (or
	// image_url) annotations; empty when the alerts do not share one.
	Logo  string `json:"logo"`
	Image string `json:"image"`
	// Sign is base64(HMAC-SHA256(secret, Time + "\n" + Message)); empty
	// without a secret. See AMMDSSign.
	Sign string `json:"sign"`
}

// AMMDSView maps the group to AMMDS's placeholders; times are printed in
// loc (nil: UTC).
func AMMDSView(g *alert.Group, loc *time.Location, secret string) *AMMDSData {
	loc = orUTC(loc)
	firing := len(g.Alerts.Firing())
	sub := fmt.Sprintf("%d firing, %d resolved", firing, len(g.Alerts)-firing)
	if sev := alert.OneLine(strings.TrimSpace(g.CommonLabels["severity"])); sev != "" {
		sub = sev + " · " + sub
	}
	d := &AMMDSData{
		Type:     g.Status,
		Title:    alert.OneLine(g.Title()),
		SubTitle: sub,
		Message:  detail(g.Alerts),
		Time:     g.ReceivedAt.In(loc).Format(TimeLayout),
		Logo:     firstOf(g.CommonAnnotations, "logo", "logo_url"),
		Image:    firstOf(g.CommonAnnotations, "image", "image_url"),
	}
	if secret != "" {
		d.Sign = AMMDSSign(secret, d.Time, d.Message)
	}
	return d
}

// AMMDSSign is the {{sign}} value: the standard base64 of
// HMAC-SHA256 keyed by the secret over time, a line feed, and message. A
// receiver recomputes it from the time and message it received.
func AMMDSSign(secret, time, message string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(time + "\n" + message))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
