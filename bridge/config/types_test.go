package config

// The configuration decodes targets through the registry: the tests need
// every type registered, as the bridge has them.
import _ "github.com/alertbridge/alertbridge/bridge/notify/all"
