package bridge

import (
	"context"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// Render implements server.Renderer with the running configuration: msg
// nil means the built-in sample. Signed, the requests are exactly what the
// target would be sent (the caller must not print the URL). Unsigned (the
// read-class preview), they are built as if the target had no secret, the
// values of headers named like credentials are replaced, and the target's
// configured secrets are scrubbed from headers and bodies.
func (a *App) Render(target string, msg *alert.Message, signed bool) ([]*notify.Request, error) {
	now := a.now()
	if msg == nil {
		msg = alert.Sample(now)
	}
	rt := a.rt.Load()
	if signed {
		return rt.render(target, msg, now)
	}
	g, err := rt.view(target, msg, now)
	if err != nil {
		return nil, err
	}
	tr := rt.targets[target]
	reqs, err := tr.unsigned.Build(context.Background(), g)
	if err != nil {
		return nil, err
	}
	for _, req := range reqs {
		req.Header = tr.redact.RedactHeader(req.Header)
		req.Body = []byte(tr.redact.Redact(string(req.Body)))
	}
	return reqs, nil
}
