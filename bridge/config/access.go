package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	commoncfg "github.com/prometheus/common/config"
	"go.yaml.in/yaml/v3"
	"golang.org/x/crypto/bcrypt"
)

// Inbound is the credential Alertmanager presents to post notifications.
// It admits the ingest endpoints (/webhook, /webhook/{target}) and, while
// no API credential is configured, the read endpoints; never the admin,
// lifecycle or debug ones. TLS, and basic auth users that are alternatives
// to the token, come from --web.config.file (exporter-toolkit).
type Inbound struct {
	// BearerToken, or BearerTokenFile, when set, admits
	// "Authorization: Bearer <token>". An empty or whitespace-only value
	// (an empty file, ${VAR} set to "") is an error, never "no token".
	BearerToken     commoncfg.Secret `yaml:"bearer_token"`
	BearerTokenFile string           `yaml:"bearer_token_file"`

	// keySet records that bearer_token or bearer_token_file is written
	// in the file, even as "" or with no value (what Helm or envsubst
	// produce from an unset value): then an empty token is an error.
	keySet bool
}

// UnmarshalYAML records whether a token key is present (see keySet).
func (in *Inbound) UnmarshalYAML(node *yaml.Node) error {
	type plain Inbound
	if err := node.Decode((*plain)(in)); err != nil {
		return err
	}
	in.keySet = hasKey(node, "bearer_token") || hasKey(node, "bearer_token_file")
	return nil
}

// API is the credential people and tools present to the read, admin,
// lifecycle and debug endpoints. When it is set, the inbound credential no
// longer admits the read endpoints.
type API struct {
	// BearerToken, or BearerTokenFile, admits "Authorization: Bearer
	// <token>". It must differ from inbound.bearer_token. Empty values are
	// errors, as for Inbound.
	BearerToken     commoncfg.Secret `yaml:"bearer_token"`
	BearerTokenFile string           `yaml:"bearer_token_file"`
	// BasicAuthUsers maps a user name to a bcrypt hash of the password,
	// as exporter-toolkit's basic_auth_users do.
	BasicAuthUsers map[string]commoncfg.Secret `yaml:"basic_auth_users"`

	keySet bool // as Inbound's
}

// UnmarshalYAML records whether a token key is present (see Inbound.keySet).
func (a *API) UnmarshalYAML(node *yaml.Node) error {
	type plain API
	if err := node.Decode((*plain)(a)); err != nil {
		return err
	}
	a.keySet = hasKey(node, "bearer_token") || hasKey(node, "bearer_token_file")
	return nil
}

// Configured reports whether any API credential is set.
func (a *API) Configured() bool { return a.BearerToken != "" || len(a.BasicAuthUsers) > 0 }

// Configured reports whether an inbound credential is set.
func (in *Inbound) Configured() bool { return in.BearerToken != "" }

// load resolves the inbound token (inline with ${ENV} expanded, or
// from its file) and resolves the file's path against dir.
func (in *Inbound) load(dir string) error {
	token, err := credentialOrFile(string(in.BearerToken), in.BearerTokenFile, dir, in.keySet)
	in.BearerToken = commoncfg.Secret(token)
	in.BearerTokenFile = resolve(dir, in.BearerTokenFile)
	if err != nil {
		return fmt.Errorf("inbound.bearer_token: %w", err)
	}
	return nil
}

// load resolves the API token as Inbound's, checks the users' hashes,
// and refuses an API token equal to the inbound one (the Alertmanager
// credential would then administer the bridge).
func (a *API) load(dir string, in *Inbound) error {
	var errs []error
	token, err := credentialOrFile(string(a.BearerToken), a.BearerTokenFile, dir, a.keySet)
	a.BearerToken = commoncfg.Secret(token)
	a.BearerTokenFile = resolve(dir, a.BearerTokenFile)
	switch {
	case err != nil:
		errs = append(errs, fmt.Errorf("api.bearer_token: %w", err))
	case token != "" && token == string(in.BearerToken):
		errs = append(errs, errors.New("api.bearer_token: must differ from inbound.bearer_token: the credential Alertmanager holds must not administer the bridge"))
	}
	for _, user := range slices.Sorted(maps.Keys(a.BasicAuthUsers)) {
		hash := a.BasicAuthUsers[user]
		switch {
		case user == "" || strings.ContainsAny(user, ":\r\n"):
			errs = append(errs, fmt.Errorf("api.basic_auth_users: %q is not a valid user name (non-empty, no ':')", user))
		case strings.TrimSpace(string(hash)) == "":
			errs = append(errs, fmt.Errorf("api.basic_auth_users.%s: empty password hash", user))
		default:
			if _, err := bcrypt.Cost([]byte(hash)); err != nil {
				errs = append(errs, fmt.Errorf("api.basic_auth_users.%s: not a bcrypt hash (make one with htpasswd -nBC 10 \"\" | tr -d ':\\n')", user))
			}
		}
	}
	return errors.Join(errs...)
}
