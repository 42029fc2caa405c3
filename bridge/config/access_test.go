package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestEmptyCredentialsAreErrors: a credential that is set but turns out
// empty (an empty or whitespace-only file, ${VAR} set to "", only blanks)
// or cannot be read is a load error naming the key, never "no credential".
func TestEmptyCredentialsAreErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"empty": "", "blank": " \n\t\n", "good": "tok-from-file\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("AB_EMPTY", "")
	t.Setenv("AB_TOKEN", "tok-from-env")
	const target = "\ntargets: [{name: a, type: webhook, url: 'https://example.com/x'}]\n"
	for _, c := range []struct {
		name, yaml string
		want       string // "" means it loads
	}{
		{"inbound token from env", "inbound: {bearer_token: '${AB_TOKEN}'}", ""},
		{"inbound token file", "inbound: {bearer_token_file: good}", ""},
		{"inbound env empty", "inbound: {bearer_token: '${AB_EMPTY}'}", "inbound.bearer_token: is empty"},
		{"inbound whitespace", "inbound: {bearer_token: '   '}", "inbound.bearer_token: is empty"},
		{"inbound empty file", "inbound: {bearer_token_file: empty}", "inbound.bearer_token: " + filepath.Join(dir, "empty") + " is empty"},
		{"inbound blank file", "inbound: {bearer_token_file: blank}", "inbound.bearer_token: " + filepath.Join(dir, "blank") + " is empty"},
		{"inbound missing file", "inbound: {bearer_token_file: nope}", "inbound.bearer_token: open " + filepath.Join(dir, "nope")},
		{"api env empty", "api: {bearer_token: '${AB_EMPTY}'}", "api.bearer_token: is empty"},
		{"api empty file", "api: {bearer_token_file: empty}", "api.bearer_token: " + filepath.Join(dir, "empty") + " is empty"},
		{"api same as inbound", "inbound: {bearer_token: same}\napi: {bearer_token: same}", "api.bearer_token: must differ from inbound.bearer_token"},
		{"api same as inbound file", "inbound: {bearer_token_file: good}\napi: {bearer_token: tok-from-file}", "api.bearer_token: must differ"},
		{"api and inbound differ", "inbound: {bearer_token: a-token}\napi: {bearer_token: b-token}", ""},
		{"api user bad hash", "api: {basic_auth_users: {alice: plaintext}}", "api.basic_auth_users.alice: not a bcrypt hash"},
		{"api user empty hash", "api: {basic_auth_users: {alice: ''}}", "api.basic_auth_users.alice: empty password hash"},
		{"api both token and file", "api: {bearer_token: x, bearer_token_file: good}", "api.bearer_token: set the value or the _file variant, not both"},
		{"inbound explicit empty", "inbound: {bearer_token: ''}", "inbound.bearer_token: is empty"},
		{"inbound explicit empty double quotes", "inbound: {bearer_token: \"\"}", "inbound.bearer_token: is empty"},
		{"inbound no value", "inbound:\n  bearer_token:\n", "inbound.bearer_token: is empty"},
		{"inbound explicit empty file key", "inbound: {bearer_token_file: ''}", "inbound.bearer_token: is empty"},
		{"api explicit empty", "api: {bearer_token: ''}", "api.bearer_token: is empty"},
		{"api explicit empty file key", "api: {bearer_token_file: ''}", "api.bearer_token: is empty"},
		{"inbound without token keys", "inbound: {}", ""},
		{"target secret explicit empty", "targets: [{name: a, type: webhook, url: 'https://example.com/x', secret: ''}]", "targets[0] (a).secret: is empty"},
		{"target url explicit empty", "targets: [{name: a, type: webhook, url: ''}]", "targets[0] (a).url: is empty"},
		{"target secret env empty", "targets: [{name: a, type: webhook, url: 'https://example.com/x', secret: '${AB_EMPTY}'}]", "targets[0] (a).secret: is empty"},
		{"target secret empty file", "targets: [{name: a, type: webhook, url: 'https://example.com/x', secret_file: blank}]", "targets[0] (a).secret: " + filepath.Join(dir, "blank") + " is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := c.yaml
			if !strings.HasPrefix(doc, "targets:") {
				doc += target
			}
			_, err := Parse([]byte(doc), dir)
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "tok-from") {
				t.Errorf("error quotes a credential: %v", err)
			}
		})
	}
}

func TestAPIUsersLoad(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := Parse([]byte("api: {basic_auth_users: {alice: '"+string(hash)+"'}}\ntargets: [{name: a, type: webhook, url: 'https://example.com/x'}]"), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.API.Configured() || cfg.Inbound.Configured() || string(cfg.API.BasicAuthUsers["alice"]) != string(hash) {
		t.Errorf("api = %+v", cfg.API)
	}
}
