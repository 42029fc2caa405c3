package bridge

import (
	"fmt"
	"net/http"
	"time"

	commoncfg "github.com/prometheus/common/config"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	// Every target type registers itself; this line makes them known.
	_ "github.com/alertbridge/alertbridge/bridge/notify/all"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	"github.com/alertbridge/alertbridge/bridge/queue"
	"github.com/alertbridge/alertbridge/bridge/render"
	"github.com/alertbridge/alertbridge/bridge/route"
)

// runtime is everything built from one configuration load. It is immutable
// after buildRuntime returns; a reload builds a new one and swaps it in.
type runtime struct {
	cfg     *config.Config
	router  *route.Router
	builder *alert.Builder
	targets map[string]*targetRuntime
}

type targetRuntime struct {
	name     string
	typ      string
	notifier notify.Notifier
	client   *http.Client
	policy   queue.Policy
	// unsigned builds the target's requests as if it had no secret, for
	// previews without signatures (the notifier itself when there is no
	// secret); redact scrubs the target's secrets (see redact.go).
	unsigned notify.Notifier
	redact   *notify.Redactor
}

// bodyTemplateName and headerTemplateName name a target's inline templates.
func bodyTemplateName(target string) string { return "target/" + target + "/body" }
func headerTemplateName(target, header string) string {
	return "target/" + target + "/header/" + header
}

// inlineTemplates are a target's own body and header templates, named for
// it and marked for the escaping its type's bodies need.
func inlineTemplates(t *config.Target, in registry.Integration) []render.Inline {
	var inline []render.Inline
	if t.BodyText != "" {
		body := render.Inline{Name: bodyTemplateName(t.Name), Text: dialect.Text(t.Dialect, t.BodyText), JSON: in.JSONBody && !t.TextBody}
		if body.JSON {
			body.Markup = in.Markup
		}
		inline = append(inline, body)
	}
	for h, text := range t.Headers {
		inline = append(inline, render.Inline{Name: headerTemplateName(t.Name, h), Text: dialect.Text(t.Dialect, text)})
	}
	return inline
}

// buildRuntime turns a validated config into a runtime: templates parsed,
// notifiers and HTTP clients built. Any error leaves nothing half-built
// behind except idle clients, which the caller closes.
func buildRuntime(cfg *config.Config, userAgent string, now func() time.Time) (*runtime, error) {
	var inline []render.Inline
	for _, t := range cfg.Targets {
		in, _, _ := registry.Lookup(t.Type)
		inline = append(inline, inlineTemplates(t, in)...)
	}
	set, err := render.New(render.Options{Globs: cfg.Templates, Inline: inline, Location: cfg.Location})
	if err != nil {
		return nil, fmt.Errorf("templates: %w", err)
	}
	rt := &runtime{
		cfg: cfg,
		builder: &alert.Builder{
			SeverityLabel: cfg.Global.SeverityLabel,
			Priorities:    cfg.Global.Priorities,
			Location:      cfg.Location,
			ExternalURL:   cfg.Global.ExternalURL,
			// No Recorder: counters are updated inside the store's
			// acceptance transaction (BuildSeen).
		},
		targets: map[string]*targetRuntime{},
	}
	var routes []*route.Target
	for _, t := range cfg.Targets {
		tr, err := buildTarget(t, set, cfg.Location, userAgent, now)
		if err != nil {
			rt.close()
			return nil, fmt.Errorf("target %s: %w", t.Name, err)
		}
		rt.targets[t.Name] = tr
		routes = append(routes, &route.Target{
			Name: t.Name, Enabled: t.IsEnabled(), Matchers: t.Matchers,
			SendResolved: t.SendsResolved(), MaxAlerts: t.MaxAlerts,
		})
	}
	rt.router = route.New(routes)
	if err := rt.checkSamples(now()); err != nil {
		rt.close()
		return nil, err
	}
	return rt, nil
}

func buildTarget(t *config.Target, set *render.Set, loc *time.Location, userAgent string, now func() time.Time) (*targetRuntime, error) {
	in, _, _ := registry.Lookup(t.Type)
	d, err := dialect.New(t.Dialect, dialect.Options{Location: loc, Secret: string(t.Secret)})
	if err != nil {
		return nil, err
	}
	s := notify.Settings{
		Dialect:   d,
		TextBody:  t.TextBody,
		Name:      t.Name,
		URL:       string(t.URL),
		Secret:    string(t.Secret),
		Templates: set,
		Options:   t.Options,
		Update:    t.Update,
		Now:       now,
	}
	if t.BodyText != "" {
		s.BodyTemplate = bodyTemplateName(t.Name)
	}
	if len(t.Headers) > 0 {
		s.HeaderTemplates = map[string]string{}
		for h := range t.Headers {
			s.HeaderTemplates[h] = headerTemplateName(t.Name, h)
		}
	}
	if t.Verify != nil {
		s.Verify = t.Verify
	}
	n, err := in.New(s)
	if err != nil {
		return nil, err
	}
	unsigned := n
	if s.Secret != "" {
		u := s
		u.Secret = ""
		if u.Dialect, err = dialect.New(t.Dialect, dialect.Options{Location: loc}); err != nil {
			return nil, err
		}
		if unsigned, err = in.New(u); err != nil {
			return nil, err
		}
	}
	client, err := commoncfg.NewClientFromConfig(t.HTTPConfig, "alertbridge_"+t.Name, commoncfg.WithUserAgent(userAgent))
	if err != nil {
		return nil, fmt.Errorf("http_config: %w", err)
	}
	return &targetRuntime{
		name: t.Name, typ: t.Type, notifier: n, client: client, unsigned: unsigned, redact: targetRedactor(t),
		policy: queue.Policy{
			Attempts:    t.Retry.Attempts,
			Interval:    time.Duration(t.Retry.Interval),
			MaxInterval: time.Duration(t.Retry.MaxInterval),
			MaxAge:      time.Duration(t.Retry.MaxAge),
			Timeout:     time.Duration(t.Timeout),
			Rate:        t.RateLimit.Limit(),
			Burst:       t.RateLimit.BurstSize(),
			MaxInFlight: t.MaxInFlight,
		},
	}, nil
}

// close releases the runtime's idle connections.
func (rt *runtime) close() {
	for _, t := range rt.targets {
		t.client.CloseIdleConnections()
	}
}
