package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCommand checks the exit codes and outputs of `alertbridge
// import`: 0 with the configuration on stdout (or in --out, with its
// template files) and the report on stderr; 1 for input it cannot import.
func TestImportCommand(t *testing.T) {
	var out, diag bytes.Buffer
	if code := runImport(&out, &diag, importOptions{File: "bridge/importer/testdata/msteams/config.yml"}); code != 0 {
		t.Fatalf("exit code %d: %s", code, diag.String())
	}
	if !strings.Contains(out.String(), "type: teams") || !strings.Contains(diag.String(), "Office 365 connectors are retired") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out.String(), diag.String())
	}

	dir := t.TempDir()
	outFile := filepath.Join(dir, "alertbridge.yml")
	out.Reset()
	diag.Reset()
	if code := runImport(&out, &diag, importOptions{File: "bridge/importer/testdata/dingtalk/config.yml", Out: outFile}); code != 0 {
		t.Fatalf("exit code %d: %s", code, diag.String())
	}
	if out.Len() != 0 {
		t.Errorf("--out also printed to stdout: %s", out.String())
	}
	for _, f := range []string{outFile, filepath.Join(dir, "dingtalk-templates.tmpl")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}

	for _, tc := range []struct{ file, from, want string }{
		{"bridge/importer/testdata/am/bad-yaml.yml", "", "not YAML"},
		{"bridge/importer/testdata/am/nothing.yml", "", "nothing to import"},
		{"bridge/importer/testdata/none.yml", "", "no such file"},
	} {
		diag.Reset()
		if code := runImport(&out, &diag, importOptions{File: tc.file, From: tc.from}); code != 1 {
			t.Errorf("%s: exit code %d, want 1", tc.file, code)
		}
		if !strings.Contains(diag.String(), tc.want) {
			t.Errorf("%s: stderr %q, want %q", tc.file, diag.String(), tc.want)
		}
	}
}
