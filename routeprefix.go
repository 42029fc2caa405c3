package main

import (
	"fmt"
	"net/url"

	"github.com/alertbridge/alertbridge/bridge/server"
)

// routePrefixOf is the route prefix in force, as Prometheus derives it:
// --web.route-prefix when given, else the path of --web.external-url;
// "" means the root. An external URL must be an absolute http or https
// URL.
func routePrefixOf(externalURL, routePrefix string) (string, error) {
	path := ""
	if externalURL != "" {
		u, err := url.Parse(externalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("--web.external-url must be an absolute http or https URL (http://bridge.example.com/alertbridge)")
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			return "", fmt.Errorf("--web.external-url must not carry user info, a query or a fragment")
		}
		path = u.Path
	}
	if routePrefix != "" {
		path = routePrefix
	}
	return server.CleanPrefix(path), nil
}
