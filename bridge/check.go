package bridge

import (
	"context"
	"fmt"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/config"
)

// CheckConfig validates a configuration file the way the bridge would load
// it (strict decoding, files, matchers, templates, HTTP clients) and renders
// every target against sample data, so a template that only fails at run
// time is caught too. It returns every problem found; errors never contain
// URLs or secrets.
func CheckConfig(file string) []error {
	cfg, err := config.Load(file)
	if err != nil {
		return []error{err}
	}
	now := time.Now()
	rt, err := buildRuntime(cfg, "alertbridge/check-config", func() time.Time { return now })
	if err != nil {
		return []error{err}
	}
	defer rt.close()
	g := rt.builder.BuildSeen(alert.Sample(now), now, nil)
	var errs []error
	for _, t := range cfg.Targets {
		view := g
		if r, ok := rt.router.Lookup(t.Name); ok {
			if v := r.View(g); v != nil {
				view = v
			}
		}
		tr := rt.targets[t.Name]
		if _, err := tr.notifier.Build(context.Background(), view); err != nil {
			errs = append(errs, fmt.Errorf("target %s: rendering sample data: %w", t.Name, err))
		}
	}
	return errs
}
