package bridge

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/alertmanager/template"
	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/console"
	"github.com/alertbridge/alertbridge/bridge/dialect"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/registry"
	"github.com/alertbridge/alertbridge/bridge/render"
	"github.com/alertbridge/alertbridge/bridge/route"
	"github.com/alertbridge/alertbridge/bridge/server"
)

// playgroundSamples are the notifications the playground offers: the
// built-in and hostile load samples, and one large enough to be split.
var playgroundSamples = []loadSample{
	loadSamples[0], loadSamples[1],
	{"many alerts", manySample},
}

// manySample is a firing group of 60 alerts with long descriptions, so
// every chat type splits it over several messages.
func manySample(now time.Time) *alert.Message {
	msg := alert.Sample(now)
	first := msg.Alerts[0]
	var alerts template.Alerts
	for i := range 60 {
		a := first
		a.Labels = maps.Clone(first.Labels)
		a.Labels["instance"] = fmt.Sprintf("web-%d:9100", i+1)
		a.Annotations = template.KV{"summary": fmt.Sprintf("CPU on web-%d above 95%%", i+1),
			"description": strings.Repeat("Load is high on this host and has been for a while. ", 12)}
		a.Fingerprint = fmt.Sprintf("%016x", 0x5a3b1c9d7e2f4a60+i)
		alerts = append(alerts, a)
	}
	msg.Alerts = alerts
	msg.GroupKey = `{}:{alertname="SampleAlert",many="true"}`
	return msg
}

// PlaygroundChoices implements console.Playground.
func (a *App) PlaygroundChoices() console.PlaygroundChoices {
	c := console.PlaygroundChoices{Targets: a.TargetStatuses(), Types: registry.Types(), Dialects: dialect.Names()}
	for _, s := range playgroundSamples {
		c.Samples = append(c.Samples, s.name)
	}
	return c
}

// playgroundURL is the URL a new target of a type gets in the playground:
// one the type's URL check accepts, on a reserved name that never
// resolves (nothing is sent, and the preview shows only scheme and host).
func playgroundURL(typ string) string {
	switch typ {
	case "telegram":
		return "https://playground.invalid/bot0:playground/sendMessage"
	case "mattermost":
		return "https://playground.invalid/hooks/playground"
	case "rocketchat":
		return "https://playground.invalid/hooks/playground/token"
	}
	return "https://playground.invalid/hook"
}

// playgroundOptions are the options a new target of a type needs to be
// valid at all.
var playgroundOptions = map[string]map[string]any{
	"telegram": {"chat_id": "-1001234567890"},
}

// Playground implements console.Playground: it builds the target as the
// runtime would (a configured target's settings, or a new one of a type
// and dialect; the edited template in place of its own), renders the
// notification through its routing view and the notifier's Build
// (template, JSON checks, the platform's limits, splitting), and returns
// the requests without signatures, with credential headers and the
// target's secrets redacted. Nothing is sent.
func (a *App) Playground(req console.PlaygroundRequest) (*console.PlaygroundResult, error) {
	now := a.now()
	msg, err := playgroundMessage(req, now)
	if err != nil {
		return nil, err
	}
	rt := a.rt.Load()
	t, err := playgroundTarget(rt.cfg, req)
	if err != nil {
		return nil, err
	}
	in, _, ok := registry.Lookup(t.Type)
	if !ok {
		return nil, fmt.Errorf("unknown type %q (one of %s)", t.Type, strings.Join(registry.Types(), ", "))
	}
	set, err := render.New(render.Options{Globs: rt.cfg.Templates, Inline: inlineTemplates(t, in), Location: rt.cfg.Location})
	if err != nil {
		return nil, templateError(t.Name, err)
	}
	tr, err := buildTarget(t, set, rt.cfg.Location, a.sender.UserAgent, a.now)
	if err != nil {
		return nil, templateError(t.Name, err)
	}
	defer tr.client.CloseIdleConnections()
	view := (&route.Target{Name: t.Name, Enabled: true, SendResolved: t.SendsResolved(), MaxAlerts: t.MaxAlerts}).View(rt.builder.BuildSeen(msg, now, nil))
	if view == nil {
		return nil, errors.New("nothing to send: the target drops every alert of this notification (send_resolved: false)")
	}
	reqs, err := tr.unsigned.Build(context.Background(), view)
	if err != nil {
		return nil, templateError(t.Name, err)
	}
	res := &console.PlaygroundResult{Messages: []console.Message{}}
	for _, r := range reqs {
		hd := tr.redact.RedactHeader(r.Header)
		m := console.Message{Method: r.Method, URL: notify.RedactURL(r.URL), Body: tr.redact.Redact(string(r.Body)), Headers: []console.Header{}}
		for _, k := range slices.Sorted(maps.Keys(hd)) {
			m.Headers = append(m.Headers, console.Header{Name: k, Value: strings.Join(hd[k], ", ")})
		}
		m.Sizes = measure(t.Type, r.Body)
		res.Messages = append(res.Messages, m)
	}
	return res, nil
}

// playgroundMessage is the pasted payload, or the named sample.
func playgroundMessage(req console.PlaygroundRequest, now time.Time) (*alert.Message, error) {
	if strings.TrimSpace(req.Payload) != "" {
		msg, err := alert.Decode(strings.NewReader(req.Payload))
		if err != nil {
			return nil, &console.PayloadError{Err: err}
		}
		return msg, nil
	}
	for _, s := range playgroundSamples {
		if s.name == req.Sample || req.Sample == "" {
			return s.msg(now), nil
		}
	}
	return nil, &console.PayloadError{Err: fmt.Errorf("unknown sample %q", req.Sample)}
}

// playgroundTarget is the configured target (a copy) or a new one, with
// the edited template when req is custom.
func playgroundTarget(cfg *config.Config, req console.PlaygroundRequest) (*config.Target, error) {
	var t config.Target
	if req.Target != "" {
		i := slices.IndexFunc(cfg.Targets, func(t *config.Target) bool { return t.Name == req.Target })
		if i < 0 {
			return nil, fmt.Errorf("%w %q", server.ErrUnknownTarget, req.Target)
		}
		t = *cfg.Targets[i]
	} else {
		in, name, ok := registry.Lookup(req.Type)
		if !ok {
			return nil, fmt.Errorf("unknown type %q (one of %s)", req.Type, strings.Join(registry.Types(), ", "))
		}
		if !slices.Contains(dialect.Names(), req.Dialect) && req.Dialect != "" {
			return nil, fmt.Errorf("unknown dialect %q (one of %s)", req.Dialect, strings.Join(dialect.Names(), ", "))
		}
		t = config.Target{Name: "playground", Type: name, Dialect: req.Dialect, Retry: &config.Retry{}}
		if t.Dialect == "" {
			t.Dialect = dialect.Alertmanager
		}
		t.URL = commonSecret(playgroundURL(name))
		if in.Options != nil {
			t.Options = in.Options()
			if err := decodeOptions(t.Options, playgroundOptions[name]); err != nil {
				return nil, err
			}
		}
	}
	if req.Custom {
		t.BodyText, t.TemplateFile, t.Template, t.TemplateLine = req.Template, "", req.Template, 0
	}
	return &t, nil
}

// templateCoords finds the line and column text/template reports for the
// playground's template (target/<name>/body:LINE[:COL]).
var templateCoords = regexp.MustCompile(`target/[^/:]+/body:(\d+)(?::(\d+))?`)

// templateError turns an error that names the target's body template
// into a *console.TemplateError with its line and column; others pass.
func templateError(name string, err error) error {
	m := templateCoords.FindStringSubmatch(err.Error())
	if m == nil || !strings.Contains(err.Error(), bodyTemplateName(name)) {
		return err
	}
	te := &console.TemplateError{Msg: err.Error()}
	te.Line, _ = strconv.Atoi(m[1])
	if m[2] != "" {
		te.Column, _ = strconv.Atoi(m[2])
	}
	return te
}

func commonSecret(s string) commoncfg.Secret { return commoncfg.Secret(s) }

// decodeOptions fills a type's options struct from keys, as the
// configuration's YAML would, and validates it.
func decodeOptions(opts any, keys map[string]any) error {
	b, err := yaml.Marshal(keys)
	if err != nil {
		return err
	}
	if keys != nil {
		if err := yaml.Unmarshal(b, opts); err != nil {
			return err
		}
	}
	if v, ok := opts.(interface{ Validate() error }); ok {
		return v.Validate()
	}
	return nil
}
