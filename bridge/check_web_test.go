package bridge

import (
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestCheckConfigReadsTheWebConfig: check-config finds what the bridge
// would refuse at start because of --web.config.file.
func TestCheckConfigReadsTheWebConfig(t *testing.T) {
	h, err := bcrypt.GenerateFromPassword([]byte("pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	hash := string(h)
	withToken := "inbound: {bearer_token: am-token}\napi:\n  basic_auth_users: {alice: '" + hash + "'}\ntargets: [{name: a, type: webhook, url: 'http://127.0.0.1:1/'}]\n"
	noToken := "targets: [{name: a, type: webhook, url: 'http://127.0.0.1:1/'}]\n"
	for _, tc := range []struct {
		name, cfg, web, want string
	}{
		{"no web config", noToken, "", ""},
		{"users apart", withToken, "basic_auth_users:\n  alertmanager: " + hash + "\n", ""},
		{"a user name shared with the api", withToken, "basic_auth_users:\n  alice: " + hash + "\n", "api.basic_auth_users.alice: alice is also a basic_auth_users entry"},
		{"empty and the only credential", noToken, "# nothing\n", "is empty, and no inbound.bearer_token is configured"},
		{"not bcrypt", withToken, "basic_auth_users:\n  alertmanager: plain\n", "web config"},
		{"unknown key", withToken, "basic_auth_user:\n  alertmanager: " + hash + "\n", "web config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := filepath.Join(dir, "alertbridge.yml")
			writeFile(t, cfg, tc.cfg)
			web := ""
			if tc.web != "" {
				web = filepath.Join(dir, "web.yml")
				writeFile(t, web, tc.web)
			}
			errs := CheckConfigWithWeb(cfg, web)
			var all []string
			for _, err := range errs {
				all = append(all, err.Error())
			}
			got := strings.Join(all, "\n")
			switch {
			case tc.want == "" && got != "":
				t.Errorf("errors: %s", got)
			case tc.want != "" && !strings.Contains(got, tc.want):
				t.Errorf("errors %q, want one naming %q", got, tc.want)
			}
		})
	}
}
