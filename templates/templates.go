// Package templates embeds the preset templates shipped with alertbridge.
// A type's default body is "<type>.<msg_type>.body" (the generic webhook's
// is "webhook.default.body"); the pieces it is built from are named
// "<type>.default.<piece>", and "chat.<piece>" are shared by every chat
// type. A user file may {{ define }} any of them to override it.
package templates

import "embed"

// FS holds every preset .tmpl file.
//
//go:embed *.tmpl
var FS embed.FS
