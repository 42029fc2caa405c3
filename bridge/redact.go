package bridge

import (
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/config"
	"github.com/alertbridge/alertbridge/bridge/notify"
)

// targetRedactor returns the Redactor of a target's configured secrets:
// its URL and the URL's parts, its signing secret, and every credential of
// its http_config (basic auth, authorization, bearer token, OAuth2 client
// secret, proxy URL user info, secret proxy and request headers), inline
// or read from their files now. Delivery results pass through it before
// they reach logs, the targets API and the deliveries API.
func targetRedactor(t *config.Target) *notify.Redactor {
	r := notify.NewRedactor(string(t.Secret)).WithURL(string(t.URL))
	hc := &t.HTTPConfig
	if ba := hc.BasicAuth; ba != nil {
		user := ba.Username
		if ba.UsernameFile != "" {
			user = readSecret(ba.UsernameFile)
		}
		r = r.WithBasicAuth(user, string(ba.Password)).WithBasicAuth(user, readSecret(ba.PasswordFile))
	}
	if a := hc.Authorization; a != nil {
		r = r.With(string(a.Credentials), readSecret(a.CredentialsFile))
	}
	r = r.With(string(hc.BearerToken), readSecret(hc.BearerTokenFile))
	if o := hc.OAuth2; o != nil {
		r = r.With(string(o.ClientSecret), readSecret(o.ClientSecretFile))
		for _, k := range slices.Sorted(maps.Keys(o.EndpointParams)) {
			// Token endpoints take credentials here too (audience keys,
			// assertions), and the config shows them as plain strings.
			r = r.With(o.EndpointParams[k])
		}
		if o.ProxyURL.URL != nil {
			r = r.WithURL(o.ProxyURL.String())
		}
	}
	if hc.ProxyURL.URL != nil {
		r = r.WithURL(hc.ProxyURL.String())
	}
	for _, vs := range hc.ProxyConnectHeader {
		for _, v := range vs {
			r = r.With(string(v))
		}
	}
	if hc.HTTPHeaders != nil {
		for _, h := range hc.HTTPHeaders.Headers {
			for _, v := range h.Secrets {
				r = r.With(string(v))
			}
			for _, f := range h.Files {
				r = r.With(readSecret(f))
			}
		}
	}
	return r
}

// readSecret reads a credential file as the HTTP client does (trimmed);
// "" when there is none or it cannot be read.
func readSecret(path string) string {
	if path == "" {
		return ""
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
