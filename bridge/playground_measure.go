package bridge

import (
	"encoding/json"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/console"
	"github.com/alertbridge/alertbridge/bridge/notify/dingtalk"
	"github.com/alertbridge/alertbridge/bridge/notify/discord"
	"github.com/alertbridge/alertbridge/bridge/notify/googlechat"
	"github.com/alertbridge/alertbridge/bridge/notify/lark"
	"github.com/alertbridge/alertbridge/bridge/notify/mattermost"
	"github.com/alertbridge/alertbridge/bridge/notify/rocketchat"
	"github.com/alertbridge/alertbridge/bridge/notify/slack"
	"github.com/alertbridge/alertbridge/bridge/notify/teams"
	"github.com/alertbridge/alertbridge/bridge/notify/telegram"
	"github.com/alertbridge/alertbridge/bridge/notify/wecom"
)

// measure is a message body measured as its platform counts it, against
// the platform's limit (docs/targets.md, "Size limit, as the bridge
// counts it"): the measure that decides splitting for each type. A body
// the notifier built has already passed the platform's full check; these
// numbers show how close to the limit it is.
func measure(typ string, body []byte) []console.Size {
	bytesOf := func(limit int) console.Size {
		return console.Size{What: "request body", Size: len(body), Limit: limit, Unit: "bytes"}
	}
	var doc map[string]any
	_ = json.Unmarshal(body, &doc)
	text := func(key string) string { s, _ := doc[key].(string); return s }
	switch typ {
	case "lark":
		return []console.Size{bytesOf(lark.MaxBodyBytes)}
	case "dingtalk":
		return []console.Size{bytesOf(dingtalk.MaxBodyBytes)}
	case "teams":
		return []console.Size{bytesOf(teams.MaxBodyBytes)}
	case "googlechat":
		return []console.Size{bytesOf(googlechat.MaxBodyBytes), {What: "text", Size: utf16Len(text("text")), Limit: googlechat.MaxText, Unit: "UTF-16 code units"}}
	case "wecom":
		kind, _ := doc["msgtype"].(string)
		part, _ := doc[kind].(map[string]any)
		content, _ := part["content"].(string)
		limit := wecom.MaxTextBytes
		if kind != "text" {
			limit = wecom.MaxMarkdownBytes
		}
		return []console.Size{{What: kind + ".content", Size: len(content), Limit: limit, Unit: "bytes"}}
	case "slack":
		blocks, _ := doc["blocks"].([]any)
		return []console.Size{{What: "text", Size: utf8.RuneCountInString(text("text")), Limit: slack.MaxText, Unit: "characters"},
			{What: "blocks", Size: len(blocks), Limit: slack.MaxBlocks, Unit: "items"}}
	case "discord":
		embeds, _ := doc["embeds"].([]any)
		return []console.Size{{What: "content", Size: utf8.RuneCountInString(text("content")), Limit: discord.MaxContent, Unit: "characters"},
			{What: "embeds", Size: len(embeds), Limit: discord.MaxEmbeds, Unit: "items"}}
	case "telegram":
		return []console.Size{{What: "text (before entity parsing)", Size: utf16Len(text("text")), Limit: telegram.MaxText, Unit: "UTF-16 code units"}}
	case "mattermost":
		return []console.Size{{What: "text", Size: utf8.RuneCountInString(text("text")), Limit: mattermost.MaxPostRunes, Unit: "characters"}}
	case "rocketchat":
		return []console.Size{{What: "text", Size: utf16Len(text("text")), Limit: rocketchat.MaxMessageSize, Unit: "UTF-16 code units"}}
	}
	return []console.Size{bytesOf(0)}
}

func utf16Len(s string) int { return len(utf16.Encode([]rune(s))) }
