// Package templates embeds the preset pieces shared by every chat type
// (chat.tmpl, "chat.*"); each type's own presets are in its folder,
// bridge/notify/<type>/<type>.tmpl. Names and fragments are described in
// docs/templates.md.
package templates

import "embed"

// FS holds the shared preset .tmpl files.
//
//go:embed *.tmpl
var FS embed.FS
