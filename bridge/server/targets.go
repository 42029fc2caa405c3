package server

import (
	"errors"
	"net/http"

	"github.com/gorilla/mux"
)

// TargetStatus is what the API shows of a target: configuration facts and
// delivery health, never its URL, secret or headers.
type TargetStatus struct {
	Name string `json:"name"`
	Type string `json:"type"`
	// Dialect is the template vocabulary (alertmanager by default).
	Dialect     string `json:"dialect"`
	Description string `json:"description,omitempty"`
	Enabled     bool   `json:"enabled"`
	// RateLimit is "<requests>/<interval>" or empty when unlimited.
	RateLimit string `json:"rateLimit,omitempty"`
	// Update is the target's update mode: edit, reply or new.
	Update string `json:"update,omitempty"`
	// QueueDepth counts every waiting job, in flight included.
	QueueDepth int `json:"queueDepth"`
	InFlight   int `json:"inFlight"`
	// OldestWaiting is when the oldest job still waiting was accepted;
	// empty when none waits.
	OldestWaiting string `json:"oldestWaiting,omitempty"`
	// Breaker is the circuit breaker state: closed, open (deliveries
	// paused, one probe per second) or half-open (a probe is due or in
	// flight); BreakerSince is when it entered that state.
	Breaker      string `json:"breaker"`
	BreakerSince string `json:"breakerSince,omitempty"`
	// PausedUntil is when deliveries resume, if the target asked to wait
	// or its breaker is open.
	PausedUntil string `json:"pausedUntil,omitempty"`
	LastSuccess string `json:"lastSuccess,omitempty"`
	LastError   string `json:"lastError,omitempty"`
	LastErrorAt string `json:"lastErrorAt,omitempty"`
	LastReason  string `json:"lastReason,omitempty"`
}

// Targets is the target API the Backend provides.
type Targets interface {
	// TargetStatuses lists every configured target in config order.
	TargetStatuses() []TargetStatus
	// SendTest queues a sample notification to one target and returns the
	// delivery id. ErrUnknownTarget if there is no such target.
	SendTest(target string) (uint64, error)
}

func (s *Server) listTargets(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": s.b.TargetStatuses()})
}

func (s *Server) sendTest(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	id, err := s.b.SendTest(name)
	switch {
	case errors.Is(err, ErrUnknownTarget):
		writeError(w, http.StatusNotFound, "unknown target "+quote(name))
	case errors.Is(err, ErrTargetDisabled):
		writeError(w, http.StatusServiceUnavailable, "target "+quote(name)+" is disabled")
	case err != nil:
		s.unavailable(w, r, err)
	default:
		writeJSON(w, http.StatusAccepted, map[string]any{"status": "success", "delivery": id})
	}
}
