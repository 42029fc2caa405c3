package server

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// Alerts is the alert center API the Backend provides.
type Alerts interface {
	// ListAlerts pages through the alert center, most recently updated
	// first; next is zero on the last page.
	ListAlerts(f store.AlertFilter, page store.AlertPage) (entries []*store.AlertEntry, next store.AlertCursor, err error)
	// GetAlert returns one alert and its deliveries, newest first;
	// store.ErrNoAlert for an unknown id.
	GetAlert(id int64) (*store.AlertEntry, []*store.Job, error)
}

// alertParams are the query parameters of GET /api/v1/alerts.
var alertParams = []string{"status", "priority", "target", "delivery_target", "since", "limit", "before"}

// listAlerts answers GET /api/v1/alerts?status=&priority=&target=&delivery_target=&since=&limit=&before=.
func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) {
	f, page, msg := ParseAlertQuery(r.URL.Query(), time.Now())
	if msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	entries, next, err := s.b.ListAlerts(f, page)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	out := map[string]any{"status": "success", "data": alertsOf(entries)}
	if !next.IsZero() {
		out["next"] = next.String()
	}
	writeJSON(w, http.StatusOK, out)
}

// ParseAlertQuery reads the parameters of GET /api/v1/alerts (see
// docs/http-api.md); msg explains the first bad one, for a 400, and is
// empty when all are good. A relative since counts back from now.
func ParseAlertQuery(q map[string][]string, now time.Time) (f store.AlertFilter, page store.AlertPage, msg string) {
	for k, v := range q {
		if !slices.Contains(alertParams, k) {
			return f, page, "unknown parameter " + quote(k) + " (known: " + strings.Join(alertParams, ", ") + ")"
		}
		if len(v) > 1 {
			return f, page, "parameter " + quote(k) + " given more than once"
		}
	}
	get := func(k string) string {
		if v := q[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	switch v := get("status"); v {
	case "":
	case "firing", strconv.Itoa(alert.StatusFiring):
		f.Status = ptr(alert.StatusFiring)
	case "resolved", strconv.Itoa(alert.StatusResolved):
		f.Status = ptr(alert.StatusResolved)
	default:
		return f, page, "status must be firing or resolved (or 0 or 2)"
	}
	if v := get("priority"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < alert.PriorityHigh || n > alert.PriorityLow {
			return f, page, "priority must be 0 (high), 1 (medium) or 2 (low)"
		}
		f.Priority = &n
	}
	f.Target, f.DeliveryTarget = get("target"), get("delivery_target")
	if v := get("since"); v != "" {
		// A "+" in an unencoded query arrives as a space.
		if t, err := time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1)); err == nil {
			f.Since = t
		} else if d, err := model.ParseDuration(v); err == nil {
			f.Since = now.Add(-time.Duration(d))
		} else {
			return f, page, "since must be an RFC 3339 time (2026-11-23T10:00:00Z) or a duration back from now (1h, 30m, 7d)"
		}
	}
	page.Limit = defaultPageSize
	if v := get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return f, page, "limit must be between 1 and 1000"
		}
		page.Limit = n
	}
	if v := get("before"); v != "" {
		c, err := store.ParseAlertCursor(v)
		if err != nil {
			return f, page, "before must be the next value of a previous answer"
		}
		page.Before = c
	}
	return f, page, ""
}

func ptr[T any](v T) *T { return &v }

// getAlert answers GET /api/v1/alerts/{id}.
func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "id must be an alert id (an integer)")
		return
	}
	e, jobs, err := s.b.GetAlert(id)
	switch {
	case errors.Is(err, store.ErrNoAlert):
		writeError(w, http.StatusNotFound, "no alert with that id")
	case err != nil:
		s.unavailable(w, r, err)
	default:
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "data": alertDetail{Alert: alertOf(e), Deliveries: deliveriesOf(jobs)}})
	}
}
