package config

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// Secrets and credentials: given inline, with ${ENV} references expanded,
// or in a file (the *_file keys), read when the configuration loads.

// envRef matches ${NAME} references in secret values.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${NAME} with the environment variable's value. An
// unset variable is an error (an empty URL or token is never what was
// meant); the message names the variable, never the value.
func expandEnv(s string) (string, error) {
	var missing []string
	out := envRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := envRef.FindStringSubmatch(ref)[1]
		v, ok := os.LookupEnv(name)
		if !ok {
			missing = append(missing, name)
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("environment variable %s is not set", strings.Join(missing, ", "))
	}
	return out, nil
}

// secretOrFile resolves a secret given inline (with ${ENV} references
// expanded) or in a file (used as is).
func secretOrFile(inline, file, dir string) (string, error) {
	if inline != "" && file != "" {
		return "", errors.New("set the value or the _file variant, not both")
	}
	if file == "" {
		v, err := expandEnv(inline)
		return strings.TrimSpace(v), err
	}
	b, err := os.ReadFile(resolve(dir, file))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(b)), nil
}

// credentialOrFile is secretOrFile for a credential that admits callers:
// not written at all is "no credential" (""), but set to something that
// turns out empty is an error, so a typo or a missing Secret cannot switch
// authentication off. keySet says the key is written in the file even if
// its value is "" or null (bearer_token: "{{ .Values.token }}" rendered
// from an unset value): that is set, and empty.
func credentialOrFile(inline, file, dir string, keySet bool) (string, error) {
	v, err := secretOrFile(inline, file, dir)
	if err != nil {
		return "", err
	}
	if v == "" && (inline != "" || file != "" || keySet) {
		if file != "" {
			return "", fmt.Errorf("%s is empty: a credential file must hold the credential", resolve(dir, file))
		}
		return "", errors.New("is empty (after ${...} expansion and trimming): set a credential or remove the key")
	}
	return v, nil
}
