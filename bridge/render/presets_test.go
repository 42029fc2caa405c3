package render_test

// The preset tests render the target types' presets, which each type adds
// when it registers itself.
import _ "github.com/alertbridge/alertbridge/bridge/notify/all"
