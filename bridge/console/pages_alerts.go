package console

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"
	"github.com/prometheus/alertmanager/matcher/parse"
	"github.com/prometheus/alertmanager/pkg/labels"
	"github.com/prometheus/common/model"

	"github.com/alertbridge/alertbridge/bridge/server"
	"github.com/alertbridge/alertbridge/bridge/store"
)

// alertQuery is the alerts page's filter form: the parameters of GET
// /api/v1/alerts and match, label matchers in Alertmanager's syntax.
type alertQuery struct {
	Status, Priority, Target, DeliveryTarget, Since, Match, Limit string
}

type alertsData struct {
	Q       alertQuery
	Targets []string
	Alerts  []alertView
	Next    string
	Scanned int
}

// alertsPage lists the alert center as GET /api/v1/alerts does, most
// recently updated first, and also filters by label matchers.
func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	aq := alertQuery{Status: q.Get("status"), Priority: q.Get("priority"), Target: q.Get("target"),
		DeliveryTarget: q.Get("delivery_target"), Since: q.Get("since"), Match: trimmed(q.Get("match")), Limit: q.Get("limit")}
	api := url.Values{}
	for k, v := range q {
		// The form sends every field; an empty one is no filter.
		if k != "match" && len(v) > 0 && v[len(v)-1] != "" {
			api[k] = v
		}
	}
	f, page, msg := server.ParseAlertQuery(api, c.o.Now())
	if msg != "" {
		c.fail(w, http.StatusBadRequest, msg, "")
		return
	}
	var matchers labels.Matchers
	if aq.Match != "" {
		m, err := parse.Matchers(aq.Match)
		if err != nil {
			c.fail(w, http.StatusBadRequest, "match must be label matchers, as in Alertmanager ({severity=\"critical\",instance=~\"web-.*\"}): "+err.Error(), "")
			return
		}
		matchers = m
	}
	d := alertsData{Q: aq}
	for _, t := range c.b.TargetStatuses() {
		d.Targets = append(d.Targets, t.Name)
	}
	want, pages := page.Limit, 1
	if len(matchers) > 0 {
		page.Limit, pages = maxPage, scanPages
	}
	cont, full := store.AlertCursor{}, false
scan:
	for range pages {
		entries, next, err := c.b.ListAlerts(f, page)
		if err != nil {
			c.unavailable(w, err)
			return
		}
		for i, e := range entries {
			if !matches(matchers, e.Tags) {
				continue
			}
			d.Alerts = append(d.Alerts, alertOf(e))
			if len(d.Alerts) == want {
				full = true
				if i < len(entries)-1 || !next.IsZero() {
					cont = store.AlertCursor{UpdatedAt: e.UpdatedAt.UnixMilli(), ID: e.ID}
				}
				break scan
			}
		}
		if cont = next; next.IsZero() {
			break
		}
		page.Before = next
	}
	if !cont.IsZero() {
		d.Next = cont.String()
		if !full {
			d.Scanned = pages * page.Limit
		}
	}
	c.render(w, http.StatusOK, "alerts", "Alerts", d)
}

// matches reports whether every matcher holds for the labels.
func matches(ms labels.Matchers, tags map[string]string) bool {
	if len(ms) == 0 {
		return true
	}
	ls := make(model.LabelSet, len(tags))
	for k, v := range tags {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ms.Matches(ls)
}

type alertData struct {
	Alert      alertView
	Deliveries []jobView
}

// alertPage shows one alert with its deliveries, as GET
// /api/v1/alerts/{id} answers it.
func (c *Console) alertPage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		c.fail(w, http.StatusBadRequest, "the alert id must be an integer", "")
		return
	}
	e, jobs, err := c.b.GetAlert(id)
	switch {
	case errors.Is(err, store.ErrNoAlert):
		c.fail(w, http.StatusNotFound, "the bridge holds no alert with id "+strconv.FormatInt(id, 10),
			"An alert no notification carried for global.alert_retention is dropped.")
	case err != nil:
		c.unavailable(w, err)
	default:
		c.render(w, http.StatusOK, "alert", "Alert "+e.Target, alertData{Alert: alertOf(e), Deliveries: jobsOf(jobs)})
	}
}
