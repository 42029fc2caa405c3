package importer

import (
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/notify/discord"
	"github.com/prometheus/alertmanager/notify/mattermost"
	"github.com/prometheus/alertmanager/notify/msteams"
	"github.com/prometheus/alertmanager/notify/msteamsv2"
	"github.com/prometheus/alertmanager/notify/telegram"
	"github.com/prometheus/alertmanager/notify/webhook"
	commoncfg "github.com/prometheus/common/config"
	yaml "gopkg.in/yaml.v2"
)

// Alertmanager's config package is the oracle for amconfig.go: tests may
// link it, the bridge binary does not.

// flatten writes v's leaves into out by field path, so values of the
// importer's types and of Alertmanager's (same field names) compare.
func flatten(out map[string]string, path string, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			out[path] = "<nil>"
			return
		}
		flatten(out, path, v.Elem())
		return
	case reflect.Interface:
		if v.IsNil() {
			out[path] = "<nil>"
			return
		}
		out[path] = fmt.Sprintf("%v", v)
		return
	case reflect.Slice:
		if v.IsNil() {
			out[path] = "<nil>"
			return
		}
		out[path+".len"] = fmt.Sprint(v.Len())
		for i := range v.Len() {
			flatten(out, fmt.Sprintf("%s[%d]", path, i), v.Index(i))
		}
		return
	case reflect.Map:
		if v.IsNil() {
			out[path] = "<nil>"
			return
		}
		var keys []string
		for _, k := range v.MapKeys() {
			keys = append(keys, fmt.Sprint(k))
			flatten(out, fmt.Sprintf("%s[%v]", path, k), v.MapIndex(k))
		}
		sort.Strings(keys)
		out[path+".keys"] = strings.Join(keys, ",")
		return
	case reflect.Struct:
		var x any
		if v.CanInterface() {
			x = v.Interface()
		}
		switch x := x.(type) {
		case url.URL:
			out[path] = x.String()
			return
		case commoncfg.HTTPClientConfig:
			old := commoncfg.MarshalSecretValue
			commoncfg.MarshalSecretValue = true
			b, err := yaml.Marshal(x)
			commoncfg.MarshalSecretValue = old
			out[path] = fmt.Sprintf("%s %v", b, err)
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() && !f.Anonymous {
				continue
			}
			p := path + "." + f.Name
			if f.Anonymous {
				p = path
			}
			flatten(out, p, v.Field(i))
		}
		return
	}
	if v.Type() == reflect.TypeFor[time.Duration]() {
		out[path] = time.Duration(v.Int()).String()
		return
	}
	if v.Kind() == reflect.String {
		out[path] = v.String()
		return
	}
	out[path] = fmt.Sprint(v)
}

// same reports the differences between mine and Alertmanager's value.
func same(t *testing.T, what string, mine, theirs any) {
	t.Helper()
	a, b := map[string]string{}, map[string]string{}
	flatten(a, "", reflect.ValueOf(mine))
	flatten(b, "", reflect.ValueOf(theirs))
	for _, k := range sortedKeys(b) {
		if a[k] != b[k] {
			t.Errorf("%s%s: importer %q, Alertmanager %q", what, k, a[k], b[k])
		}
	}
	for _, k := range sortedKeys(a) {
		if _, ok := b[k]; !ok {
			t.Errorf("%s%s: importer %q, Alertmanager has no such field", what, k, a[k])
		}
	}
}

// TestAMDefaults compares each default amconfig.go copies with
// Alertmanager's (the version in go.mod): exported defaults directly,
// and every integration's defaults as both unmarshal a minimal entry.
func TestAMDefaults(t *testing.T) {
	same(t, "slack", amDefaultSlack, amconfig.DefaultSlackConfig)
	same(t, "rocketchat", amDefaultRocketchat, amconfig.DefaultRocketchatConfig)
	same(t, "wechat", amDefaultWechat, amconfig.DefaultWechatConfig)
	same(t, "telegram", amDefaultTelegram, telegram.DefaultTelegramConfig)
	same(t, "mattermost", amDefaultMattermost, mattermost.DefaultMattermostConfig)
	same(t, "msteams", amDefaultMSTeams, msteams.DefaultMSTeamsConfig)
	same(t, "msteamsv2", amDefaultMSTeamsV2, msteamsv2.DefaultMSTeamsV2Config)

	for _, tc := range []struct {
		name, doc    string
		mine, theirs any
	}{
		{"webhook", "url: http://a.example/", &amWebhookConfig{}, &webhook.WebhookConfig{}},
		{"discord", "webhook_url: http://a.example/", &amDiscordConfig{}, &discord.DiscordConfig{}},
		{"slack", "api_url: http://a.example/", &amSlackConfig{}, &amconfig.SlackConfig{}},
		{"telegram", "chat_id: 1", &amTelegramConfig{}, &telegram.TelegramConfig{}},
		{"mattermost", "webhook_url: http://a.example/", &amMattermostConfig{}, &mattermost.MattermostConfig{}},
		{"rocketchat", "channel: x", &amRocketchatConfig{}, &amconfig.RocketchatConfig{}},
		{"msteams", "webhook_url: http://a.example/", &amMSTeamsConfig{}, &msteams.MSTeamsConfig{}},
		{"msteamsv2", "webhook_url: http://a.example/", &amMSTeamsV2Config{}, &msteamsv2.MSTeamsV2Config{}},
		{"wechat", "corp_id: x", &amWechatConfig{}, &amconfig.WechatConfig{}},
	} {
		if err := yaml.UnmarshalStrict([]byte(tc.doc), tc.theirs); err != nil {
			t.Fatalf("%s: Alertmanager: %v", tc.name, err)
		}
		if err := yaml.UnmarshalStrict([]byte(tc.doc), tc.mine); err != nil {
			t.Fatalf("%s: importer: %v", tc.name, err)
		}
		same(t, tc.name, tc.mine, tc.theirs)
	}

	// The global settings the importer reads.
	mine, theirs := amDefaultGlobal(), amconfig.DefaultGlobalConfig()
	same(t, "global.http_config", mine.HTTPConfig, theirs.HTTPConfig)
	for _, f := range amReadGlobal(t) {
		a, b := map[string]string{}, map[string]string{}
		flatten(a, "", reflect.ValueOf(mine).FieldByName(f))
		flatten(b, "", reflect.ValueOf(theirs).FieldByName(f))
		if !reflect.DeepEqual(a, b) {
			t.Errorf("global %s: importer %v, Alertmanager %v", f, a, b)
		}
	}
}

// amReadGlobal lists the fields of amGlobal the importer reads (typed;
// the others are any).
func amReadGlobal(t *testing.T) []string {
	var out []string
	typ := reflect.TypeFor[amGlobal]()
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Kind() != reflect.Interface {
			if _, ok := reflect.TypeFor[amconfig.GlobalConfig]().FieldByName(f.Name); !ok {
				t.Errorf("amGlobal.%s: Alertmanager's GlobalConfig has no such field", f.Name)
			}
			out = append(out, f.Name)
		}
	}
	return out
}

// yamlKeys lists the yaml keys of a struct type's fields, by whether the
// field's type is an interface (a setting the importer does not read).
func yamlKeys(typ reflect.Type, unread bool) map[string]bool {
	out := map[string]bool{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		if (f.Type.Kind() == reflect.Interface) == unread {
			out[name] = true
		}
	}
	return out
}

func amModuleDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/alertmanager").Output()
	if err != nil {
		t.Skipf("cannot locate the Alertmanager module: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// reduce keeps of an alertmanager.yml what the importer reads: global
// without the settings it does not read, templates, receivers without
// the integrations it does not convert, and a root route to the first
// receiver (so Alertmanager's own checks of the rest do not interfere).
func reduce(t *testing.T, b []byte) ([]byte, bool) {
	t.Helper()
	var doc yaml.MapSlice
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, false
	}
	unreadGlobal := yamlKeys(reflect.TypeFor[amGlobal](), true)
	readReceiver := yamlKeys(reflect.TypeFor[amReceiver](), false)
	var out yaml.MapSlice
	first := ""
	for _, item := range doc {
		switch item.Key {
		case "global":
			g, _ := item.Value.(yaml.MapSlice)
			var kept yaml.MapSlice
			for _, x := range g {
				if !unreadGlobal[fmt.Sprint(x.Key)] {
					kept = append(kept, x)
				}
			}
			out = append(out, yaml.MapItem{Key: "global", Value: kept})
		case "templates":
			out = append(out, item)
		case "receivers":
			rs, _ := item.Value.([]any)
			var kept []any
			for _, r := range rs {
				m, ok := r.(yaml.MapSlice)
				if !ok {
					kept = append(kept, r)
					continue
				}
				var km yaml.MapSlice
				for _, x := range m {
					k := fmt.Sprint(x.Key)
					if readReceiver[k] || !strings.HasSuffix(k, "_configs") {
						km = append(km, x)
					}
					if k == "name" && first == "" {
						first = fmt.Sprint(x.Value)
					}
				}
				kept = append(kept, km)
			}
			out = append(out, yaml.MapItem{Key: "receivers", Value: kept})
		}
	}
	if first == "" {
		return nil, false
	}
	out = append(out, yaml.MapItem{Key: "route", Value: yaml.MapSlice{{Key: "receiver", Value: first}}})
	r, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return r, true
}

// compare checks that the importer's parse of a file equals
// Alertmanager's for everything the importer reads.
func compare(t *testing.T, mine *amConfig, theirs *amconfig.Config) {
	t.Helper()
	same(t, "templates", mine.Templates, theirs.Templates)
	if len(mine.Receivers) != len(theirs.Receivers) {
		t.Fatalf("%d receivers, Alertmanager %d", len(mine.Receivers), len(theirs.Receivers))
	}
	readReceiver := yamlKeys(reflect.TypeFor[amReceiver](), false)
	amType := reflect.TypeFor[amconfig.Receiver]()
	for i, r := range mine.Receivers {
		ar := theirs.Receivers[i]
		if r.Name != ar.Name {
			t.Errorf("receiver %d: %q, Alertmanager %q", i, r.Name, ar.Name)
		}
		same(t, r.Name+" labels", r.Labels, ar.Labels)
		mv, av := reflect.ValueOf(r).Elem(), reflect.ValueOf(ar)
		for j := range amType.NumField() {
			f := amType.Field(j)
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if !strings.HasSuffix(key, "_configs") {
				continue
			}
			if !readReceiver[key] {
				if got, want := r.Unsupported[key], av.Field(j).Len(); got != want {
					t.Errorf("receiver %q %s: %d entries, Alertmanager %d", r.Name, key, got, want)
				}
				continue
			}
			same(t, fmt.Sprintf("receiver %q %s", r.Name, key), mv.FieldByName(f.Name).Interface(), av.Field(j).Interface())
		}
		for k := range r.Unsupported {
			if _, ok := amType.FieldByNameFunc(func(n string) bool {
				f, _ := amType.FieldByName(n)
				return strings.HasPrefix(f.Tag.Get("yaml"), k+",")
			}); !ok {
				t.Errorf("receiver %q: %s is no integration of Alertmanager's", r.Name, k)
			}
		}
	}
}

// TestAMOracle loads every example file of Alertmanager's module with the
// importer's types and with Alertmanager's config package:
//
//   - a file Alertmanager accepts, the importer accepts, with the same
//     values for everything it reads;
//   - for the part of a file the importer reads (see reduce), the importer
//     refuses exactly what Alertmanager refuses, with Alertmanager's
//     message, and otherwise reads the same values;
//   - so a file Alertmanager refuses only for a part the importer does not
//     read (the route tree, inhibit rules, an email or OpsGenie
//     integration, ...) is imported (docs/migrating.md).
func TestAMOracle(t *testing.T) {
	dir := amModuleDir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "config", "testdata", "*.yml"))
	more, _ := filepath.Glob(filepath.Join(dir, "doc", "examples", "*.yml"))
	files = append(files, more...)
	if len(files) < 10 {
		t.Fatalf("found only %d example files under %s", len(files), dir)
	}
	var accepted, refused, importedAnyway int
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			theirs, amErr := amconfig.LoadFile(f)
			mine, err := amLoadFile(f)
			if amErr == nil {
				accepted++
				if err != nil {
					t.Fatalf("Alertmanager accepts the file, the importer refuses it: %v", err)
				}
				compare(t, mine, theirs)
			}
			b, rerr := os.ReadFile(f)
			if rerr != nil {
				t.Fatal(rerr)
			}
			red, ok := reduce(t, b)
			if !ok {
				if amErr != nil && err == nil {
					t.Errorf("Alertmanager refuses the file (%v), the importer accepts it", amErr)
				}
				return
			}
			path := filepath.Join(t.TempDir(), filepath.Base(f))
			if werr := os.WriteFile(path, red, 0o600); werr != nil {
				t.Fatal(werr)
			}
			theirsRed, amRedErr := amconfig.LoadFile(path)
			mineRed, redErr := amLoadFile(path)
			switch {
			case amRedErr != nil:
				refused++
				if err == nil || redErr == nil {
					t.Fatalf("Alertmanager refuses what the importer reads (%v); the importer accepts it (file %v, reduced %v)", amRedErr, err, redErr)
				}
				if !strings.HasPrefix(amRedErr.Error(), "yaml:") && !strings.Contains(err.Error(), amRedErr.Error()) {
					t.Errorf("the importer refuses with %q, Alertmanager with %q", err, amRedErr)
				}
			default:
				if err != nil {
					t.Fatalf("Alertmanager accepts what the importer reads; the importer refuses the file: %v", err)
				}
				if redErr != nil {
					t.Fatalf("Alertmanager accepts the reduced file, the importer refuses it: %v", redErr)
				}
				compare(t, mineRed, theirsRed)
				if amErr != nil {
					importedAnyway++
					t.Logf("Alertmanager refuses the file for a part the importer does not read: %v", amErr)
				}
			}
		})
	}
	t.Logf("%d files accepted by Alertmanager, %d refused for what the importer reads, %d refused for other parts", accepted, refused, importedAnyway)
	if accepted < 10 || refused < 5 || importedAnyway < 2 {
		t.Errorf("the examples no longer cover each case: %d accepted, %d refused, %d imported anyway", accepted, refused, importedAnyway)
	}
}

// TestAMTolerant: integrations the bridge has no target type for are
// counted whatever they hold (even keys of an Alertmanager newer than
// go.mod's); other unknown keys are refused as Alertmanager refuses them.
func TestAMTolerant(t *testing.T) {
	for _, tc := range []struct {
		doc, want string
		counts    map[string]int
	}{
		{"receivers:\n- name: a\n  email_configs: [{to: x, colour: red}, {}]\n  future_configs: [{}]\n  pagerduty_configs: []\n",
			"", map[string]int{"email_configs": 2, "future_configs": 1, "pagerduty_configs": 0}},
		{"receivers:\n- name: a\n  slack_config: [{}]\n", "field slack_config not found", nil},
		{"receivers:\n- name: a\n  email_configs: {to: x}\n", "email_configs is not a list", nil},
		{"receivers:\n- name: a\n- name: a\n", `notification config name "a" is not unique`, nil},
		{"receivers:\n- webhook_configs: [{url: http://a.example/}]\n", "missing name in receiver", nil},
		{"receivers:\n- name: a\n  slack_configs: [~]\nglobal:\n  slack_api_url: http://a.example/\n", "missing slack config", nil},
		{"recievers: []\n", "field recievers not found", nil},
		{"global:\n  smtp_smarthost: not-checked\n  slack_api_urll: x\n", "field slack_api_urll not found", nil},
	} {
		path := filepath.Join(t.TempDir(), "alertmanager.yml")
		if err := os.WriteFile(path, []byte(tc.doc), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := amLoadFile(path)
		if tc.want != "" {
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%q: got %v, want an error with %q", tc.doc, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.doc, err)
			continue
		}
		if got := cfg.Receivers[0].Unsupported; !reflect.DeepEqual(got, tc.counts) {
			t.Errorf("%q: counts %v, want %v", tc.doc, got, tc.counts)
		}
	}
}
