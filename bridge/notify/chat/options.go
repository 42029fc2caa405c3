package chat

import (
	"errors"
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// DefaultMaxMessages is how many messages one notification may take when a
// target does not say.
const DefaultMaxMessages = 5

// Common are the options every chat target has, inlined into each type's
// options struct.
type Common struct {
	// MaxMessages caps the messages one notification is split into; the
	// last one says how many alerts did not fit and links to Alertmanager.
	MaxMessages int `yaml:"max_messages"`
	// Mention says who to notify.
	Mention *Mention `yaml:"mention"`
}

// Validate checks the common options.
func (c *Common) Validate() error {
	var errs []error
	if c.MaxMessages < 0 || c.MaxMessages > 50 {
		errs = append(errs, fmt.Errorf("max_messages: %d is outside 1..50 (0 means %d)", c.MaxMessages, DefaultMaxMessages))
	}
	if c.Mention != nil {
		if err := c.Mention.validate(); err != nil {
			errs = append(errs, fmt.Errorf("mention.%w", err))
		}
	}
	return errors.Join(errs...)
}

func (c *Common) messages() int {
	if c.MaxMessages <= 0 {
		return DefaultMaxMessages
	}
	return c.MaxMessages
}

// Mention configures who a target's messages notify: fixed users, and
// users chosen by each alert's labels or annotations (an "owner" label
// mapped to chat user ids, or a label that holds the ids itself).
type Mention struct {
	// All notifies everyone in the chat where the platform allows it.
	All bool `yaml:"all"`
	// Users are platform user ids (Lark open_id, DingTalk/WeCom userid,
	// Slack/Discord user id, Mattermost/Rocket.Chat username, ...).
	Users []string `yaml:"users"`
	// Mobiles are phone numbers (DingTalk, WeCom).
	Mobiles []string `yaml:"mobiles"`
	// ByLabel maps a label (or annotation) name to a table from its value
	// to user ids ("tel:" prefixes a mobile): owner: {team-db: [ou_123]}.
	ByLabel map[string]map[string][]string `yaml:"by_label"`
	// FromLabels names labels (or annotations) whose values are user ids
	// themselves, separated by commas or spaces.
	FromLabels []string `yaml:"from_labels"`
	// Resolved also mentions on messages that carry only resolved alerts;
	// by default nobody is woken up to hear that things are fine.
	Resolved bool `yaml:"resolved"`
}

func (m *Mention) validate() error {
	for name, table := range m.ByLabel {
		if name == "" {
			return errors.New("by_label: empty label name")
		}
		for v, ids := range table {
			if len(ids) == 0 {
				return fmt.Errorf("by_label.%s.%s: maps to no one", name, v)
			}
		}
	}
	for _, id := range append(slices.Clone(m.Users), m.Mobiles...) {
		if strings.TrimSpace(id) == "" {
			return errors.New("users and mobiles must not be empty strings")
		}
	}
	return nil
}

// CheckUsers validates a mention for a platform that mentions users by id
// and has no phone-number mentions: mobiles and "tel:" entries of
// by_label are refused (instead says what to use, "member ids in
// mention.users"), and every other id of users and by_label must pass
// valid, whose error names what a valid id looks like. Errors name the
// field ("mention.by_label.owner.db: ...").
func (m *Mention) CheckUsers(platform, instead string, valid func(id string) error) []error {
	var errs []error
	if len(m.Mobiles) > 0 {
		errs = append(errs, fmt.Errorf("mention.mobiles: %s has no phone-number mentions; use %s", platform, instead))
	}
	for _, id := range m.Users {
		if err := valid(id); err != nil {
			errs = append(errs, fmt.Errorf("mention.users: %w", err))
		}
	}
	for _, name := range slices.Sorted(maps.Keys(m.ByLabel)) {
		table := m.ByLabel[name]
		for _, v := range slices.Sorted(maps.Keys(table)) {
			for _, id := range table[v] {
				if strings.HasPrefix(id, "tel:") {
					errs = append(errs, fmt.Errorf("mention.by_label.%s.%s: %s has no phone-number mentions (%q)", name, v, platform, id))
				} else if err := valid(id); err != nil {
					errs = append(errs, fmt.Errorf("mention.by_label.%s.%s: %w", name, v, err))
				}
			}
		}
	}
	return errs
}

// Mentions are the resolved mentions of one message. Users and Mobiles
// are sorted and free of duplicates.
type Mentions struct {
	All     bool
	Users   []string
	Mobiles []string
}

// Any reports whether the message mentions anyone.
func (m Mentions) Any() bool { return m.All || len(m.Users) > 0 || len(m.Mobiles) > 0 }

// resolve computes the mentions for the alerts g carries. Ids found
// through by_label or from_labels that start with "tel:" are mobiles (the
// prefix dropped), the rest users: numeric user ids (Discord, Telegram)
// must not be mistaken for phone numbers.
func (m *Mention) resolve(g *alert.Group) Mentions {
	if m == nil {
		return Mentions{}
	}
	if !m.Resolved && len(g.Alerts.Firing()) == 0 {
		return Mentions{}
	}
	users := map[string]bool{}
	mobiles := map[string]bool{}
	for _, u := range m.Users {
		users[u] = true
	}
	for _, p := range m.Mobiles {
		mobiles[p] = true
	}
	add := func(id string) {
		id = strings.TrimSpace(id)
		switch {
		case id == "":
		case strings.HasPrefix(id, "tel:"):
			mobiles[strings.TrimPrefix(id, "tel:")] = true
		default:
			users[id] = true
		}
	}
	for _, a := range g.Alerts {
		if !m.Resolved && a.Status != "firing" {
			continue
		}
		lookup := func(name string) string {
			if v, ok := a.Labels[name]; ok {
				return v
			}
			return a.Annotations[name]
		}
		for name, table := range m.ByLabel {
			for _, id := range table[lookup(name)] {
				add(id)
			}
		}
		for _, name := range m.FromLabels {
			for _, id := range strings.FieldsFunc(lookup(name), func(r rune) bool { return r == ',' || r == ' ' }) {
				add(id)
			}
		}
	}
	return Mentions{All: m.All, Users: sortedKeys(users), Mobiles: sortedKeys(mobiles)}
}

func sortedKeys(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// OptionsOf returns a chat target's decoded options (*T), or, when the
// settings carry none (tools and tests building a notifier directly), T's
// validated defaults, which it also stores in s.Options so templates see
// them.
func OptionsOf[T any, P interface {
	*T
	Validate() error
}](s *notify.Settings) (P, error) {
	if o, ok := s.Options.(P); ok && o != nil {
		return o, nil
	}
	o := P(new(T))
	if err := o.Validate(); err != nil {
		return nil, err
	}
	s.Options = o
	return o, nil
}

// MatchingIDs is a CheckUsers validator for ids that must match re; what
// says what a valid id looks like ("a Slack member id (U…, W…)").
func MatchingIDs(re *regexp.Regexp, what string) func(id string) error {
	return func(id string) error {
		if !re.MatchString(id) {
			return fmt.Errorf("%q is not %s", id, what)
		}
		return nil
	}
}

// IsHTTPURL reports whether s is an absolute http or https URL with a
// host, as an icon or avatar link must be.
func IsHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
