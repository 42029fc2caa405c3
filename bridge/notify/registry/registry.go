// Package registry is the table of target types: for each type, its
// options struct and its Notifier constructor. The config package decodes
// and validates targets through it, and the runtime builds notifiers from
// it, without either knowing any integration.
package registry

import (
	"sort"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/webhook"
)

// Integration describes one target type.
type Integration struct {
	// Options returns a pointer to a new, zero options struct for the type's
	// own keys, or nil when the type has none. If the struct has a
	// Validate() error method, config calls it after decoding.
	Options func() any
	// JSONBody marks types whose body template renders a JSON document.
	JSONBody bool
	// New builds the notifier.
	New func(s notify.Settings) (notify.Notifier, error)
}

var types = map[string]Integration{
	"webhook": {JSONBody: true, New: func(s notify.Settings) (notify.Notifier, error) { return webhook.New(s) }},
}

// aliases maps alternative type names to their canonical name.
var aliases = map[string]string{}

// Lookup returns the integration for a type name or alias, and the
// canonical name.
func Lookup(name string) (Integration, string, bool) {
	if c, ok := aliases[name]; ok {
		name = c
	}
	in, ok := types[name]
	return in, name, ok
}

// Types lists the canonical type names, sorted.
func Types() []string {
	out := make([]string, 0, len(types))
	for t := range types {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
