package importer

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	// The YAML library Alertmanager's config package parses with (it is
	// in the binary anyway, through Alertmanager's template package), so
	// values such as a payload decode exactly as Alertmanager decodes them.
	yaml "gopkg.in/yaml.v2"
)

// This file parses an alertmanager.yml with the importer's own types
// instead of github.com/prometheus/alertmanager/config, which would link
// every Alertmanager notifier (with the AWS SDK and gRPC) into the bridge.
//
// The types mirror Alertmanager v0.34.2 (the version in go.mod) for what
// the importer reads: the global settings its integrations inherit, the
// template globs, the receivers' names, and the nine integrations it
// converts, field for field, with Alertmanager's defaults, global
// inheritance, path resolution and checks. The oracle test in
// amconfig_test.go loads Alertmanager's example files with both and
// compares the results, and compares each default below with
// Alertmanager's, so a version bump that changes them fails a test.
//
// What the importer does not read is not checked: the route tree, inhibit
// rules, time intervals, tracing, the event recorder, the global settings
// of other integrations, and the contents of the integrations the bridge
// has no target type for (only their count per receiver is read, for the
// report). See docs/migrating.md.

// Alertmanager v0.34.2's defaults for the fields the converters compare
// with (notify/*/config.go and config/notifiers.go, Default*Config) and
// the global URLs (config/config.go, DefaultGlobalConfig).
const (
	amDefaultTelegramAPIURL   = "https://api.telegram.org"
	amDefaultWeChatAPIURL     = "https://qyapi.weixin.qq.com/cgi-bin/"
	amDefaultRocketchatAPIURL = "https://open.rocket.chat/"
	amDefaultSlackAppURL      = "https://slack.com/api/chat.postMessage"
	amTelegramParseMode       = "HTML"
	amSecretToken             = "<secret>"
)

// amTemplate is Alertmanager's default template text for a field.
func amTemplate(name string) string { return `{{ template "` + name + `" . }}` }

var (
	amDefaultWebhook = amWebhookConfig{amNotifier: amNotifier{VSendResolved: true}}
	amDefaultSlack   = amSlackConfig{
		amNotifier: amNotifier{VSendResolved: false},
		Color:      amTemplate("slack.default.color"),
		Username:   amTemplate("slack.default.username"),
		Title:      amTemplate("slack.default.title"),
		TitleLink:  amTemplate("slack.default.titlelink"),
		IconEmoji:  amTemplate("slack.default.iconemoji"),
		IconURL:    amTemplate("slack.default.iconurl"),
		Pretext:    amTemplate("slack.default.pretext"),
		Text:       amTemplate("slack.default.text"),
		Fallback:   amTemplate("slack.default.fallback"),
		CallbackID: amTemplate("slack.default.callbackid"),
		Footer:     amTemplate("slack.default.footer"),
	}
	amDefaultDiscord = amDiscordConfig{
		amNotifier: amNotifier{VSendResolved: true},
		Title:      amTemplate("discord.default.title"),
		Message:    amTemplate("discord.default.message"),
	}
	amDefaultTelegram = amTelegramConfig{
		amNotifier: amNotifier{VSendResolved: true},
		Message:    amTemplate("telegram.default.message"),
		ParseMode:  amTelegramParseMode,
	}
	amDefaultMattermost = amMattermostConfig{
		amNotifier: amNotifier{VSendResolved: true},
		Username:   amTemplate("mattermost.default.username"),
		Color:      amTemplate("mattermost.default.color"),
		Text:       amTemplate("mattermost.default.text"),
		Title:      amTemplate("mattermost.default.title"),
		TitleLink:  amTemplate("mattermost.default.titlelink"),
		Fallback:   amTemplate("mattermost.default.fallback"),
	}
	amDefaultRocketchat = amRocketchatConfig{
		amNotifier: amNotifier{VSendResolved: false},
		Color:      `{{ if eq .Status "firing" }}red{{ else }}green{{ end }}`,
		Emoji:      amTemplate("rocketchat.default.emoji"),
		IconURL:    amTemplate("rocketchat.default.iconurl"),
		Text:       amTemplate("rocketchat.default.text"),
		Title:      amTemplate("rocketchat.default.title"),
		TitleLink:  amTemplate("rocketchat.default.titlelink"),
	}
	amDefaultMSTeams = amMSTeamsConfig{
		amNotifier: amNotifier{VSendResolved: true},
		Title:      amTemplate("msteams.default.title"),
		Summary:    amTemplate("msteams.default.summary"),
		Text:       amTemplate("msteams.default.text"),
	}
	amDefaultMSTeamsV2 = amMSTeamsV2Config{
		amNotifier: amNotifier{VSendResolved: true},
		Title:      amTemplate("msteamsv2.default.title"),
		Text:       amTemplate("msteamsv2.default.text"),
	}
	amDefaultWechat = amWechatConfig{
		amNotifier: amNotifier{VSendResolved: false},
		Message:    amTemplate("wechat.default.message"),
		ToUser:     amTemplate("wechat.default.to_user"),
		ToParty:    amTemplate("wechat.default.to_party"),
		ToTag:      amTemplate("wechat.default.to_tag"),
		AgentID:    amTemplate("wechat.default.agent_id"),
	}
)

// amDefaultGlobal is Alertmanager's global section when the file has none
// (only the settings the importer reads have values).
func amDefaultGlobal() amGlobal {
	hc := commoncfg.DefaultHTTPClientConfig
	return amGlobal{
		HTTPConfig:       &hc,
		WeChatAPIURL:     amMustParseURL(amDefaultWeChatAPIURL),
		TelegramAPIUrl:   amMustParseURL(amDefaultTelegramAPIURL),
		RocketchatAPIURL: amMustParseURL(amDefaultRocketchatAPIURL),
		SlackAppURL:      amMustParseURL(amDefaultSlackAppURL),
	}
}

// amConfig is an alertmanager.yml. Unknown top-level keys are refused, as
// Alertmanager refuses them; the sections the importer does not read are
// accepted as they are.
type amConfig struct {
	Global    *amGlobal     `yaml:"global,omitempty"`
	Receivers []*amReceiver `yaml:"receivers,omitempty"`
	Templates []string      `yaml:"templates"`

	Route             any `yaml:"route,omitempty"`
	InhibitRules      any `yaml:"inhibit_rules,omitempty"`
	MuteTimeIntervals any `yaml:"mute_time_intervals,omitempty"`
	TimeIntervals     any `yaml:"time_intervals,omitempty"`
	Tracing           any `yaml:"tracing,omitempty"`
	EventRecorder     any `yaml:"event_recorder,omitempty"`
}

// amGlobal is the global section: typed where the importer reads a
// setting, any where it does not (the key is still checked).
type amGlobal struct {
	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`

	SlackAPIURL              *amSecretURL      `yaml:"slack_api_url,omitempty"`
	SlackAPIURLFile          string            `yaml:"slack_api_url_file,omitempty"`
	SlackAppToken            commoncfg.Secret  `yaml:"slack_app_token,omitempty"`
	SlackAppTokenFile        string            `yaml:"slack_app_token_file,omitempty"`
	SlackAppURL              *amURL            `yaml:"slack_app_url,omitempty"`
	WeChatAPIURL             *amURL            `yaml:"wechat_api_url,omitempty"`
	WeChatAPISecret          commoncfg.Secret  `yaml:"wechat_api_secret,omitempty"`
	WeChatAPISecretFile      string            `yaml:"wechat_api_secret_file,omitempty"`
	WeChatAPICorpID          string            `yaml:"wechat_api_corp_id,omitempty"`
	TelegramAPIUrl           *amURL            `yaml:"telegram_api_url,omitempty"`
	TelegramBotToken         commoncfg.Secret  `yaml:"telegram_bot_token,omitempty"`
	TelegramBotTokenFile     string            `yaml:"telegram_bot_token_file,omitempty"`
	RocketchatAPIURL         *amURL            `yaml:"rocketchat_api_url,omitempty"`
	RocketchatToken          *commoncfg.Secret `yaml:"rocketchat_token,omitempty"`
	RocketchatTokenFile      string            `yaml:"rocketchat_token_file,omitempty"`
	RocketchatTokenID        *commoncfg.Secret `yaml:"rocketchat_token_id,omitempty"`
	RocketchatTokenIDFile    string            `yaml:"rocketchat_token_id_file,omitempty"`
	MattermostWebhookURL     *amSecretURL      `yaml:"mattermost_webhook_url,omitempty"`
	MattermostWebhookURLFile string            `yaml:"mattermost_webhook_url_file,omitempty"`

	// Not read by the importer.
	ResolveTimeout       any `yaml:"resolve_timeout,omitempty"`
	JiraAPIURL           any `yaml:"jira_api_url,omitempty"`
	SMTPFrom             any `yaml:"smtp_from,omitempty"`
	SMTPHello            any `yaml:"smtp_hello,omitempty"`
	SMTPSmarthost        any `yaml:"smtp_smarthost,omitempty"`
	SMTPAuthUsername     any `yaml:"smtp_auth_username,omitempty"`
	SMTPAuthPassword     any `yaml:"smtp_auth_password,omitempty"`
	SMTPAuthPasswordFile any `yaml:"smtp_auth_password_file,omitempty"`
	SMTPAuthSecret       any `yaml:"smtp_auth_secret,omitempty"`
	SMTPAuthSecretFile   any `yaml:"smtp_auth_secret_file,omitempty"`
	SMTPAuthIdentity     any `yaml:"smtp_auth_identity,omitempty"`
	SMTPRequireTLS       any `yaml:"smtp_require_tls,omitempty"`
	SMTPTLSConfig        any `yaml:"smtp_tls_config,omitempty"`
	SMTPForceImplicitTLS any `yaml:"smtp_force_implicit_tls,omitempty"`
	PagerdutyURL         any `yaml:"pagerduty_url,omitempty"`
	OpsGenieAPIURL       any `yaml:"opsgenie_api_url,omitempty"`
	OpsGenieAPIKey       any `yaml:"opsgenie_api_key,omitempty"`
	OpsGenieAPIKeyFile   any `yaml:"opsgenie_api_key_file,omitempty"`
	VictorOpsAPIURL      any `yaml:"victorops_api_url,omitempty"`
	VictorOpsAPIKey      any `yaml:"victorops_api_key,omitempty"`
	VictorOpsAPIKeyFile  any `yaml:"victorops_api_key_file,omitempty"`
	WebexAPIURL          any `yaml:"webex_api_url,omitempty"`
}

func (c *amGlobal) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultGlobal()
	type plain amGlobal
	return unmarshal((*plain)(c))
}

// amReceiver is one receiver: the integrations the importer converts,
// typed, and the others by key (integrations the bridge has no target
// type for, counted for the report).
type amReceiver struct {
	Name   string            `yaml:"name"`
	Labels map[string]string `yaml:"labels,omitempty"`

	DiscordConfigs    []*amDiscordConfig    `yaml:"discord_configs,omitempty"`
	SlackConfigs      []*amSlackConfig      `yaml:"slack_configs,omitempty"`
	WebhookConfigs    []*amWebhookConfig    `yaml:"webhook_configs,omitempty"`
	WechatConfigs     []*amWechatConfig     `yaml:"wechat_configs,omitempty"`
	TelegramConfigs   []*amTelegramConfig   `yaml:"telegram_configs,omitempty"`
	MSTeamsConfigs    []*amMSTeamsConfig    `yaml:"msteams_configs,omitempty"`
	MSTeamsV2Configs  []*amMSTeamsV2Config  `yaml:"msteamsv2_configs,omitempty"`
	RocketchatConfigs []*amRocketchatConfig `yaml:"rocketchat_configs,omitempty"`
	MattermostConfigs []*amMattermostConfig `yaml:"mattermost_configs,omitempty"`

	// Other holds the remaining keys; Unsupported counts the entries of
	// those that are integrations (*_configs).
	Other       map[string]any `yaml:",inline"`
	Unsupported map[string]int `yaml:"-"`
}

func (c *amReceiver) UnmarshalYAML(unmarshal func(any) error) error {
	type plain amReceiver
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Name == "" {
		return errors.New("missing name in receiver")
	}
	c.Unsupported = map[string]int{}
	for _, k := range sortedKeys(c.Other) {
		if !strings.HasSuffix(k, "_configs") {
			return fmt.Errorf("field %s not found in receiver %q", k, c.Name)
		}
		switch v := c.Other[k].(type) {
		case nil:
		case []any:
			c.Unsupported[k] = len(v)
		default:
			return fmt.Errorf("receiver %q: %s is not a list", c.Name, k)
		}
	}
	if c.Labels == nil {
		c.Labels = map[string]string{}
	}
	if v, ok := c.Labels["name"]; ok && v != c.Name {
		return fmt.Errorf("receiver label \"name\" must match receiver name %q, got %q", c.Name, v)
	}
	c.Labels["name"] = c.Name
	return nil
}

// amNotifier is the setting every integration has.
type amNotifier struct {
	VSendResolved bool `yaml:"send_resolved"`
}

func (n *amNotifier) SendResolved() bool { return n.VSendResolved }

// amURL is an http or https URL (Alertmanager's config/common.URL).
type amURL struct {
	*url.URL
}

func (u *amURL) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	p, err := amParseURL(s)
	if err != nil {
		return err
	}
	u.URL = p.URL
	return nil
}

// amSecretURL is a URL that may be given as "<secret>" (an empty URL).
type amSecretURL amURL

func (s *amSecretURL) UnmarshalYAML(unmarshal func(any) error) error {
	var str string
	if err := unmarshal(&str); err != nil {
		return err
	}
	if str == amSecretToken {
		s.URL = &url.URL{}
		return nil
	}
	return unmarshal((*amURL)(s))
}

// amSecretTemplateURL is a webhook URL: a template, or else a URL.
type amSecretTemplateURL commoncfg.Secret

func (s *amSecretTemplateURL) UnmarshalYAML(unmarshal func(any) error) error {
	type plain commoncfg.Secret
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	str := string(*s)
	if str == "" || str == amSecretToken {
		return nil
	}
	if strings.Contains(str, "{{") {
		if _, err := htmltemplate.New("").Parse(str); err != nil {
			return fmt.Errorf("invalid template syntax: %w", err)
		}
		return nil
	}
	if _, err := amParseURL(str); err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	return nil
}

func amMustParseURL(s string) *amURL {
	u, err := amParseURL(s)
	if err != nil {
		panic(err)
	}
	return u
}

func amParseURL(s string) (*amURL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("unsupported scheme %q for URL", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("missing host for URL")
	}
	return &amURL{u}, nil
}

type amWebhookConfig struct {
	amNotifier `yaml:",inline"`
	HTTPConfig *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	URL        amSecretTemplateURL         `yaml:"url,omitempty"`
	URLFile    string                      `yaml:"url_file"`
	MaxAlerts  uint64                      `yaml:"max_alerts"`
	Timeout    time.Duration               `yaml:"timeout"`
	Payload    any                         `yaml:"payload,omitempty"`
}

func (c *amWebhookConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultWebhook
	type plain amWebhookConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.URL == "" && c.URLFile == "" {
		return errors.New("one of url or url_file must be configured")
	}
	if c.URL != "" && c.URLFile != "" {
		return errors.New("at most one of url & url_file must be configured")
	}
	return nil
}

type amSlackAction struct {
	Type         string                    `yaml:"type,omitempty"`
	Text         string                    `yaml:"text,omitempty"`
	URL          string                    `yaml:"url,omitempty"`
	Style        string                    `yaml:"style,omitempty"`
	Name         string                    `yaml:"name,omitempty"`
	Value        string                    `yaml:"value,omitempty"`
	ConfirmField *amSlackConfirmationField `yaml:"confirm,omitempty"`
}

func (c *amSlackAction) UnmarshalYAML(unmarshal func(any) error) error {
	type plain amSlackAction
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Type == "" {
		return errors.New("missing type in Slack action configuration")
	}
	if c.Text == "" {
		return errors.New("missing text in Slack action configuration")
	}
	if c.URL != "" {
		c.Name = ""
		c.Value = ""
		c.ConfirmField = nil
	} else if c.Name != "" {
		c.URL = ""
	} else {
		return errors.New("missing name or url in Slack action configuration")
	}
	return nil
}

type amSlackConfirmationField struct {
	Text        string `yaml:"text,omitempty"`
	Title       string `yaml:"title,omitempty"`
	OkText      string `yaml:"ok_text,omitempty"`
	DismissText string `yaml:"dismiss_text,omitempty"`
}

func (c *amSlackConfirmationField) UnmarshalYAML(unmarshal func(any) error) error {
	type plain amSlackConfirmationField
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Text == "" {
		return errors.New("missing text in Slack confirmation configuration")
	}
	return nil
}

type amSlackField struct {
	Title string `yaml:"title,omitempty"`
	Value string `yaml:"value,omitempty"`
	Short *bool  `yaml:"short,omitempty"`
}

func (c *amSlackField) UnmarshalYAML(unmarshal func(any) error) error {
	type plain amSlackField
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Title == "" {
		return errors.New("missing title in Slack field configuration")
	}
	if c.Value == "" {
		return errors.New("missing value in Slack field configuration")
	}
	return nil
}

type amSlackConfig struct {
	amNotifier   `yaml:",inline"`
	HTTPConfig   *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	APIURL       *amSecretURL                `yaml:"api_url,omitempty"`
	APIURLFile   string                      `yaml:"api_url_file,omitempty"`
	AppToken     commoncfg.Secret            `yaml:"app_token,omitempty"`
	AppTokenFile string                      `yaml:"app_token_file,omitempty"`
	AppURL       *amURL                      `yaml:"app_url,omitempty"`

	Channel       string           `yaml:"channel,omitempty"`
	Username      string           `yaml:"username,omitempty"`
	Color         string           `yaml:"color,omitempty"`
	Title         string           `yaml:"title,omitempty"`
	TitleLink     string           `yaml:"title_link,omitempty"`
	Pretext       string           `yaml:"pretext,omitempty"`
	Text          string           `yaml:"text,omitempty"`
	MessageText   string           `yaml:"message_text,omitempty"`
	Fields        []*amSlackField  `yaml:"fields,omitempty"`
	ShortFields   bool             `yaml:"short_fields"`
	Footer        string           `yaml:"footer,omitempty"`
	Fallback      string           `yaml:"fallback,omitempty"`
	CallbackID    string           `yaml:"callback_id,omitempty"`
	IconEmoji     string           `yaml:"icon_emoji,omitempty"`
	IconURL       string           `yaml:"icon_url,omitempty"`
	ImageURL      string           `yaml:"image_url,omitempty"`
	ThumbURL      string           `yaml:"thumb_url,omitempty"`
	LinkNames     bool             `yaml:"link_names"`
	MrkdwnIn      []string         `yaml:"mrkdwn_in,omitempty"`
	Actions       []*amSlackAction `yaml:"actions,omitempty"`
	UpdateMessage bool             `yaml:"update_message"`
	Timeout       time.Duration    `yaml:"timeout"`
}

func (c *amSlackConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultSlack
	type plain amSlackConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.APIURL != nil && len(c.APIURLFile) > 0 {
		return errors.New("at most one of api_url & api_url_file must be configured")
	}
	if c.AppToken != "" && len(c.AppTokenFile) > 0 {
		return errors.New("at most one of app_token & app_token_file must be configured")
	}
	if (c.APIURL != nil || len(c.APIURLFile) > 0) && (c.AppToken != "" || len(c.AppTokenFile) > 0) {
		return errors.New("at most one of api_url/api_url_file & app_token/app_token_file must be configured")
	}
	if c.UpdateMessage && (c.APIURL == nil || c.APIURL.String() != amDefaultSlackAppURL) {
		return errors.New("update_message can only be used with bot tokens. api_url must be set to https://slack.com/api/chat.postMessage")
	}
	return nil
}

type amWechatConfig struct {
	amNotifier    `yaml:",inline"`
	HTTPConfig    *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	APISecret     commoncfg.Secret            `yaml:"api_secret,omitempty"`
	APISecretFile string                      `yaml:"api_secret_file,omitempty"`
	CorpID        string                      `yaml:"corp_id,omitempty"`
	Message       string                      `yaml:"message,omitempty"`
	APIURL        *amURL                      `yaml:"api_url,omitempty"`
	ToUser        string                      `yaml:"to_user,omitempty"`
	ToParty       string                      `yaml:"to_party,omitempty"`
	ToTag         string                      `yaml:"to_tag,omitempty"`
	AgentID       string                      `yaml:"agent_id,omitempty"`
	MessageType   string                      `yaml:"message_type,omitempty"`
}

var amWechatTypes = regexp.MustCompile(`^(text|markdown)$`)

func (c *amWechatConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultWechat
	type plain amWechatConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.MessageType == "" {
		c.MessageType = "text"
	}
	if !amWechatTypes.MatchString(c.MessageType) {
		return fmt.Errorf("weChat message type %q does not match valid options %s", c.MessageType, amWechatTypes)
	}
	if c.APISecret != "" && len(c.APISecretFile) > 0 {
		return errors.New("at most one of api_secret & api_secret_file must be configured")
	}
	return nil
}

// amRocketchatAttachmentField and amRocketchatAttachmentAction have no
// yaml tags in Alertmanager either: their keys are the lowercased field
// names.
type amRocketchatAttachmentField struct {
	Short *bool
	Title string
	Value string
}

type amRocketchatAttachmentAction struct {
	Type               string
	Text               string
	URL                string
	ImageURL           string
	IsWebView          bool
	WebviewHeightRatio string
	Msg                string
	MsgInChatWindow    bool
	MsgProcessingType  string
}

type amRocketchatConfig struct {
	amNotifier  `yaml:",inline"`
	HTTPConfig  *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	APIURL      *amURL                      `yaml:"api_url,omitempty"`
	TokenID     *commoncfg.Secret           `yaml:"token_id,omitempty"`
	TokenIDFile string                      `yaml:"token_id_file,omitempty"`
	Token       *commoncfg.Secret           `yaml:"token,omitempty"`
	TokenFile   string                      `yaml:"token_file,omitempty"`

	Channel     string                          `yaml:"channel,omitempty"`
	Color       string                          `yaml:"color,omitempty"`
	Title       string                          `yaml:"title,omitempty"`
	TitleLink   string                          `yaml:"title_link,omitempty"`
	Text        string                          `yaml:"text,omitempty"`
	Fields      []*amRocketchatAttachmentField  `yaml:"fields,omitempty"`
	ShortFields bool                            `yaml:"short_fields"`
	Emoji       string                          `yaml:"emoji,omitempty"`
	IconURL     string                          `yaml:"icon_url,omitempty"`
	ImageURL    string                          `yaml:"image_url,omitempty"`
	ThumbURL    string                          `yaml:"thumb_url,omitempty"`
	LinkNames   bool                            `yaml:"link_names"`
	Actions     []*amRocketchatAttachmentAction `yaml:"actions,omitempty"`
}

func (c *amRocketchatConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultRocketchat
	type plain amRocketchatConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Token != nil && len(c.TokenFile) > 0 {
		return errors.New("at most one of token & token_file must be configured")
	}
	if c.TokenID != nil && len(c.TokenIDFile) > 0 {
		return errors.New("at most one of token_id & token_id_file must be configured")
	}
	return nil
}

type amDiscordConfig struct {
	amNotifier     `yaml:",inline"`
	HTTPConfig     *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	WebhookURL     *amSecretURL                `yaml:"webhook_url,omitempty"`
	WebhookURLFile string                      `yaml:"webhook_url_file,omitempty"`
	Content        string                      `yaml:"content,omitempty"`
	Title          string                      `yaml:"title,omitempty"`
	Message        string                      `yaml:"message,omitempty"`
	Username       string                      `yaml:"username,omitempty"`
	AvatarURL      string                      `yaml:"avatar_url,omitempty"`
}

func (c *amDiscordConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultDiscord
	type plain amDiscordConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	return amOneOf("webhook_url", c.WebhookURL != nil, "webhook_url_file", c.WebhookURLFile != "")
}

// amOneOf is Alertmanager's check that exactly one of two keys is set.
func amOneOf(a string, hasA bool, b string, hasB bool) error {
	if !hasA && !hasB {
		return fmt.Errorf("one of %s or %s must be configured", a, b)
	}
	if hasA && hasB {
		return fmt.Errorf("at most one of %s & %s must be configured", a, b)
	}
	return nil
}

type amTelegramConfig struct {
	amNotifier           `yaml:",inline"`
	HTTPConfig           *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	APIUrl               *amURL                      `yaml:"api_url"`
	BotToken             commoncfg.Secret            `yaml:"bot_token,omitempty"`
	BotTokenFile         string                      `yaml:"bot_token_file,omitempty"`
	ChatID               int64                       `yaml:"chat_id,omitempty"`
	ChatIDFile           string                      `yaml:"chat_id_file,omitempty"`
	MessageThreadID      int                         `yaml:"message_thread_id,omitempty"`
	Message              string                      `yaml:"message,omitempty"`
	DisableNotifications bool                        `yaml:"disable_notifications,omitempty"`
	ParseMode            string                      `yaml:"parse_mode,omitempty"`
}

func (c *amTelegramConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultTelegram
	type plain amTelegramConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.BotToken != "" && c.BotTokenFile != "" {
		return errors.New("at most one of bot_token & bot_token_file must be configured")
	}
	if c.ChatID == 0 && c.ChatIDFile == "" {
		return errors.New("missing chat_id or chat_id_file on telegram_config")
	}
	if c.ChatID != 0 && c.ChatIDFile != "" {
		return errors.New("at most one of chat_id & chat_id_file must be configured")
	}
	switch c.ParseMode {
	case "", "Markdown", "MarkdownV2", "HTML":
	default:
		return errors.New("unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string")
	}
	return nil
}

type amMattermostPriority struct {
	Priority                string `yaml:"priority,omitempty"`
	RequestedAck            bool   `yaml:"requested_ack,omitempty"`
	PersistentNotifications bool   `yaml:"persistent_notifications,omitempty"`
}

type amMattermostProps struct {
	Card string `yaml:"card,omitempty"`
}

type amMattermostField struct {
	Title string `yaml:"title,omitempty"`
	Value string `yaml:"value,omitempty"`
	Short *bool  `yaml:"short,omitempty"`
}

func (c *amMattermostField) UnmarshalYAML(unmarshal func(any) error) error {
	type plain amMattermostField
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.Title == "" {
		return errors.New("missing title in Mattermost field configuration")
	}
	if c.Value == "" {
		return errors.New("missing value in Mattermost field configuration")
	}
	return nil
}

type amMattermostAttachment struct {
	Fallback   string               `yaml:"fallback,omitempty"`
	Color      string               `yaml:"color,omitempty"`
	Pretext    string               `yaml:"pretext,omitempty"`
	Text       string               `yaml:"text,omitempty"`
	AuthorName string               `yaml:"author_name,omitempty"`
	AuthorLink string               `yaml:"author_link,omitempty"`
	AuthorIcon string               `yaml:"author_icon,omitempty"`
	Title      string               `yaml:"title,omitempty"`
	TitleLink  string               `yaml:"title_link,omitempty"`
	Fields     []*amMattermostField `yaml:"fields,omitempty"`
	ThumbURL   string               `yaml:"thumb_url,omitempty"`
	Footer     string               `yaml:"footer,omitempty"`
	FooterIcon string               `yaml:"footer_icon,omitempty"`
	ImageURL   string               `yaml:"image_url,omitempty"`
}

type amMattermostConfig struct {
	amNotifier     `yaml:",inline"`
	HTTPConfig     *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	WebhookURL     *amSecretURL                `yaml:"webhook_url,omitempty"`
	WebhookURLFile string                      `yaml:"webhook_url_file,omitempty"`

	Channel     string                    `yaml:"channel,omitempty"`
	Username    string                    `yaml:"username,omitempty"`
	Text        string                    `yaml:"text,omitempty"`
	Fallback    string                    `yaml:"fallback,omitempty"`
	Color       string                    `yaml:"color,omitempty"`
	Pretext     string                    `yaml:"pretext,omitempty"`
	AuthorName  string                    `yaml:"author_name,omitempty"`
	AuthorLink  string                    `yaml:"author_link,omitempty"`
	AuthorIcon  string                    `yaml:"author_icon,omitempty"`
	Title       string                    `yaml:"title,omitempty"`
	TitleLink   string                    `yaml:"title_link,omitempty"`
	Fields      []*amMattermostField      `yaml:"fields,omitempty"`
	ThumbURL    string                    `yaml:"thumb_url,omitempty"`
	Footer      string                    `yaml:"footer,omitempty"`
	FooterIcon  string                    `yaml:"footer_icon,omitempty"`
	ImageURL    string                    `yaml:"image_url,omitempty"`
	IconURL     string                    `yaml:"icon_url,omitempty"`
	IconEmoji   string                    `yaml:"icon_emoji,omitempty"`
	Attachments []*amMattermostAttachment `yaml:"attachments,omitempty"`
	Type        string                    `yaml:"type,omitempty"`
	Props       *amMattermostProps        `yaml:"props,omitempty"`
	Priority    *amMattermostPriority     `yaml:"priority,omitempty"`
}

func (c *amMattermostConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultMattermost
	type plain amMattermostConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	if c.WebhookURL != nil && len(c.WebhookURLFile) > 0 {
		return errors.New("at most one of webhook_url & webhook_url_file must be configured")
	}
	return nil
}

type amMSTeamsConfig struct {
	amNotifier     `yaml:",inline"`
	HTTPConfig     *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	WebhookURL     *amSecretURL                `yaml:"webhook_url,omitempty"`
	WebhookURLFile string                      `yaml:"webhook_url_file,omitempty"`
	Title          string                      `yaml:"title,omitempty"`
	Summary        string                      `yaml:"summary,omitempty"`
	Text           string                      `yaml:"text,omitempty"`
}

func (c *amMSTeamsConfig) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultMSTeams
	type plain amMSTeamsConfig
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	return amOneOf("webhook_url", c.WebhookURL != nil, "webhook_url_file", c.WebhookURLFile != "")
}

type amMSTeamsV2Config struct {
	amNotifier     `yaml:",inline"`
	HTTPConfig     *commoncfg.HTTPClientConfig `yaml:"http_config,omitempty"`
	WebhookURL     *amSecretURL                `yaml:"webhook_url,omitempty"`
	WebhookURLFile string                      `yaml:"webhook_url_file,omitempty"`
	Title          string                      `yaml:"title,omitempty"`
	Text           string                      `yaml:"text,omitempty"`
}

func (c *amMSTeamsV2Config) UnmarshalYAML(unmarshal func(any) error) error {
	*c = amDefaultMSTeamsV2
	type plain amMSTeamsV2Config
	if err := unmarshal((*plain)(c)); err != nil {
		return err
	}
	return amOneOf("webhook_url", c.WebhookURL != nil, "webhook_url_file", c.WebhookURLFile != "")
}

// amLoadFile reads an alertmanager.yml as Alertmanager's config.LoadFile
// does, for the parts the importer reads.
func amLoadFile(path string) (*amConfig, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	cfg := &amConfig{}
	if err := yaml.UnmarshalStrict(b, cfg); err != nil {
		return nil, err
	}
	if err := cfg.inherit(); err != nil {
		return nil, err
	}
	cfg.resolvePaths(filepath.Dir(path))
	return cfg, nil
}

// firstOr is cmp.Or for pointers: a, or else b.
func firstOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

func firstString[S ~string](a, b S) S {
	if a != "" {
		return a
	}
	return b
}

// inherit applies Alertmanager's global checks and the global settings
// each integration inherits (Config.UnmarshalYAML in config/config.go), in
// its order.
func (c *amConfig) inherit() error {
	if c.Global == nil {
		g := amDefaultGlobal()
		c.Global = &g
	}
	g := c.Global
	if err := amAtMostOne(g.SlackAppToken != "", len(g.SlackAppTokenFile) > 0, "slack_app_token & slack_app_token_file"); err != nil {
		return err
	}
	if err := amAtMostOne(g.SlackAPIURL != nil, len(g.SlackAPIURLFile) > 0, "slack_api_url & slack_api_url_file"); err != nil {
		return err
	}
	if (g.SlackAppToken != "" || len(g.SlackAppTokenFile) > 0) && (g.SlackAPIURL != nil || len(g.SlackAPIURLFile) > 0) {
		if (*amURL)(g.SlackAPIURL).urlString() != g.SlackAppURL.urlString() {
			return errors.New("at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured")
		}
	}
	for _, err := range []error{
		amAtMostOne(g.TelegramBotToken != "", len(g.TelegramBotTokenFile) > 0, "telegram_bot_token & telegram_bot_token_file"),
		amAtMostOne(g.RocketchatToken != nil, len(g.RocketchatTokenFile) > 0, "rocketchat_token & rocketchat_token_file"),
		amAtMostOne(g.RocketchatTokenID != nil, len(g.RocketchatTokenIDFile) > 0, "rocketchat_token_id & rocketchat_token_id_file"),
		amAtMostOne(g.WeChatAPISecret != "", len(g.WeChatAPISecretFile) > 0, "wechat_api_secret & wechat_api_secret_file"),
		amAtMostOne(g.MattermostWebhookURL != nil, len(g.MattermostWebhookURLFile) > 0, "mattermost_webhook_url & mattermost_webhook_url_file"),
	} {
		if err != nil {
			return err
		}
	}
	names := map[string]bool{}
	for _, r := range c.Receivers {
		if r == nil {
			return errors.New("missing name in receiver")
		}
		if names[r.Name] {
			return fmt.Errorf("notification config name %q is not unique", r.Name)
		}
		if err := r.inherit(g); err != nil {
			return err
		}
		names[r.Name] = true
	}
	return nil
}

// urlString is the URL's text, "" for none.
func (u *amURL) urlString() string {
	if u == nil || u.URL == nil {
		return ""
	}
	return u.URL.String()
}

// amAtMostOne refuses two settings that exclude each other.
func amAtMostOne(a, b bool, names string) error {
	if a && b {
		return fmt.Errorf("at most one of %s must be configured", names)
	}
	return nil
}

// missing refuses a null list entry. (Alertmanager refuses most; for a
// few integrations it keeps the entry and would fail later.)
func missing(kind string) error { return fmt.Errorf("missing %s config", kind) }

func (r *amReceiver) inherit(g *amGlobal) error {
	for _, wh := range r.WebhookConfigs {
		if wh == nil {
			return missing("webhook")
		}
		wh.HTTPConfig = firstOr(wh.HTTPConfig, g.HTTPConfig)
	}
	for _, sc := range r.SlackConfigs {
		if sc == nil {
			return missing("slack")
		}
		sc.AppURL = firstOr(sc.AppURL, g.SlackAppURL)
		if sc.AppURL == nil {
			return errors.New("no global Slack App URL set")
		}
		if sc.AppToken == "" && len(sc.AppTokenFile) == 0 && (sc.HTTPConfig == nil || sc.HTTPConfig.Authorization == nil) && sc.APIURL == nil {
			sc.AppToken = g.SlackAppToken
			sc.AppTokenFile = g.SlackAppTokenFile
		}
		if sc.APIURL == nil && len(sc.APIURLFile) == 0 {
			sc.APIURL = g.SlackAPIURL
			sc.APIURLFile = g.SlackAPIURLFile
		}
		if sc.APIURL == nil && len(sc.APIURLFile) == 0 && sc.AppToken == "" && len(sc.AppTokenFile) == 0 {
			return errors.New("no Slack API URL nor App token set either inline or in a file")
		}
		if sc.HTTPConfig == nil {
			hc := *g.HTTPConfig
			sc.HTTPConfig = &hc
		}
		if sc.AppToken != "" || len(sc.AppTokenFile) != 0 {
			if sc.HTTPConfig.Authorization != nil {
				return errors.New("http authorization can't be set when using Slack App tokens")
			}
			sc.HTTPConfig.Authorization = &commoncfg.Authorization{
				Type:            "Bearer",
				Credentials:     sc.AppToken,
				CredentialsFile: sc.AppTokenFile,
			}
			sc.APIURL = (*amSecretURL)(sc.AppURL)
		}
	}
	for _, wcc := range r.WechatConfigs {
		if wcc == nil {
			return missing("wechat")
		}
		wcc.HTTPConfig = firstOr(wcc.HTTPConfig, g.HTTPConfig)
		wcc.APIURL = firstOr(wcc.APIURL, g.WeChatAPIURL)
		if wcc.APIURL == nil {
			return errors.New("no global Wechat URL set")
		}
		if wcc.APISecret == "" && len(wcc.APISecretFile) == 0 {
			if g.WeChatAPISecret == "" && len(g.WeChatAPISecretFile) == 0 {
				return errors.New("no global Wechat Api Secret set either inline or in a file")
			}
			wcc.APISecret = g.WeChatAPISecret
			wcc.APISecretFile = g.WeChatAPISecretFile
		}
		wcc.CorpID = firstString(wcc.CorpID, g.WeChatAPICorpID)
		if wcc.CorpID == "" {
			return errors.New("no global Wechat CorpID set")
		}
		if !strings.HasSuffix(wcc.APIURL.Path, "/") {
			u := *wcc.APIURL.URL
			u.Path += "/"
			wcc.APIURL = &amURL{&u}
		}
	}
	for _, tc := range r.TelegramConfigs {
		if tc == nil {
			return missing("telegram")
		}
		tc.HTTPConfig = firstOr(tc.HTTPConfig, g.HTTPConfig)
		tc.APIUrl = firstOr(tc.APIUrl, g.TelegramAPIUrl)
		if tc.BotToken == "" && len(tc.BotTokenFile) == 0 {
			if g.TelegramBotToken == "" && len(g.TelegramBotTokenFile) == 0 {
				return errors.New("missing bot_token or bot_token_file on telegram_config")
			}
			tc.BotToken = g.TelegramBotToken
			tc.BotTokenFile = g.TelegramBotTokenFile
		}
	}
	for _, dc := range r.DiscordConfigs {
		if dc == nil {
			return missing("discord")
		}
		dc.HTTPConfig = firstOr(dc.HTTPConfig, g.HTTPConfig)
	}
	for _, mc := range r.MSTeamsConfigs {
		if mc == nil {
			return missing("msteams")
		}
		mc.HTTPConfig = firstOr(mc.HTTPConfig, g.HTTPConfig)
	}
	for _, mc := range r.MSTeamsV2Configs {
		if mc == nil {
			return missing("msteamsv2")
		}
		if mc.HTTPConfig == nil {
			hc := *g.HTTPConfig
			mc.HTTPConfig = &hc
		} else if mc.HTTPConfig.ProxyURL.URL == nil {
			// Alertmanager inherits only the global proxy_url into a
			// receiver's own http_config here.
			mc.HTTPConfig.ProxyURL = g.HTTPConfig.ProxyURL
		}
	}
	for _, rc := range r.RocketchatConfigs {
		if rc == nil {
			return missing("rocketchat")
		}
		rc.HTTPConfig = firstOr(rc.HTTPConfig, g.HTTPConfig)
		rc.APIURL = firstOr(rc.APIURL, g.RocketchatAPIURL)
		rc.TokenID = firstOr(rc.TokenID, g.RocketchatTokenID)
		rc.TokenIDFile = firstString(rc.TokenIDFile, g.RocketchatTokenIDFile)
		if rc.TokenID == nil && len(rc.TokenIDFile) == 0 {
			return errors.New("no global Rocketchat TokenID set either inline or in a file")
		}
		rc.Token = firstOr(rc.Token, g.RocketchatToken)
		rc.TokenFile = firstString(rc.TokenFile, g.RocketchatTokenFile)
		if rc.Token == nil && len(rc.TokenFile) == 0 {
			return errors.New("no global Rocketchat Token set either inline or in a file")
		}
	}
	for _, mc := range r.MattermostConfigs {
		if mc == nil {
			return missing("mattermost")
		}
		mc.HTTPConfig = firstOr(mc.HTTPConfig, g.HTTPConfig)
		if mc.WebhookURL == nil && len(mc.WebhookURLFile) == 0 {
			if g.MattermostWebhookURL == nil && len(g.MattermostWebhookURLFile) == 0 {
				return errors.New("missing webhook_url or webhook_url_file on mattermost_config")
			}
			mc.WebhookURL = g.MattermostWebhookURL
			mc.WebhookURLFile = g.MattermostWebhookURLFile
		}
	}
	return nil
}

// resolvePaths makes relative template globs and http_config file paths
// relative to the configuration's folder (Alertmanager's
// resolveFilepaths). Other *_file paths stay as written, as in
// Alertmanager.
func (c *amConfig) resolvePaths(dir string) {
	for i, t := range c.Templates {
		if t != "" && !filepath.IsAbs(t) {
			c.Templates[i] = filepath.Join(dir, t)
		}
	}
	c.Global.HTTPConfig.SetDirectory(dir)
	for _, r := range c.Receivers {
		for _, x := range r.SlackConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.WebhookConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.WechatConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.TelegramConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.DiscordConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.MSTeamsConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.MSTeamsV2Configs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.RocketchatConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
		for _, x := range r.MattermostConfigs {
			x.HTTPConfig.SetDirectory(dir)
		}
	}
}
