package chat

import (
	"github.com/alertbridge/alertbridge/bridge/alert"
)

// Data is what a chat body template sees: the group (with its links,
// .AlertsURL and .SilenceURL) (for this message,
// only the alerts it carries; status and common labels are the whole
// notification's), plus where the message stands among the notification's
// messages, who to mention, and the target's options.
type Data struct {
	*alert.Group
	// Part is this message's number (from 1) and Parts how many messages
	// carry the notification.
	Part, Parts int
	// More counts the notification's alerts that appear in no message: left
	// out for size (only ever on the last message) or truncated before the
	// bridge saw them (max_alerts, Alertmanager's max_alerts).
	More int
	// Firing and Resolved count the notification's alerts by status across
	// all its messages.
	Firing, Resolved int
	// Mentions are the users to notify for this message.
	Mentions Mentions
	// Options are the target's type-specific options.
	Options any
}

// Split reports whether the notification spans several messages.
func (d *Data) Split() bool { return d.Parts > 1 }

// Last reports whether this is the notification's last message.
func (d *Data) Last() bool { return d.Part == d.Parts }
