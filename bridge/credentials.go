package bridge

import (
	"fmt"
	"maps"
	"slices"

	"go.uber.org/zap"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/server"
)

// credentials are the credential sources of one configuration: tokens
// (read again from their files when those change) and the API users. The
// web config's users come from the App's webConfig, per request.
type credentials struct {
	ingestToken, apiToken func() string
	apiUsers              map[string]string
}

// newCredentials builds the sources for cfg. A token file that becomes
// empty or unreadable at run time keeps the token in force and is logged.
func newCredentials(cfg *config.Config, log *zap.Logger) *credentials {
	onError := func(path, problem string) {
		log.Error("token file "+problem+"; keeping the previous token", zap.String("file", path))
	}
	source := func(token, file string) func() string {
		switch {
		case token == "":
			return nil
		case file != "":
			return newTokenFile(file, token, onError).get
		}
		return func() string { return token }
	}
	c := &credentials{
		ingestToken: source(string(cfg.Inbound.BearerToken), cfg.Inbound.BearerTokenFile),
		apiToken:    source(string(cfg.API.BearerToken), cfg.API.BearerTokenFile),
	}
	if len(cfg.API.BasicAuthUsers) > 0 {
		c.apiUsers = map[string]string{}
		for u, h := range cfg.API.BasicAuthUsers {
			c.apiUsers[u] = string(h)
		}
	}
	return c
}

// checkCredentials refuses credentials that would let the credential
// Alertmanager holds administer the bridge: an API user who is also a
// basic auth user of the web config (which admits ingest).
func checkCredentials(cfg *config.Config, webUsers map[string]string) error {
	for _, u := range slices.Sorted(maps.Keys(cfg.API.BasicAuthUsers)) {
		if _, ok := webUsers[u]; ok {
			return fmt.Errorf("api.basic_auth_users.%s: %s is also a basic_auth_users entry of --web.config.file, whose users admit Alertmanager (ingest); use different user names for people and for Alertmanager", u, u)
		}
	}
	return nil
}

// Credentials implements server.Backend.
func (a *App) Credentials() server.Credentials {
	c := a.creds.Load()
	var out server.Credentials
	if c.ingestToken != nil {
		out.Ingest.Token = c.ingestToken()
	}
	if c.apiToken != nil {
		out.API.Token = c.apiToken()
	}
	out.Ingest.Users = a.web.users()
	out.API.Users = c.apiUsers
	return out
}

// warnOpenClasses logs, at start, the optional endpoint classes that are
// enabled while no credential guards them.
func (a *App) warnOpenClasses() {
	creds := a.Credentials()
	if creds.API.Configured() || creds.Ingest.Configured() {
		return
	}
	for _, c := range []struct {
		on   bool
		flag string
	}{{a.opts.EnableAdminAPI, server.FlagAdmin}, {a.opts.EnableLifecycle, server.FlagLifecycle}, {a.opts.EnablePprof, server.FlagDebug}} {
		if c.on {
			a.log.Warn("endpoints enabled without any credential: anyone who can reach the listen address can use them; set api.bearer_token or api.basic_auth_users", zap.String("flag", c.flag))
		}
	}
}
