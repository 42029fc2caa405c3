package dialect

import (
	"github.com/alertbridge/alertbridge/bridge/alert"
)

// HertzBeatAlert is HertzBeat's alert record as its webhooks push it: one
// alert, the record's fields at the top level.
type HertzBeatAlert struct {
	alert.Record
	// NextEvalInterval is HertzBeat's time to the next evaluation in
	// milliseconds. Alertmanager does not pass a rule's evaluation
	// interval, so it is always 0.
	NextEvalInterval int64 `json:"nextEvalInterval"`
}

// HertzBeatView is the record of the group's first alert (the dialect is
// per alert, so the group has one).
func HertzBeatView(g *alert.Group) *HertzBeatAlert {
	if len(g.Records) == 0 {
		return &HertzBeatAlert{}
	}
	return &HertzBeatAlert{Record: g.Records[0]}
}
