package jetstream

import (
	"bytes"
	"testing"
	"time"

	"github.com/prometheus/alertmanager/template"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/store"
)

func TestCommandRoundTrip(t *testing.T) {
	g := &alert.Group{Data: template.Data{Receiver: "r", Status: "firing", Alerts: template.Alerts{
		{Status: "firing", Labels: template.KV{"alertname": "A", "x": "\x00<\"'>"}},
		{Status: "resolved", Labels: template.KV{"alertname": "B"}},
	}}, GroupKey: "{}:{}", ReceivedAt: time.Unix(1700000000, 5).UTC(),
		Records: []alert.Record{{ID: 11, Content: "a"}, {ID: 12, Content: "b"}}}
	view := &alert.Group{Data: template.Data{Alerts: g.Alerts[1:]}, Records: g.Records[1:]}
	req := store.AcceptRequest{DedupKey: "k", DedupWindow: time.Minute, Now: time.Unix(1700000001, 0).UTC(),
		Group: g, Jobs: []store.NewJob{{Job: &store.Job{Target: "t", GroupKey: "{}:{}"}, Group: view}},
		Body: []byte(`{"version":"4"}`), Location: time.UTC}
	c, err := acceptCommand(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := encode(c, req.Body)
	if err != nil {
		t.Fatal(err)
	}
	back, body, err := decode(data)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.acceptRequest(body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, req.Body) || got.DedupKey != "k" || !got.Now.Equal(req.Now) || got.Location != time.UTC {
		t.Errorf("request = %+v", got)
	}
	if len(got.Jobs) != 1 || len(got.Jobs[0].Group.Records) != 1 || got.Jobs[0].Group.Records[0].ID != 12 ||
		got.Jobs[0].Group.Alerts[0].Labels["alertname"] != "B" {
		t.Errorf("job view = %+v", got.Jobs[0].Group)
	}
	if got.Group.Alerts[0].Labels["x"] != "\x00<\"'>" || !got.Group.ReceivedAt.Equal(g.ReceivedAt) {
		t.Errorf("group = %+v", got.Group)
	}
}

func TestAcceptCommandRefusesForeignAlerts(t *testing.T) {
	g := &alert.Group{Data: template.Data{Alerts: template.Alerts{{}}}, Records: []alert.Record{{ID: 1}}}
	other := &alert.Group{Data: template.Data{Alerts: template.Alerts{{}}}, Records: []alert.Record{{ID: 2}}}
	_, err := acceptCommand(store.AcceptRequest{Group: g, Jobs: []store.NewJob{{Job: &store.Job{Target: "t"}, Group: other}}})
	if err == nil {
		t.Fatal("a job carrying an alert its group lacks was accepted")
	}
}

// FuzzDecode: a log message of any shape decodes to an error or to a
// command whose acceptance rebuilds without panicking; nothing it names
// reaches past the group.
func FuzzDecode(f *testing.F) {
	c, _ := acceptCommand(store.AcceptRequest{Group: &alert.Group{Data: template.Data{Alerts: template.Alerts{{}}}, Records: []alert.Record{{ID: 1}}},
		Jobs: []store.NewJob{{Job: &store.Job{Target: "t"}, Group: &alert.Group{Data: template.Data{Alerts: template.Alerts{{}}}, Records: []alert.Record{{ID: 1}}}}}})
	good, _ := encode(c, []byte("body"))
	f.Add(good)
	f.Add([]byte{0, 0, 0, 2, '{', '}'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte(`{"op":"accept","jobs":[{"alerts":[5]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, body, err := decode(data)
		if err != nil {
			return
		}
		if c.Op == opAccept {
			req, err := c.acceptRequest(body)
			if err != nil {
				return
			}
			for _, j := range req.Jobs {
				if len(j.Group.Alerts) != len(j.Group.Records) {
					t.Fatalf("a view with %d alerts and %d records", len(j.Group.Alerts), len(j.Group.Records))
				}
			}
		}
	})
}
