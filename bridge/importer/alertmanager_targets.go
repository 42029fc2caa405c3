package importer

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/rocketchat"
	"github.com/alertbridge/alertbridge/bridge/notify/slack"
)

// amDefault is the template text Alertmanager uses for a field left unset.
func amDefault(typ, field string) string {
	return fmt.Sprintf(`{{ template "%s.default.%s" . }}`, typ, field)
}

func secretURL(u *amSecretURL) string {
	if u == nil || u.URL == nil {
		return ""
	}
	return u.URL.String()
}

// url sets the target's url or url_file from an integration's URL fields.
func (a *amConv) url(t *outTarget, value, file, meaning, example string) {
	switch {
	case file != "":
		if !filepath.IsAbs(file) {
			file = filepath.Join(a.dir, file)
		}
		t.URLFile = a.fileRef(t.Name, "url_file", file, example)
	case value != "":
		t.URL = a.secret(t.Name, "URL", value, meaning, example)
	}
}

func timeout(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// webhook carries a webhook_config: url, url_file, max_alerts, timeout,
// http_config, and Alertmanager 0.34's payload as the body template.
// Without a payload, the body is Alertmanager's own webhook message, so
// the receiver sees what it saw before.
func (a *amConv) webhook(src, receiver string, c *amWebhookConfig) *outTarget {
	if strings.Contains(string(c.URL), "{{") {
		a.note(src, "url", NotCarried, "", "the URL is a template; a bridge target has one fixed URL (make one target per destination)")
		return nil
	}
	t := a.base(src, receiver, "webhook", "webhook", c.SendResolved())
	a.url(t, string(c.URL), c.URLFile, "the webhook URL", "https://receiver.example/alerts")
	if c.URLFile != "" {
		a.note(src, "url_file", Differs, t.Name, "Alertmanager renders the file's URL as a template; the bridge uses it as it is")
	}
	t.MaxAlerts = int(min(c.MaxAlerts, 1<<31-1))
	t.Timeout = timeout(c.Timeout)
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if c.Payload == nil {
		t.Template = amWebhookBody
		return t
	}
	body, err := a.payload(src, t.Name, c.Payload)
	if err != nil {
		a.note(src, "payload", NotCarried, t.Name, "%v; the target sends Alertmanager's standard message instead", err)
		t.Template = amWebhookBody
		return t
	}
	t.Template = body
	a.note(src, "payload", Differs, t.Name, "Alertmanager turns a value that renders as a YAML number, boolean, list or map into that type; the bridge keeps a quoted value a string (values that are one toJson/json action are written unquoted)")
	return t
}

// amWebhookBody is Alertmanager's webhook message (version 4).
const amWebhookBody = `{"receiver": "{{ .Receiver }}", "status": "{{ .Status }}", "alerts": {{ json .Alerts }},
 "groupLabels": {{ json .GroupLabels }}, "commonLabels": {{ json .CommonLabels }},
 "commonAnnotations": {{ json .CommonAnnotations }}, "externalURL": "{{ .ExternalURL }}",
 "version": "4", "groupKey": "{{ .GroupKey }}", "truncatedAlerts": {{ .TruncatedAlerts }}}
`

// slackBot reports whether a slack_config posts as a bot: a bearer token
// (app_token, which Alertmanager turns into http_config.authorization,
// or an authorization of its own) sent to chat.postMessage (app_url, or
// an api_url naming the method). It returns the Web API's base URL.
func slackBot(c *amSlackConfig) (base string, ok bool) {
	hc := c.HTTPConfig
	if hc == nil || hc.Authorization == nil || (hc.Authorization.Type != "" && !strings.EqualFold(hc.Authorization.Type, "Bearer")) {
		return "", false
	}
	base, found := strings.CutSuffix(secretURL(c.APIURL), slack.MethodPostMessage)
	return base, found && strings.HasSuffix(base, "/")
}

// slack carries a slack_config to a slack target: an incoming webhook, or
// a bot token (the target's secret) with the channel it posts to.
func (a *amConv) slack(src, receiver string, c *amSlackConfig) *outTarget {
	t := a.base(src, receiver, "slack", "slack", c.SendResolved())
	hc := c.HTTPConfig
	withoutAuth := func() {
		h := *hc
		h.Authorization = nil // the token is the target's secret, or of no use
		hc = &h
	}
	base, bot := slackBot(c)
	fixedChannel := c.Channel != "" && !strings.Contains(c.Channel, "{{")
	tokenKey := "http_config.authorization"
	if c.AppToken != "" || c.AppTokenFile != "" {
		tokenKey = "app_token"
	}
	switch {
	case bot && fixedChannel:
		t.URL = base
		if auth := hc.Authorization; auth.CredentialsFile != "" {
			file := auth.CredentialsFile
			if !filepath.IsAbs(file) {
				file = filepath.Join(a.dir, file)
			}
			t.SecretFile = a.fileRef(t.Name, "secret_file", file, "xoxb-0000-0000-XXXX")
		} else {
			t.Secret = a.secret(t.Name, "TOKEN", string(auth.Credentials), "the Slack bot token", "xoxb-0000-0000-XXXX")
		}
		withoutAuth()
		a.note(src, tokenKey, Imported, t.Name, "the bot token, as the target's secret: it posts with chat.postMessage to its channel")
		if c.UpdateMessage {
			t.Update = string(notify.UpdateEdit)
			a.note(src, "update_message", Imported, t.Name, "update: edit (chat.update of the group's message)")
		}
	case bot:
		t.URL = a.placeholder(t.Name, "URL", "a Slack incoming webhook URL to create", "https://hooks.slack.com/services/T000/B000/XXXX")
		a.note(src, tokenKey, Todo, t.Name, "a bot posts to one fixed channel and this one has none (or a template): set channel, secret (the token) and url (%s) on the target, or create an incoming webhook and set %s", slack.APIURL, envName(t.Name, "URL"))
		if c.UpdateMessage {
			a.note(src, "update_message", NotCarried, t.Name, "needs the bot token; the target posts a new message per notification")
		}
		withoutAuth()
	case c.AppToken != "" || c.AppTokenFile != "":
		// app_url names another method, or a proxy's path of its own.
		t.URL = a.placeholder(t.Name, "URL", "a Slack incoming webhook URL to create", "https://hooks.slack.com/services/T000/B000/XXXX")
		a.note(src, "app_url", Todo, t.Name, "does not end in /%s, so the Web API's base URL is not known: set url to it (with secret and channel), or create an incoming webhook and set %s", slack.MethodPostMessage, envName(t.Name, "URL"))
		withoutAuth()
	default:
		a.url(t, secretURL(c.APIURL), c.APIURLFile, "the Slack incoming webhook URL", "https://hooks.slack.com/services/T000/B000/XXXX")
		if c.UpdateMessage {
			a.note(src, "update_message", NotCarried, t.Name, "needs a bot token; the target posts a new message per notification")
		}
	}
	t.Timeout = timeout(c.Timeout)
	t.HTTPConfig = a.httpConfig(src, t.Name, hc)
	d := amDefaultSlack
	plain := func(key, v, def string) {
		if v != "" && v != def && !strings.Contains(v, "{{") {
			t.Options[key] = v
		}
	}
	plain("channel", c.Channel, "")
	plain("username", c.Username, d.Username)
	plain("icon_emoji", c.IconEmoji, d.IconEmoji)
	plain("icon_url", c.IconURL, d.IconURL)
	for _, f := range []struct {
		name string
		set  bool
	}{{"fields", len(c.Fields) > 0}, {"actions", len(c.Actions) > 0}, {"image_url", c.ImageURL != ""}, {"thumb_url", c.ThumbURL != ""}, {"callback_id", c.CallbackID != d.CallbackID}, {"link_names", c.LinkNames}} {
		if f.set {
			a.note(src, f.name, NotCarried, t.Name, "the bridge's Slack messages have no equivalent")
		}
	}
	if !customised([2]string{c.Title, d.Title}, [2]string{c.Text, d.Text}, [2]string{c.Pretext, d.Pretext}, [2]string{c.Footer, d.Footer},
		[2]string{c.Color, d.Color}, [2]string{c.Fallback, d.Fallback}, [2]string{c.TitleLink, d.TitleLink}, [2]string{c.MessageText, d.MessageText}) {
		a.note(src, "title, text", Differs, t.Name, "Alertmanager's default templates: the bridge's Slack preset (Block Kit) is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"title", c.Title}, {"title_link", c.TitleLink}, {"pretext", c.Pretext}, {"text", c.Text},
		{"footer", c.Footer}, {"color", c.Color}, {"fallback", c.Fallback}, {"message_text", c.MessageText}})
	if !ok {
		return t
	}
	text := m["message_text"]
	if text == "" {
		text = m["fallback"]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "{%s\"text\": \"%s\",\n \"attachments\": [{\"color\": \"%s\", \"title\": \"%s\", \"title_link\": \"%s\", \"pretext\": \"%s\",\n  \"text\": \"%s\", \"footer\": \"%s\", \"fallback\": \"%s\", \"mrkdwn_in\": [\"fallback\", \"pretext\", \"text\"]}]}\n",
		slackOverrides(c, d), text, m["color"], m["title"], m["title_link"], m["pretext"], m["text"], m["footer"], m["fallback"])
	t.Template = b.String()
	a.note(src, "title, text", Imported, t.Name, "the message templates, as a Slack attachment like Alertmanager's")
	return t
}

// slackOverrides writes a templated username, icon or channel into a
// custom body (plain values are target keys).
func slackOverrides(c *amSlackConfig, d amSlackConfig) string {
	var b strings.Builder
	for _, f := range [][3]string{{"channel", c.Channel, ""}, {"username", c.Username, d.Username}, {"icon_emoji", c.IconEmoji, d.IconEmoji}, {"icon_url", c.IconURL, d.IconURL}} {
		if f[1] != "" && f[1] != f[2] && strings.Contains(f[1], "{{") {
			// Kept as Alertmanager wrote it; the bridge escapes the output.
			fmt.Fprintf(&b, "%q: \"%s\", ", f[0], jsonSafeTemplate(f[1]))
		}
	}
	return b.String()
}

// jsonSafeTemplate escapes a template's literal text for a JSON string
// without rewriting its actions (for short one-line overrides). A text
// that does not parse is dropped.
func jsonSafeTemplate(s string) string {
	rw := &rewriter{}
	out, err := rw.Rewrite(s)
	if err != nil {
		return ""
	}
	return out
}

// discord carries a discord_config.
func (a *amConv) discord(src, receiver string, c *amDiscordConfig) *outTarget {
	t := a.base(src, receiver, "discord", "discord", c.SendResolved())
	a.url(t, secretURL(c.WebhookURL), c.WebhookURLFile, "the Discord webhook URL", "https://discord.com/api/webhooks/123/abc")
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if c.Username != "" {
		t.Options["username"] = c.Username
	}
	if c.AvatarURL != "" {
		t.Options["avatar_url"] = c.AvatarURL
	}
	if !customised([2]string{c.Title, amDefault("discord", "title")}, [2]string{c.Message, amDefault("discord", "message")}, [2]string{c.Content, ""}) {
		a.note(src, "title, message", Differs, t.Name, "Alertmanager's default templates: the bridge's Discord preset (one embed per alert) is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"title", c.Title}, {"message", c.Message}, {"content", c.Content}})
	if !ok {
		return t
	}
	t.Template = fmt.Sprintf(`{"content": "%s", "embeds": [{"title": "%s", "description": "%s",
 "color": {{ if eq .Status "firing" }}10038562{{ else }}3066993{{ end }}}],
 "allowed_mentions": {"parse": []}}
`, m["content"], m["title"], m["message"])
	a.note(src, "title, message", Imported, t.Name, "the message templates, as one embed like Alertmanager's")
	return t
}

// telegram carries a telegram_config: the bot token goes into the
// sendMessage URL.
func (a *amConv) telegram(src, receiver string, c *amTelegramConfig) *outTarget {
	chatID := ""
	if c.ChatID != 0 {
		chatID = strconv.FormatInt(c.ChatID, 10)
	} else if c.ChatIDFile != "" {
		b, err := os.ReadFile(c.ChatIDFile)
		if err != nil {
			a.note(src, "chat_id_file", NotCarried, "", "cannot read the chat id (the bridge needs it in the configuration): %v", err)
			return nil
		}
		chatID = strings.TrimSpace(string(b))
	}
	t := a.base(src, receiver, "telegram", "telegram", c.SendResolved())
	api := "https://api.telegram.org"
	if c.APIUrl != nil && c.APIUrl.URL != nil {
		api = strings.TrimRight(c.APIUrl.String(), "/")
	}
	switch {
	case c.BotTokenFile != "":
		t.URL = a.placeholder(t.Name, "URL", "the bot's sendMessage URL, "+api+"/bot<token>/sendMessage (the token is in "+a.rel(c.BotTokenFile)+")", "https://api.telegram.org/bot123:abc/sendMessage")
		a.note(src, "bot_token_file", Todo, t.Name, "the bridge takes the whole sendMessage URL: set %s (or write the URL to a file and use url_file)", envName(t.Name, "URL"))
	default:
		tok := a.secret(t.Name, "BOT_TOKEN", string(c.BotToken), "the bot token", "123456:ABC-DEF")
		t.URL = api + "/bot" + tok + "/sendMessage"
	}
	t.Options["chat_id"] = chatID
	if c.MessageThreadID != 0 {
		t.Options["message_thread_id"] = c.MessageThreadID
	}
	if c.DisableNotifications {
		t.Options["disable_notification"] = true
	}
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if c.Message == amDefault("telegram", "message") && c.ParseMode == "HTML" {
		a.note(src, "message", Differs, t.Name, "Alertmanager's default template: the bridge's Telegram preset (HTML) is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"message", c.Message}})
	if !ok {
		return t
	}
	mode := ""
	if c.ParseMode != "" {
		mode = fmt.Sprintf(`"parse_mode": %q, `, c.ParseMode)
		a.note(src, "parse_mode", Differs, t.Name, "the bridge escapes every value the message prints for %s, so a label cannot break the markup; markup printed by an included template shows as text", c.ParseMode)
	}
	t.Template = fmt.Sprintf("{\"chat_id\": {{ .Options.ChatIDJSON }}, %s\"text\": \"%s\"}\n", mode, m["message"])
	a.note(src, "message", Imported, t.Name, "the message template")
	return t
}

// mattermost carries a mattermost_config.
func (a *amConv) mattermost(src, receiver string, c *amMattermostConfig) *outTarget {
	t := a.base(src, receiver, "mattermost", "mattermost", c.SendResolved())
	a.url(t, secretURL(c.WebhookURL), c.WebhookURLFile, "the Mattermost incoming webhook URL", "https://mattermost.example.com/hooks/abc")
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if c.Channel != "" {
		t.Options["channel"] = c.Channel
	}
	if c.Username != "" && !strings.Contains(c.Username, "{{") {
		t.Options["username"] = c.Username
	}
	if c.IconURL != "" && !strings.Contains(c.IconURL, "{{") {
		t.Options["icon_url"] = c.IconURL
	}
	if len(c.Attachments) > 0 || c.Props != nil || c.Priority != nil || c.IconEmoji != "" {
		a.note(src, "attachments, props, priority, icon_emoji", NotCarried, t.Name, "the bridge's Mattermost messages have no equivalent")
	}
	if c.Text == "" || c.Text == amDefault("mattermost", "text") {
		a.note(src, "text", Differs, t.Name, "Alertmanager's default template: the bridge's Mattermost preset is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"text", c.Text}})
	if !ok {
		return t
	}
	t.Template = fmt.Sprintf("{\"text\": \"%s\"}\n", m["text"])
	a.note(src, "text", Imported, t.Name, "the text template")
	return t
}

// rocketchat carries a rocketchat_config to a rocketchat target in the
// API mode, which posts as Alertmanager does (chat.postMessage with
// X-User-Id and X-Auth-Token): api_url is its url, token its secret and
// token_id its user_id. The API mode posts to a room id, which
// Alertmanager's channel (a #name) is not: room_id is a key to fill in.
func (a *amConv) rocketchat(src, receiver string, c *amRocketchatConfig) *outTarget {
	t := a.base(src, receiver, "rocketchat", "rocketchat", c.SendResolved())
	server := amDefaultRocketchatAPIURL
	if c.APIURL != nil && c.APIURL.URL != nil {
		server = c.APIURL.String()
	}
	switch u, err := url.Parse(server); {
	case err != nil || rocketchat.CheckServerURL(u) != nil:
		// The error is not quoted: it could show a part of the URL.
		t.URL = a.placeholder(t.Name, "URL", "the Rocket.Chat server's address", "https://chat.example.com")
		a.note(src, "api_url", Todo, t.Name, "not a server's address the bridge takes (it adds /api/v1/chat.postMessage itself and takes no query): set %s to the server's address", envName(t.Name, "URL"))
	case u.User != nil:
		t.URL = a.secret(t.Name, "URL", server, "the Rocket.Chat server's address", "https://chat.example.com")
	default:
		t.URL = server
	}
	if c.TokenFile != "" {
		file := c.TokenFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(a.dir, file)
		}
		t.SecretFile = a.fileRef(t.Name, "secret_file", file, "personal-access-token")
	} else if c.Token != nil {
		t.Secret = a.secret(t.Name, "TOKEN", string(*c.Token), "the Rocket.Chat personal access token (Alertmanager's token)", "personal-access-token")
	}
	a.note(src, "token", Imported, t.Name, "the personal access token, as the target's secret: it posts with chat.postMessage like Alertmanager")
	// user_id and room_id take no ${VARIABLE}: each is written as it is,
	// or left empty for the user to fill in (check-config asks for it).
	userID := ""
	switch {
	case c.TokenIDFile != "":
		file := c.TokenIDFile
		if !filepath.IsAbs(file) {
			file = filepath.Join(a.dir, file)
		}
		a.keyRef(t.Name, "user_id", fmt.Sprintf("the user id in %q (Alertmanager's token_id_file)", a.rel(file)), "Zm9vYmFyYmF6cXV4")
		a.note(src, "token_id_file", Todo, t.Name, "the bridge takes user_id only in the configuration: copy the user id from %q into user_id", a.rel(file))
	case c.TokenID != nil && validRocketchatID(string(*c.TokenID)):
		userID = string(*c.TokenID)
		a.note(src, "token_id", Imported, t.Name, "as user_id, written as it is (the bridge takes no variable there)")
	default:
		// Never quoted: it may be a secret put in the wrong field.
		a.keyRef(t.Name, "user_id", "the id of the token's account (My Account, Personal Access Tokens)", "Zm9vYmFyYmF6cXV4")
		a.note(src, "token_id", Todo, t.Name, "is not a Rocket.Chat user id (letters, digits, - and _) and is left out: set user_id to the id of the token's account")
	}
	t.Options["user_id"] = userID
	t.Options["room_id"] = ""
	room := "the room Alertmanager posted to"
	if c.Channel != "" && !strings.Contains(c.Channel, "{{") {
		room = fmt.Sprintf("the room %q", c.Channel)
	}
	a.keyRef(t.Name, "room_id", "the id of "+room, "GENERAL")
	switch {
	case c.Channel == "":
		a.note(src, "channel", Todo, t.Name, "none set (Alertmanager posts where the token's account is asked to): set room_id to the id of the room to post to")
	case strings.Contains(c.Channel, "{{"):
		a.note(src, "channel", NotCarried, t.Name, "a template; the API mode posts to one fixed room: set room_id to its id (make one target per room)")
	case strings.HasPrefix(c.Channel, "@"):
		a.note(src, "channel", Todo, t.Name, "the API mode posts to a room id, not a name: set room_id to the id of the direct room with %q (the rid of a message in it)", c.Channel)
	default:
		a.note(src, "channel", Todo, t.Name, "the API mode posts to a room id, not a name: set room_id to the id of %q (the _id that GET /api/v1/rooms.info?roomName=%s answers)", c.Channel, url.QueryEscape(strings.TrimPrefix(c.Channel, "#")))
	}
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	d := amDefaultRocketchat
	if c.Emoji != d.Emoji && c.Emoji != "" && !strings.Contains(c.Emoji, "{{") {
		t.Options["emoji"] = c.Emoji
	} else if c.IconURL != d.IconURL && c.IconURL != "" && !strings.Contains(c.IconURL, "{{") {
		t.Options["avatar"] = c.IconURL
	}
	if len(c.Fields) > 0 || len(c.Actions) > 0 || c.ImageURL != "" || c.ThumbURL != "" {
		a.note(src, "fields, actions, image_url, thumb_url", NotCarried, t.Name, "the bridge's Rocket.Chat messages have no equivalent")
	}
	if !customised([2]string{c.Title, d.Title}, [2]string{c.Text, d.Text}, [2]string{c.TitleLink, d.TitleLink}, [2]string{c.Color, d.Color}) {
		a.note(src, "title, text", Differs, t.Name, "Alertmanager's default templates: the bridge's Rocket.Chat preset is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"title", c.Title}, {"title_link", c.TitleLink}, {"text", c.Text}, {"color", c.Color}})
	if !ok {
		return t
	}
	t.Template = fmt.Sprintf("{\"text\": \"%s\", \"attachments\": [{\"color\": \"%s\", \"title\": \"%s\", \"title_link\": \"%s\", \"text\": \"%s\"}]}\n",
		m["title"], m["color"], m["title"], m["title_link"], m["text"])
	a.note(src, "title, text", Imported, t.Name, "the message templates, as an attachment like Alertmanager's")
	return t
}

// teamsCard is an Adaptive Card with a title and a text block.
const teamsCard = `{"type": "message", "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": null, "content": {
 "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4", "body": [
  {"type": "TextBlock", "text": "%s", "weight": "Bolder", "size": "Medium", "wrap": true},
  {"type": "TextBlock", "text": "%s", "wrap": true}], "msteams": {"width": "Full"}}}]}
`

// msteamsV1 carries an msteams_config. Office 365 connectors are retired
// and the bridge refuses their URLs: the target needs a Workflows URL.
func (a *amConv) msteamsV1(src, receiver string, c *amMSTeamsConfig) *outTarget {
	t := a.base(src, receiver, "msteams", "teams", c.SendResolved())
	t.URL = a.placeholder(t.Name, "URL", "a Teams Workflows webhook URL to create", teamsExample)
	a.note(src, "webhook_url", Todo, t.Name, "Office 365 connector URLs are retired and refused by the bridge: in the channel, create a workflow from \"Post to a channel when a webhook request is received\" and set %s", envName(t.Name, "URL"))
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if !customised([2]string{c.Title, amDefault("msteams", "title")}, [2]string{c.Text, amDefault("msteams", "text")}) {
		a.note(src, "title, text", Differs, t.Name, "Alertmanager's default templates: the bridge's Teams preset (Adaptive Card) is used")
		return t
	}
	if c.Summary != amDefault("msteams", "summary") {
		a.note(src, "summary", NotCarried, t.Name, "Adaptive Cards have no summary")
	}
	m, ok := a.message(src, t.Name, [][2]string{{"title", c.Title}, {"text", c.Text}})
	if ok {
		t.Template = fmt.Sprintf(teamsCard, m["title"], m["text"])
		a.note(src, "title, text", Imported, t.Name, "the message templates, as an Adaptive Card")
	}
	return t
}

const teamsExample = "https://prod-00.westus.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=xyz"

// msteamsV2 carries an msteamsv2_config (a Workflows URL already).
func (a *amConv) msteamsV2(src, receiver string, c *amMSTeamsV2Config) *outTarget {
	t := a.base(src, receiver, "msteamsv2", "teams", c.SendResolved())
	a.url(t, secretURL(c.WebhookURL), c.WebhookURLFile, "the Teams Workflows webhook URL", teamsExample)
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	if !customised([2]string{c.Title, amDefault("msteamsv2", "title")}, [2]string{c.Text, amDefault("msteamsv2", "text")}) {
		a.note(src, "title, text", Differs, t.Name, "Alertmanager's default templates: the bridge's Teams preset (Adaptive Card) is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"title", c.Title}, {"text", c.Text}})
	if ok {
		t.Template = fmt.Sprintf(teamsCard, m["title"], m["text"])
		a.note(src, "title, text", Imported, t.Name, "the message templates, as an Adaptive Card")
	}
	return t
}

// wechat carries a wechat_config to a WeCom group robot. Alertmanager
// sends application messages (corp id, secret, agent, users); a robot
// posts to the one group it was added to.
func (a *amConv) wechat(src, receiver string, c *amWechatConfig) *outTarget {
	t := a.base(src, receiver, "wechat", "wecom", c.SendResolved())
	t.URL = a.placeholder(t.Name, "URL", "a WeCom group robot webhook URL to create", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc")
	a.note(src, "corp_id, api_secret, agent_id, to_user, to_party, to_tag", Todo, t.Name, "Alertmanager sends WeCom application messages to users; the bridge posts through a group robot: add one to the group that should get the alerts and set %s", envName(t.Name, "URL"))
	t.HTTPConfig = a.httpConfig(src, t.Name, c.HTTPConfig)
	msgType := "text"
	if c.MessageType == "markdown" {
		msgType = "markdown"
	}
	t.Options["msg_type"] = msgType
	if c.Message == amDefaultWechat.Message {
		a.note(src, "message", Differs, t.Name, "Alertmanager's default template: the bridge's WeCom preset is used")
		return t
	}
	m, ok := a.message(src, t.Name, [][2]string{{"message", c.Message}})
	if ok {
		t.Template = fmt.Sprintf("{\"msgtype\": %q, %q: {\"content\": \"%s\"}}\n", msgType, msgType, m["message"])
		a.note(src, "message", Imported, t.Name, "the message template")
	}
	return t
}

// validRocketchatID reports whether the bridge takes s as a user_id.
func validRocketchatID(s string) bool {
	o := rocketchat.Options{UserID: s}
	return s != "" && o.Validate() == nil
}
