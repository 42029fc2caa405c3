package server

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/alertbridge/alertbridge/bridge/store"
)

// Deliveries is the dead-letter and history API the Backend provides.
type Deliveries interface {
	// ListDeliveries pages through jobs in one state, newest first.
	ListDeliveries(state, target string, before uint64, limit int) ([]*store.Job, error)
	// RetryDelivery moves a dead letter back to the queue.
	RetryDelivery(id uint64) (*store.Job, error)
	// DeleteDelivery removes a job in any state.
	DeleteDelivery(id uint64) error
}

const (
	defaultPageSize = 100
	maxPageSize     = 1000
)

// listDeliveries answers GET /api/v1/deliveries?state=pending|dead|delivered&target=&limit=&before=.
// The answer carries job metadata only: never URLs, secrets or payloads.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = store.StatePending
	}
	if state != store.StatePending && state != store.StateDead && state != store.StateDelivered {
		writeError(w, http.StatusBadRequest, "state must be pending, dead or delivered")
		return
	}
	limit := defaultPageSize
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			writeError(w, http.StatusBadRequest, "limit must be between 1 and 1000")
			return
		}
		limit = n
	}
	var before uint64
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, "before must be a delivery id")
			return
		}
		before = n
	}
	jobs, err := s.b.ListDeliveries(state, q.Get("target"), before, limit)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	out := map[string]any{"status": "success", "data": deliveriesOf(jobs)}
	if len(jobs) == limit {
		out["next"] = strconv.FormatUint(jobs[len(jobs)-1].ID, 10)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) retryDelivery(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseUint(mux.Vars(r)["id"], 10, 64)
	j, err := s.b.RetryDelivery(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no dead letter with that id")
	case errors.Is(err, store.ErrSuperseded):
		writeError(w, http.StatusConflict, "not resent: a newer notification of this alert group was accepted for the target since, and the channel must not get the older state after it")
	case err != nil:
		s.unavailable(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": deliveryOf(j)})
	}
}

func (s *Server) deleteDelivery(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.ParseUint(mux.Vars(r)["id"], 10, 64)
	err := s.b.DeleteDelivery(id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "no delivery with that id")
	case errors.Is(err, store.ErrBusy):
		writeError(w, http.StatusConflict, err.Error())
	case err != nil:
		s.unavailable(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
	}
}
