package console

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/store"
)

const (
	defaultPage = 100
	maxPage     = 1000
	// scanPages bounds the pages of 1000 read to fill one filtered page
	// (group or time filters the API does not have).
	scanPages = 10
)

// deliveryQuery is the deliveries page's filter form.
type deliveryQuery struct {
	State, Target, Group, Since string
	Limit                       int
	Before                      uint64
}

type deliveriesData struct {
	Q       deliveryQuery
	States  []string
	Targets []string
	Jobs    []jobView
	// Next continues the list; Scanned is set when the filters searched
	// as far as the scan bound without filling the page.
	Next    string
	Scanned int
}

// parseDeliveryQuery reads the page's parameters; msg explains the first
// bad one.
func parseDeliveryQuery(q url.Values, now time.Time) (dq deliveryQuery, since time.Time, msg string) {
	dq = deliveryQuery{State: q.Get("state"), Target: q.Get("target"), Group: trimmed(q.Get("group")), Since: trimmed(q.Get("since")), Limit: defaultPage}
	switch dq.State {
	case "":
		dq.State = store.StatePending
	case store.StatePending, store.StateDead, store.StateDelivered:
	default:
		return dq, since, "state must be pending, dead or delivered"
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPage {
			return dq, since, "limit must be between 1 and 1000"
		}
		dq.Limit = n
	}
	if v := q.Get("before"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return dq, since, "before must be a delivery id"
		}
		dq.Before = n
	}
	if dq.Since != "" {
		t, ok := parseSince(dq.Since, now)
		if !ok {
			return dq, since, "since must be an RFC 3339 time (2026-11-23T10:00:00Z) or a duration back from now (1h, 30m, 7d)"
		}
		since = t
	}
	return dq, since, ""
}

// parseSince reads an RFC 3339 time or a duration back from now.
func parseSince(v string, now time.Time) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, strings.Replace(v, " ", "+", 1)); err == nil {
		return t, true
	}
	if d, err := model.ParseDuration(v); err == nil {
		return now.Add(-time.Duration(d)), true
	}
	return time.Time{}, false
}

// deliveriesPage lists jobs in one state, newest first, as GET
// /api/v1/deliveries does, with two filters of its own: a group key
// substring and a time (jobs created at or after it).
func (c *Console) deliveriesPage(w http.ResponseWriter, r *http.Request) {
	dq, since, msg := parseDeliveryQuery(r.URL.Query(), c.o.Now())
	if msg != "" {
		c.fail(w, http.StatusBadRequest, msg, "")
		return
	}
	d := deliveriesData{Q: dq, States: []string{store.StatePending, store.StateDead, store.StateDelivered}}
	for _, t := range c.b.TargetStatuses() {
		d.Targets = append(d.Targets, t.Name)
	}
	keep := func(j *store.Job) bool {
		return (dq.Group == "" || strings.Contains(j.GroupKey, dq.Group)) && (since.IsZero() || !j.CreatedAt.Before(since))
	}
	filtered := dq.Group != "" || !since.IsZero()
	before, size, pages := dq.Before, dq.Limit, 1
	if filtered {
		size, pages = maxPage, scanPages
	}
	for range pages {
		jobs, err := c.b.ListDeliveries(dq.State, dq.Target, before, size)
		if err != nil {
			c.unavailable(w, err)
			return
		}
		for _, j := range jobs {
			if len(d.Jobs) == dq.Limit {
				break
			}
			before = j.ID
			if keep(j) {
				d.Jobs = append(d.Jobs, jobOf(j))
			}
		}
		if len(d.Jobs) == dq.Limit {
			d.Next = strconv.FormatUint(before, 10)
			break
		}
		if len(jobs) < size {
			before = 0
			break
		}
	}
	if filtered && before != 0 && len(d.Jobs) < dq.Limit {
		d.Next, d.Scanned = strconv.FormatUint(before, 10), pages*size
	}
	c.render(w, http.StatusOK, "deliveries", "Deliveries", d)
}

// unavailable answers a Backend failure: the kind of trouble, never the
// error's text (it can name the store's files); the error is logged.
func (c *Console) unavailable(w http.ResponseWriter, err error) {
	c.o.Log.Error("console: cannot read from the bridge", zap.Error(err))
	c.fail(w, http.StatusServiceUnavailable, "the store cannot be read now; retry later", "")
}
