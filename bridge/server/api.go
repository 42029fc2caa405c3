package server

import (
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// The API's JSON types. The server converts the store's types to these at
// the edge (as Alertmanager's api/v2/compat.go does), so a change in what
// the store keeps does not change the API by accident. See docs/http-api.md.

// Delivery is one delivery job: metadata only, never URLs, secrets or
// payloads.
type Delivery struct {
	ID          uint64    `json:"id"`
	Target      string    `json:"target"`
	GroupKey    string    `json:"groupKey"`
	State       string    `json:"state"`
	Alerts      int       `json:"alerts"`
	Attempts    int       `json:"attempts"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
	NextAttempt time.Time `json:"nextAttemptAt,omitzero"`
	// Reason and Error describe the last failure.
	Reason       string `json:"reason,omitempty"`
	Error        string `json:"error,omitempty"`
	Superseded   bool   `json:"superseded,omitempty"`
	Sent         int    `json:"sent,omitempty"`
	Notification uint64 `json:"notification,omitempty"`
	Test         bool   `json:"test,omitempty"`
}

// Alert is an alert of the alert center: its record and what the bridge
// knows about it.
type Alert struct {
	alert.Record
	UpdatedAt       time.Time         `json:"updatedAt"`
	Fingerprint     string            `json:"fingerprint"`
	Annotations     map[string]string `json:"annotations"`
	GeneratorURL    string            `json:"generatorURL,omitempty"`
	Receiver        string            `json:"receiver"`
	GroupKey        string            `json:"groupKey"`
	DeliveryTargets []string          `json:"deliveryTargets"`
	Test            bool              `json:"test,omitempty"`
}

// alertDetail is an alert with its deliveries.
type alertDetail struct {
	*Alert
	Deliveries []*Delivery `json:"deliveries"`
}

func deliveryOf(j *store.Job) *Delivery {
	return &Delivery{
		ID: j.ID, Target: j.Target, GroupKey: j.GroupKey, State: j.State,
		Alerts: j.Alerts, Attempts: j.Attempts,
		CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, NextAttempt: j.NextAttempt,
		Reason: j.Reason, Error: j.Error, Superseded: j.Superseded, Sent: j.Sent,
		Notification: j.Notification, Test: j.Test,
	}
}

// deliveriesOf converts a page of jobs; never nil, so an empty page is [].
func deliveriesOf(js []*store.Job) []*Delivery {
	out := make([]*Delivery, len(js))
	for i, j := range js {
		out[i] = deliveryOf(j)
	}
	return out
}

func alertOf(e *store.AlertEntry) *Alert {
	return &Alert{
		Record: e.Record, UpdatedAt: e.UpdatedAt, Fingerprint: e.Fingerprint,
		Annotations: e.Annotations, GeneratorURL: e.GeneratorURL, Receiver: e.Receiver,
		GroupKey: e.GroupKey, DeliveryTargets: e.DeliveryTargets, Test: e.Test,
	}
}

// alertsOf converts a page of alerts; never nil, so an empty page is [].
func alertsOf(es []*store.AlertEntry) []*Alert {
	out := make([]*Alert, len(es))
	for i, e := range es {
		out[i] = alertOf(e)
	}
	return out
}
