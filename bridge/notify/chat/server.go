package chat

import (
	"errors"
	"net/url"
	"strings"
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
