package importer

// The importer compares a user's templates with the presets, which each
// target type adds when it registers itself: register them all, as the
// bridge does.
import _ "github.com/alertbridge/alertbridge/bridge/notify/all"
