// Package registry is the table of target types: for each type, its
// options struct, its Notifier constructor, its preset templates and its
// defaults. Each type registers itself from its own package
// (bridge/notify/<type>/register.go); bridge/notify/all imports them all.
// Config and the runtime use a type only through this table.
package registry

import (
	"fmt"
	"io/fs"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/render"
)

// Integration describes one target type.
type Integration struct {
	// Presets holds the type's preset templates (*.tmpl at its root),
	// loaded by every render.Set after the shared ones in templates/.
	Presets fs.FS
	// Options returns a pointer to a new, zero options struct for the type's
	// own keys, or nil when the type has none. If the struct has a
	// Validate() error method, config calls it after decoding.
	Options func() any
	// JSONBody marks types whose body template renders a JSON document.
	JSONBody bool
	// Signs marks types that sign requests with the target's secret; on
	// the others a secret is refused at load (unless the target's dialect
	// signs with it).
	Signs bool
	// Generic marks the generic webhook: its preset renders any dialect's
	// data (on other types a target with a dialect brings its own
	// template), and it sends the target's headers and, with a non-JSON
	// Content-Type header, text bodies.
	Generic bool
	// New builds the notifier.
	New func(s notify.Settings) (notify.Notifier, error)
	// RateLimit is the type's default token bucket, from the platform's
	// documented limits, chosen so that no window of those limits can see
	// more than it allows (burst plus refill within a window stays at or
	// under the limit); a target's own rate_limit replaces it. Nil means
	// unlimited.
	RateLimit *notify.RateLimit
	// Markup, when set, is how a JSON body of the type declares the markup
	// of its message text: a target's own template gets the values it
	// prints there escaped for it.
	Markup *render.MarkupRule
	// Updates lists the update modes the type supports besides
	// notify.UpdateNew, which every type does (its notifier must then be a
	// notify.Reviser); DefaultUpdate is the mode of a target that sets
	// none (empty: new).
	Updates       []notify.Update
	DefaultUpdate notify.Update
	// CheckURL, when set, vets the target's URL at load time (for example
	// to refuse a retired endpoint). Its error must not quote the URL.
	CheckURL func(u *url.URL) error
	// CheckTarget, when set, vets at load what several of a target's keys
	// decide together, for a type whose keys choose between ways of
	// posting (an incoming webhook, or a REST API with a token in the
	// secret key): which url, options and update modes each way takes.
	// A type with CheckTarget may take a secret without signing: the
	// Signs rule is left to CheckTarget. Its errors name the keys relative
	// to the target ("url: ...", "channel_id: ...") and never quote the
	// url or the secret.
	CheckTarget func(t Target) error
}

// Target is what CheckTarget sees of a target whose own keys decoded and
// validated.
type Target struct {
	// URL is the target's url, parsed; nil when it is missing or invalid
	// (already reported).
	URL *url.URL
	// Secret reports that the target has a secret (secret or secret_file).
	Secret bool
	// Update is the target's update key; empty when not set.
	Update notify.Update
	// Options is the decoded options struct of the type.
	Options any
}

// SupportsUpdate reports whether the type can deliver in mode u.
func (in Integration) SupportsUpdate(u notify.Update) bool {
	return u == notify.UpdateNew || slices.Contains(in.Updates, u)
}

// UpdateModes says which modes the type supports, for messages: "it
// supports edit, reply or new".
func (in Integration) UpdateModes() string {
	if len(in.Updates) == 0 {
		return "it supports only new (it cannot change or answer a message it posted)"
	}
	var s []string
	for _, u := range in.Updates {
		s = append(s, string(u))
	}
	return "it supports " + strings.Join(s, ", ") + " or new"
}

var (
	types = map[string]Integration{}
	// aliases maps alternative type names to their canonical name.
	aliases = map[string]string{}
)

// Register adds a type under its canonical name and aliases, with its
// presets; it is called from the type package's init function only.
func Register(name string, in Integration, alias ...string) {
	if _, dup := types[name]; dup {
		panic(fmt.Sprintf("registry: type %s registered twice", name))
	}
	types[name] = in
	if in.Presets != nil {
		render.AddPresets(name, in.Presets)
	}
	for _, a := range alias {
		aliases[a] = name
	}
}

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
