// Package all registers every target type: importing it (as the bridge
// does) makes each type known to the registry, the configuration and the
// preset templates. Adding a type is one import line here (see
// docs/adding-a-target-type.md).
package all

import (
	_ "github.com/alertbridge/alertbridge/bridge/notify/dingtalk"
	_ "github.com/alertbridge/alertbridge/bridge/notify/discord"
	_ "github.com/alertbridge/alertbridge/bridge/notify/googlechat"
	_ "github.com/alertbridge/alertbridge/bridge/notify/lark"
	_ "github.com/alertbridge/alertbridge/bridge/notify/mattermost"
	_ "github.com/alertbridge/alertbridge/bridge/notify/rocketchat"
	_ "github.com/alertbridge/alertbridge/bridge/notify/slack"
	_ "github.com/alertbridge/alertbridge/bridge/notify/teams"
	_ "github.com/alertbridge/alertbridge/bridge/notify/telegram"
	_ "github.com/alertbridge/alertbridge/bridge/notify/webhook"
	_ "github.com/alertbridge/alertbridge/bridge/notify/wecom"
)
