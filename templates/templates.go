// Package templates embeds the preset templates shipped with alertbridge.
// Preset names follow "<type>.default.<field>".
package templates

import "embed"

// FS holds every preset .tmpl file.
//
//go:embed *.tmpl
var FS embed.FS
