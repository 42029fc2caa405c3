package config

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/alertbridge/alertbridge/bridge/notify/registry"
)

// TargetFileRules are the operator's constraints on the targets of
// target files (the main file's targets are not constrained). Empty
// lists allow everything.
type TargetFileRules struct {
	// AllowedTypes are the target types a target file may use.
	AllowedTypes []string `yaml:"allowed_types"`
	// AllowedURLHosts are path.Match patterns ("*.slack.com",
	// "open.feishu.cn") one of which a target's URL host (without port,
	// lower case) must match. When set, a target file may also not set
	// http_config.proxy_url, http_config.oauth2 or
	// http_config.follow_redirects: true, which would send requests to
	// hosts the patterns do not cover.
	AllowedURLHosts []string `yaml:"allowed_url_hosts"`
}

// validate checks the rules as written in the main file.
func (r *TargetFileRules) validate() error {
	if r == nil {
		return nil
	}
	var errs []error
	for i, typ := range r.AllowedTypes {
		if _, _, known := registry.Lookup(typ); !known {
			errs = append(errs, fmt.Errorf("target_file_rules.allowed_types[%d]: unknown type %q (one of %s)", i, typ, strings.Join(registry.Types(), ", ")))
		}
	}
	for i, p := range r.AllowedURLHosts {
		if _, err := path.Match(p, ""); err != nil || p == "" {
			errs = append(errs, fmt.Errorf("target_file_rules.allowed_url_hosts[%d]: %q is not a host pattern", i, p))
		}
	}
	return errors.Join(errs...)
}

// check applies the rules to a target of a target file, decoded but not
// yet loaded (its url not yet resolved), whose YAML node is n. Whatever
// the rules, a target file may not use ${ENV} references in url or secret
// (they would expand the bridge's environment into a team's URL).
func (r *TargetFileRules) check(p string, t *Target, n *yaml.Node) []error {
	var errs []error
	fail := func(key string, line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s.%s: %s (line %d)", p, key, fmt.Sprintf(format, args...), line))
	}
	if envRef.MatchString(string(t.URL)) {
		fail("url", valueLine(n, "url"), "${...} references are not allowed in a target file")
	}
	if envRef.MatchString(string(t.Secret)) {
		fail("secret", valueLine(n, "secret"), "${...} references are not allowed in a target file")
	}
	if r == nil {
		return errs
	}
	if len(r.AllowedTypes) > 0 && t.Type != "" {
		_, canonical, _ := registry.Lookup(t.Type)
		if !slices.ContainsFunc(r.AllowedTypes, func(a string) bool {
			_, c, _ := registry.Lookup(a)
			return c == canonical || a == t.Type
		}) {
			fail("type", valueLine(n, "type"), "type %q is not allowed in target files (target_file_rules.allowed_types: %s)", t.Type, strings.Join(r.AllowedTypes, ", "))
		}
	}
	if len(r.AllowedURLHosts) == 0 {
		return errs
	}
	if u, err := url.Parse(strings.TrimSpace(string(t.URL))); err == nil && u.Host != "" && !r.hostAllowed(u.Hostname()) {
		// The host is the operator's concern, not a secret; the rest of
		// the URL (path, query: the credential) is never shown.
		fail("url", valueLine(n, "url"), "host %q is not allowed in target files (target_file_rules.allowed_url_hosts: %s)", u.Hostname(), strings.Join(r.AllowedURLHosts, ", "))
	}
	for _, key := range [][]string{{"http_config", "proxy_url"}, {"http_config", "oauth2"}} {
		if hasKey(n, key...) {
			fail(strings.Join(key, "."), keyLine(n, key...), "not allowed in a target file when target_file_rules.allowed_url_hosts is set")
		}
	}
	if t.HTTPConfig.FollowRedirects {
		fail("http_config.follow_redirects", keyLine(n, "http_config", "follow_redirects"), "redirects are not followed for target files when target_file_rules.allowed_url_hosts is set")
	}
	return errs
}

// hostAllowed matches host against the patterns, ignoring case.
func (r *TargetFileRules) hostAllowed(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range r.AllowedURLHosts {
		if ok, _ := path.Match(strings.ToLower(p), host); ok {
			return true
		}
	}
	return false
}

// refusedKeys reports every key ending in _file under a target of a
// target file (url_file, secret_file, template_file, and http_config's
// password_file, bearer_token_file, credentials_file, ca_file, cert_file,
// key_file ...), and http_config.http_headers' files lists: they would
// read the bridge's own files and send them to the team's URL.
func refusedKeys(n *yaml.Node, p string) []error {
	if n == nil {
		return nil
	}
	var errs []error
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if strings.HasSuffix(k.Value, "_file") || k.Value == "files" {
				errs = append(errs, fmt.Errorf("%s: not allowed in a target file: it would read a file of the bridge (line %d)", join(p, k.Value), k.Line))
				continue
			}
			errs = append(errs, refusedKeys(n.Content[i+1], join(p, k.Value))...)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			errs = append(errs, refusedKeys(c, fmt.Sprintf("%s[%d]", p, i))...)
		}
	case yaml.AliasNode:
		errs = append(errs, refusedKeys(n.Alias, p)...)
	}
	return errs
}

// keyLine is the line of the nested key path in the mapping node n; 0
// when absent.
func keyLine(n *yaml.Node, keys ...string) int {
	for i, key := range keys {
		if n == nil || n.Kind != yaml.MappingNode {
			return 0
		}
		var next *yaml.Node
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == key {
				if i == len(keys)-1 {
					return n.Content[j].Line
				}
				next = n.Content[j+1]
			}
		}
		n = next
	}
	return 0
}
