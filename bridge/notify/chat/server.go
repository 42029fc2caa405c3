package chat

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// CheckServerURL vets the url of a target in an API mode, which is the
// chat server's address and nothing more: no incoming webhook path
// (/hooks/), no API path (apiPath, such as "/api/v4": the bridge adds
// the API's paths), no query or fragment. Errors never quote the url.
func CheckServerURL(u *url.URL, apiPath string) error {
	p := strings.ToLower(u.Path)
	switch {
	case strings.Contains(p, "/hooks/"):
		return errors.New("with a secret (the API mode) the url is the server's address, not an incoming webhook URL")
	case strings.Contains(p+"/", apiPath+"/"):
		return errors.New("the server's address, without " + apiPath + " (the bridge adds the API paths)")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("the server's address takes no query or fragment")
	}
	return nil
}

// CheckModeURL vets the url of a target whose secret selects its mode:
// with a secret (the API mode) by server, the server's address; without,
// by webhook, an incoming webhook's URL. It is nil without a url, else
// the check's error prefixed with "url: ".
func CheckModeURL(t registry.Target, webhook, server func(*url.URL) error) error {
	if t.URL == nil {
		return nil
	}
	check := webhook
	if t.Secret {
		check = server
	}
	if err := check(t.URL); err != nil {
		return fmt.Errorf("url: %w", err)
	}
	return nil
}

// JoinSorted is errors.Join of errs sorted by message: a load-time check
// that finds its errors in no fixed order (ranging over a map) reports
// them in the same order every time. It sorts errs in place.
func JoinSorted(errs []error) error {
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}
