package importer_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// alertmanagerDir is the folder of the Alertmanager module in go.mod.
func alertmanagerDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/prometheus/alertmanager").Output()
	if err != nil {
		t.Skipf("cannot locate the Alertmanager module: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// receiverNames lists the receivers of an Alertmanager configuration.
func receiverNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var raw struct {
		Receivers []struct {
			Name string `yaml:"name"`
		} `yaml:"receivers"`
	}
	if err := yaml.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range raw.Receivers {
		names = append(names, r.Name)
	}
	return names
}
