// Package templates embeds the preset templates shipped with alertbridge.
// A type's default body is "<type>.<msg_type>.body" (the generic webhook's
// is "webhook.default.body"); the pieces it is built from are named
// "<type>.default.<piece>", and "chat.<piece>" are shared by every chat
// type. A user file may {{ define }} any of them to override it.
//
// The part of a template that one alert prints is a fragment named after
// it with ".alert" appended ("dingtalk.default.markdown.alert",
// "slack.default.body.alert"), which the template prints with
// {{ $.Fragment "<name>.alert" $i }} for each alert $i of the message. A
// fragment's data is a chat.AlertData, and it depends on its alert alone:
// while a notification is packed into messages each alert's fragment is
// rendered once and reused. The fragment of a body ("*.body.alert") is a
// piece of the body's JSON and is escaped for JSON like the body; any
// other fragment is text that the body escapes where it includes it.
package templates

import "embed"

// FS holds every preset .tmpl file.
//
//go:embed *.tmpl
var FS embed.FS
