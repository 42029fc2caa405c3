package notifytest

import (
	"context"
	"net/http"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Deliverer sends notifications through a notifier that can revise its
// messages, to a fake, the way the bridge does: each with the message ids
// the earlier ones left, kept as the app keeps them (with edit, the
// message of each part a delivery names replaces the remembered one; with
// reply, the first notification's messages stay the ones answered).
type Deliverer struct {
	T testing.TB
	N notify.Reviser
	// Refs are the message ids remembered so far.
	Refs []string
}

// Deliver delivers the fixture payload, failing the test unless it is
// delivered, and returns the result.
func (d *Deliverer) Deliver(fixture []byte) notify.Result {
	d.T.Helper()
	res := (&notify.Sender{}).Deliver(context.Background(), http.DefaultClient, d.N, BuildGroup(d.T, fixture), notify.Attempt{Refs: d.Refs})
	if res.Verdict != notify.Delivered {
		d.T.Fatalf("delivery: %v %s %s", res.Verdict, res.Reason, res.Message)
	}
	if d.N.Update() == notify.UpdateReply && d.Refs != nil {
		return res
	}
	for i, r := range res.Refs {
		for len(d.Refs) <= i {
			d.Refs = append(d.Refs, "")
		}
		if r != "" {
			d.Refs[i] = r
		}
	}
	return res
}
