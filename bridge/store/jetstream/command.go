package jetstream

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"

	json "github.com/goccy/go-json"
	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// Operations a log message carries.
const (
	opAccept      = "accept"
	opReschedule  = "reschedule"
	opFinish      = "finish"
	opRequeue     = "requeue"
	opDelete      = "delete"
	opPrune       = "prune"
	opPruneAlerts = "prune-alerts"
	opWatchdog    = "watchdog"
	opRefs        = "refs"
	opPruneRefs   = "prune-refs"
)

// command is one write, as the log carries it: every replica applies the
// same commands in the same order to its view, so every view holds the
// same jobs with the same ids. Every input of the write is in it (times
// included); nothing is read from the applying replica's clock or config.
type command struct {
	Op string `json:"op"`

	// accept
	DedupKey    string        `json:"dedupKey,omitempty"`
	DedupWindow time.Duration `json:"dedupWindow,omitempty"`
	Group       *alert.Group  `json:"group,omitempty"`
	Jobs        []commandJob  `json:"jobs,omitempty"`
	Location    string        `json:"location,omitempty"`
	Test        bool          `json:"test,omitempty"`

	Now time.Time `json:"now,omitzero"`

	// reschedule, requeue, delete
	ID       uint64    `json:"id,omitempty"`
	Attempts int       `json:"attempts,omitempty"`
	Sent     int       `json:"sent,omitempty"`
	Next     time.Time `json:"next,omitzero"`
	Reason   string    `json:"reason,omitempty"`
	Msg      string    `json:"msg,omitempty"`

	// finish
	Finish []store.FinishOp `json:"finish,omitempty"`

	// prune
	MaxAge   time.Duration `json:"maxAge,omitempty"`
	MaxCount int           `json:"maxCount,omitempty"`
	Cutoff   time.Time     `json:"cutoff,omitzero"`

	// watchdog, refs
	Watchdog *store.WatchdogState `json:"watchdog,omitempty"`
	Target   string               `json:"target,omitempty"`
	GroupKey string               `json:"groupKey,omitempty"`
	Refs     *store.MessageRefs   `json:"refs,omitempty"`
}

// commandJob is one job of an acceptance: the job and which alerts of the
// command's group its target's view holds.
type commandJob struct {
	Job store.Job `json:"job"`
	// Alerts are indexes into the group's alerts (and records).
	Alerts []int `json:"alerts"`
}

// maxCommandHeader bounds the JSON part of one message.
const maxCommandHeader = 64 << 20

// encode frames a command: the JSON's length (4 bytes, big endian), the
// JSON, then body, which travels as is (not base64 inside the JSON).
func encode(c *command, body []byte) ([]byte, error) {
	head, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 4, 4+len(head)+len(body))
	binary.BigEndian.PutUint32(out, uint32(len(head)))
	out = append(out, head...)
	return append(out, body...), nil
}

// decode reads what encode wrote. body aliases data.
func decode(data []byte) (*command, []byte, error) {
	if len(data) < 4 {
		return nil, nil, errors.New("log message shorter than its header")
	}
	n := binary.BigEndian.Uint32(data)
	if n > maxCommandHeader || int(n) > len(data)-4 {
		return nil, nil, fmt.Errorf("log message header of %d bytes in %d", n, len(data))
	}
	c := &command{}
	if err := json.Unmarshal(data[4:4+n], c); err != nil {
		return nil, nil, fmt.Errorf("log message: %w", err)
	}
	return c, data[4+n:], nil
}

// acceptCommand turns an acceptance into a command. Each job's view must
// hold alerts of req.Group (as route and target filters make them).
func acceptCommand(req store.AcceptRequest) (*command, error) {
	if req.Group == nil {
		return nil, errors.New("store: accept without a group")
	}
	c := &command{Op: opAccept, DedupKey: req.DedupKey, DedupWindow: req.DedupWindow, Now: req.Now,
		Group: req.Group, Test: req.Test}
	if req.Location != nil {
		c.Location = req.Location.String()
	}
	at := make(map[int64]int, len(req.Group.Records))
	for i, r := range req.Group.Records {
		at[r.ID] = i
	}
	for _, nj := range req.Jobs {
		if nj.Job == nil || nj.Group == nil {
			return nil, errors.New("store: accept with a job without its group")
		}
		cj := commandJob{Job: *nj.Job, Alerts: make([]int, 0, len(nj.Group.Records))}
		for _, r := range nj.Group.Records {
			i, ok := at[r.ID]
			if !ok {
				return nil, fmt.Errorf("store: job of target %q carries alert %d that its group does not", nj.Job.Target, r.ID)
			}
			cj.Alerts = append(cj.Alerts, i)
		}
		c.Jobs = append(c.Jobs, cj)
	}
	return c, nil
}

// acceptRequest rebuilds the acceptance a command carries.
func (c *command) acceptRequest(body []byte) (store.AcceptRequest, error) {
	req := store.AcceptRequest{DedupKey: c.DedupKey, DedupWindow: c.DedupWindow, Now: c.Now,
		Group: c.Group, Body: body, Test: c.Test}
	if c.Group == nil {
		return req, errors.New("store: accept without a group")
	}
	if c.Location != "" {
		loc, err := loadLocation(c.Location)
		if err != nil {
			return req, fmt.Errorf("%w: accept in time zone %q: %v", errDiverge, c.Location, err)
		}
		req.Location = loc
	}
	g := c.Group
	for k := range c.Jobs {
		cj := &c.Jobs[k]
		view := &alert.Group{Data: template.Data{Receiver: g.Receiver, Status: g.Status, ExternalURL: g.ExternalURL},
			GroupKey: g.GroupKey, ReceivedAt: g.ReceivedAt}
		for _, i := range cj.Alerts {
			if i < 0 || i >= len(g.Alerts) || i >= len(g.Records) {
				return req, fmt.Errorf("store: job of target %q names alert %d of %d", cj.Job.Target, i, len(g.Alerts))
			}
			view.Alerts = append(view.Alerts, g.Alerts[i])
			view.Records = append(view.Records, g.Records[i])
		}
		job := cj.Job
		req.Jobs = append(req.Jobs, store.NewJob{Job: &job, Group: view})
	}
	return req, nil
}

// locations caches the time zones commands name (LoadLocation reads the
// zone database each time).
var locations sync.Map

func loadLocation(name string) (*time.Location, error) {
	if l, ok := locations.Load(name); ok {
		return l.(*time.Location), nil
	}
	l, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	locations.Store(name, l)
	return l, nil
}
