package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// targetFilesMain is a main configuration with one target, target files
// under targets.d and the operator's rules.
const targetFilesMain = `
targets:
  - name: ops
    type: webhook
    url: https://hooks.example.com/ops
target_files: [targets.d/*.yml]
target_file_rules:
  allowed_types: [slack, webhook]
  allowed_url_hosts: ["*.slack.com", "hooks.example.com"]
`

// writeTargetFiles writes main as alertbridge.yml and files under dir.
func writeTargetFiles(t *testing.T, main string, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "targets.d"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "alertbridge.yml"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "alertbridge.yml")
}

func targetNames(cfg *Config) []string {
	var out []string
	for _, t := range cfg.Targets {
		out = append(out, t.Name)
	}
	return out
}

const goodTeamFile = `
- name: team-a-slack
  type: slack
  url: https://hooks.slack.com/services/T0/B0/secretpart
  match: ['team="a"']
`

func TestTargetFileHostileInput(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []string // substrings of the file's error
	}{
		{"unknown key", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  urll: x\n",
			[]string{"targets.d/team-b.yml: [0] (b).urll: unknown field for type webhook (line 4)"}},
		{"loopback url", "- name: b\n  type: webhook\n  url: http://127.0.0.1:9097/-/reload\n",
			[]string{`targets.d/team-b.yml: [0] (b).url: host "127.0.0.1" is not allowed in target files`, "(line 3)"}},
		{"metadata url", "- name: b\n  type: webhook\n  url: http://hooks.slack.com@169.254.169.254/latest/meta-data\n",
			[]string{`[0] (b).url: host "169.254.169.254" is not allowed`, "(line 3)"}},
		{"url_file", "- name: b\n  type: webhook\n  url_file: /etc/alertbridge/ops-url\n",
			[]string{"targets.d/team-b.yml: [0].url_file: not allowed in a target file", "(line 3)"}},
		{"http_config file", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  http_config:\n    authorization:\n      credentials_file: /var/run/secrets/token\n",
			[]string{"[0].http_config.authorization.credentials_file: not allowed in a target file", "(line 6)"}},
		{"http_headers files", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  http_config:\n    http_headers:\n      X-Token:\n        files: [/etc/alertbridge/token]\n",
			[]string{"[0].http_config.http_headers.X-Token.files: not allowed in a target file", "(line 7)"}},
		{"template_file", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  template_file: /etc/shadow\n",
			[]string{"[0].template_file: not allowed", "(line 4)"}},
		{"env reference", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b?k=${HOME}\n",
			[]string{"[0] (b).url: ${...} references are not allowed in a target file (line 3)"}},
		{"proxy", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  http_config:\n    proxy_url: http://10.0.0.1:3128\n",
			[]string{"[0] (b).http_config.proxy_url: not allowed", "(line 5)"}},
		{"follow redirects", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  http_config:\n    follow_redirects: true\n",
			[]string{"[0] (b).http_config.follow_redirects:", "(line 5)"}},
		{"type not allowed", "- name: b\n  type: lark\n  url: https://open.feishu.cn/open-apis/bot/v2/hook/x\n",
			[]string{`[0] (b).type: type "lark" is not allowed in target files`, "(line 2)"}},
		{"broken yaml", "- name: b\n  type: [webhook\n",
			[]string{"targets.d/team-b.yml: yaml:", "line "}},
		{"not a list", "name: b\ntype: webhook\n",
			[]string{"targets.d/team-b.yml: must be a list of targets", "(line 1)"}},
		{"duplicate of main", "- name: ops\n  type: webhook\n  url: https://hooks.example.com/b\n",
			[]string{`targets.d/team-b.yml: [0] (ops).name: "ops" is already used by a target of the main configuration file (line 1)`}},
		{"duplicate of other file", "- name: team-a-slack\n  type: webhook\n  url: https://hooks.example.com/b\n",
			[]string{`[0] (team-a-slack).name: "team-a-slack" is already used by a target of targets.d/team-a.yml (line 1)`}},
		{"duplicate in file", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n- name: b\n  type: webhook\n  url: https://hooks.example.com/c\n",
			[]string{`[1] (b).name: "b" is already used by [0] (line 4)`}},
		{"other target's template", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  template: '{{ template \"target/ops/header/Authorization\" . }}'\n",
			[]string{`[0] (b).template: {{ template "target/ops/header/Authorization" }}: another target's template is not reachable`, "(target at line 1)"}},
		{"dynamic include", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  headers:\n    X-A: '{{ include (printf \"%s/ops/body\" \"target\") . }}'\n",
			[]string{"[0] (b).headers.X-A: include needs a literal template name in a target file"}},
		{"define", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  template: '{{ define \"webhook.default.body\" }}x{{ end }}{}'\n",
			[]string{`[0] (b).template: {{ define }} and {{ block }} ("webhook.default.body") are not allowed`}},
		{"template does not parse", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  template: '{{ if }}'\n",
			[]string{"[0] (b).template: does not parse:"}},
		{"validation", "- name: b\n  type: webhook\n  url: https://hooks.example.com/b\n  max_alerts: -1\n",
			[]string{"targets.d/team-b.yml: [0] (b).max_alerts: must not be negative (target at line 1)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTargetFiles(t, targetFilesMain, map[string]string{
				"targets.d/team-a.yml": goodTeamFile,
				"targets.d/team-b.yml": tc.body,
			})
			cfg, err := Load(path)
			if err != nil {
				t.Fatalf("a bad target file failed the load: %v", err)
			}
			if got := targetNames(cfg); !slices.Equal(got, []string{"ops", "team-a-slack"}) {
				t.Errorf("targets %v, want the main file's and team-a's only", got)
			}
			if len(cfg.TargetFileStates) != 2 || cfg.TargetFileStates[0].Err != nil || cfg.TargetFileStates[1].Err == nil {
				t.Fatalf("states %+v, want team-a good and team-b bad", cfg.TargetFileStates)
			}
			msg := cfg.TargetFileStates[1].Err.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q\nlacks %q", msg, w)
				}
			}
			if strings.Contains(msg, "meta-data") || strings.Contains(msg, "/-/reload") {
				t.Errorf("error quotes the URL: %q", msg)
			}
			// check-config reports the file's problems as errors.
			_, errs := Check(path)
			if len(errs) == 0 || !strings.Contains(errs[len(errs)-1].Error(), "targets.d/team-b.yml") {
				t.Errorf("Check errors %v, want team-b's problem", errs)
			}
		})
	}
}

func TestTargetFileMerge(t *testing.T) {
	path := writeTargetFiles(t, targetFilesMain, map[string]string{
		"targets.d/team-a.yml": goodTeamFile,
		"targets.d/team-c.yml": "- name: c1\n  type: webhook\n  url: https://hooks.example.com/c1\n- name: c2\n  type: webhook\n  url: https://hooks.example.com/c2\n  enabled: false\n",
		"targets.d/empty.yml":  "",
		"targets.d/notes.txt":  "not matched by the glob",
	})
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetNames(cfg); !slices.Equal(got, []string{"ops", "team-a-slack", "c1", "c2"}) {
		t.Errorf("targets %v", got)
	}
	if errs := cfg.TargetFileErrors(); len(errs) != 0 {
		t.Errorf("errors %v", errs)
	}
	if _, errs := Check(path); len(errs) != 0 {
		t.Errorf("Check: %v", errs)
	}
	a := cfg.Targets[1]
	if len(a.Matchers) != 1 || a.Type != "slack" || a.HTTPConfig.FollowRedirects {
		t.Errorf("team-a target not loaded like a main one: %+v", a)
	}
	d := cfg.TargetFilesLoaded
	if d == "" || cfg.TargetFilesDigest() != d {
		t.Fatalf("digest %q, now %q", d, cfg.TargetFilesDigest())
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(path), "targets.d/team-d.yml"), []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	if cfg.TargetFilesDigest() == d {
		t.Error("digest unchanged after a file was added")
	}
}

func TestTargetFileRulesAndMainFile(t *testing.T) {
	// The rules constrain target files only; a main config without
	// targets of its own is fine when it names target files.
	path := writeTargetFiles(t, "target_files: [targets.d/*.yml]\ntarget_file_rules: {allowed_url_hosts: ['*.slack.com']}\n", map[string]string{
		"targets.d/team-a.yml": goodTeamFile,
	})
	cfg, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := targetNames(cfg); !slices.Equal(got, []string{"team-a-slack"}) {
		t.Errorf("targets %v", got)
	}
	// Bad rules and globs are errors of the main file.
	path = writeTargetFiles(t, targetFilesMain, nil)
	bad := strings.Replace(targetFilesMain, "[slack, webhook]", "[slack, nosuch]", 1)
	bad = strings.Replace(bad, `"hooks.example.com"`, `"[bad"`, 1)
	bad = strings.Replace(bad, "[targets.d/*.yml]", "[targets.d/*.yml, '[x']", 1)
	if err := os.WriteFile(path, []byte(bad+"  targets: []\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path)
	for _, w := range []string{
		`target_file_rules.allowed_types[1]: unknown type "nosuch"`,
		`target_file_rules.allowed_url_hosts[1]: "[bad" is not a host pattern`,
		`target_files[1]: "[x" is not a valid glob`,
		"target_file_rules.targets: unknown field (line 10)",
	} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Load error %v\nlacks %q", err, w)
		}
	}
}
