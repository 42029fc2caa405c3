package bridge

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/server"
)

// CheckConfig validates a configuration file the way the bridge would load
// it (strict decoding, files, matchers, templates, HTTP clients) and renders
// every target from the built-in and the hostile sample through its
// notifier's checks, so a template that only fails at run time is caught
// too. It does not stop at the first phase with problems: the targets that
// pass validation go on to their templates and rendering, so one run
// reports every problem of every phase, each named by its key path (and
// line where the problem has one). Errors never contain URLs or secrets.
func CheckConfig(file string) []error { return CheckConfigWithWeb(file, "") }

// CheckConfigWithWeb is CheckConfig together with the --web.config.file
// the bridge would be started with (empty for none): the file's own rules
// as exporter-toolkit applies them, an empty file that would leave ingest
// without a credential, and user names shared with api.basic_auth_users,
// which the bridge refuses at start.
func CheckConfigWithWeb(file, webConfigFile string) []error {
	cfg, errs := config.Check(file)
	if cfg == nil {
		return errs
	}
	if webConfigFile != "" {
		w, err := loadWebConfig(webConfigFile, cfg.Inbound.Configured(), zap.NewNop())
		if err == nil {
			err = checkCredentials(cfg, w.users())
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return append(errs, checkTemplatesAndTargets(cfg, time.Now())...)
}

// Render builds exactly the requests the named target would send for a
// notification: the one in payload (an Alertmanager webhook body), or the
// built-in sample when payload is nil. Routing is not applied (as with
// POST /webhook/{target}), but send_resolved and max_alerts are. The
// requests carry the real URL; callers must not print it.
func Render(file, target string, payload io.Reader) ([]*notify.Request, error) {
	cfg, err := config.Load(file)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	rt, err := buildRuntime(cfg, "alertbridge/render", func() time.Time { return now })
	if err != nil {
		return nil, err
	}
	defer rt.close()
	msg := alert.Sample(now)
	if payload != nil {
		if msg, err = alert.Decode(payload); err != nil {
			return nil, fmt.Errorf("payload: %w", err)
		}
	}
	return rt.render(target, msg, now)
}

// render builds the requests target would send for msg. Errors:
// server.ErrUnknownTarget, or a description of why nothing would be sent.
func (rt *runtime) render(target string, msg *alert.Message, now time.Time) ([]*notify.Request, error) {
	g, err := rt.view(target, msg, now)
	if err != nil {
		return nil, err
	}
	return rt.targets[target].notifier.Build(context.Background(), g)
}

// view is the group target would be sent for msg. Errors:
// server.ErrUnknownTarget, or a description of why nothing would be sent.
func (rt *runtime) view(target string, msg *alert.Message, now time.Time) (*alert.Group, error) {
	route, ok := rt.router.Lookup(target)
	if !ok {
		return nil, fmt.Errorf("%w %q", server.ErrUnknownTarget, target)
	}
	g := route.View(rt.builder.BuildSeen(msg, now, nil))
	if g == nil {
		return nil, errors.New("nothing to send: the target drops every alert of this notification (send_resolved: false)")
	}
	return g, nil
}
