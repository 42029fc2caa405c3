package main

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/version"
	"go.yaml.in/yaml/v3"
)

// versionVars are the variables of github.com/prometheus/common/version
// that every build stamps with -X.
var versionVars = map[string]*string{
	"Version":   &version.Version,
	"Revision":  &version.Revision,
	"Branch":    &version.Branch,
	"BuildUser": &version.BuildUser,
	"BuildDate": &version.BuildDate,
}

const versionPkg = "github.com/prometheus/common/version"

// stampedVars returns the version variables the -X flags in text set, and
// fails on an -X flag for anything else.
func stampedVars(t *testing.T, file, text string) []string {
	t.Helper()
	var vars []string
	for _, m := range regexp.MustCompile(`-X\s+(\S+)\.(\w+)=`).FindAllStringSubmatch(text, -1) {
		if m[1] != versionPkg {
			t.Errorf("%s: -X %s.%s: not the version package", file, m[1], m[2])
		}
		vars = append(vars, m[2])
	}
	slices.Sort(vars)
	if want := slices.Sorted(maps.Keys(versionVars)); !slices.Equal(vars, want) {
		t.Errorf("%s stamps %v, want %v", file, vars, want)
	}
	return vars
}

// goreleaserConfig covers the keys .goreleaser.yaml uses; decoding is
// strict, so a key outside it (a typo, or a key goreleaser renamed) fails.
type goreleaserConfig struct {
	Version     int    `yaml:"version"`
	ProjectName string `yaml:"project_name"`
	Before      struct {
		Hooks []string `yaml:"hooks"`
	} `yaml:"before"`
	Builds []struct {
		ID           string   `yaml:"id"`
		Main         string   `yaml:"main"`
		Binary       string   `yaml:"binary"`
		Env          []string `yaml:"env"`
		Goos         []string `yaml:"goos"`
		Goarch       []string `yaml:"goarch"`
		Flags        []string `yaml:"flags"`
		Ldflags      []string `yaml:"ldflags"`
		ModTimestamp string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	Archives []struct {
		ID              string   `yaml:"id"`
		IDs             []string `yaml:"ids"`
		Formats         []string `yaml:"formats"`
		FormatOverrides []struct {
			Goos    string   `yaml:"goos"`
			Formats []string `yaml:"formats"`
		} `yaml:"format_overrides"`
		NameTemplate    string   `yaml:"name_template"`
		WrapInDirectory bool     `yaml:"wrap_in_directory"`
		Files           []string `yaml:"files"`
	} `yaml:"archives"`
	Checksum struct {
		NameTemplate string `yaml:"name_template"`
		Algorithm    string `yaml:"algorithm"`
	} `yaml:"checksum"`
	DockersV2 []struct {
		ID         string            `yaml:"id"`
		IDs        []string          `yaml:"ids"`
		Dockerfile string            `yaml:"dockerfile"`
		Images     []string          `yaml:"images"`
		Tags       []string          `yaml:"tags"`
		Platforms  []string          `yaml:"platforms"`
		ExtraFiles []string          `yaml:"extra_files"`
		Labels     map[string]string `yaml:"labels"`
	} `yaml:"dockers_v2"`
	Snapshot struct {
		VersionTemplate string `yaml:"version_template"`
	} `yaml:"snapshot"`
	Changelog struct {
		Disable bool `yaml:"disable"`
	} `yaml:"changelog"`
	Release struct {
		GitHub struct {
			Owner string `yaml:"owner"`
			Name  string `yaml:"name"`
		} `yaml:"github"`
		Prerelease string `yaml:"prerelease"`
	} `yaml:"release"`
}

// TestGoReleaserConfig checks .goreleaser.yaml without goreleaser (make
// release-check runs goreleaser itself): every target platform is built,
// stamped like the other builds, archived with the licence, and the image
// is built for both architectures from files that exist.
func TestGoReleaserConfig(t *testing.T) {
	raw, err := os.ReadFile(".goreleaser.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var c goreleaserConfig
	if err := dec.Decode(&c); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if c.Version != 2 || c.ProjectName != "alertbridge" {
		t.Errorf("version %d, project %q", c.Version, c.ProjectName)
	}
	if len(c.Builds) != 1 {
		t.Fatalf("%d builds, want 1", len(c.Builds))
	}
	b := c.Builds[0]
	var platforms []string
	for _, os := range b.Goos {
		for _, arch := range b.Goarch {
			platforms = append(platforms, os+"/"+arch)
		}
	}
	slices.Sort(platforms)
	if want := []string{"darwin/amd64", "darwin/arm64", "linux/amd64", "linux/arm64", "windows/amd64", "windows/arm64"}; !slices.Equal(platforms, want) {
		t.Errorf("builds for %v, want %v", platforms, want)
	}
	if b.Main != "." || b.Binary != "alertbridge" || !slices.Contains(b.Env, "CGO_ENABLED=0") || !slices.Contains(b.Flags, "-trimpath") {
		t.Errorf("build: main %q, binary %q, env %v, flags %v; want a static, trimmed build of the main package", b.Main, b.Binary, b.Env, b.Flags)
	}
	stampedVars(t, ".goreleaser.yaml", strings.Join(b.Ldflags, "\n"))

	if len(c.Archives) != 1 {
		t.Fatalf("%d archives, want 1", len(c.Archives))
	}
	a := c.Archives[0]
	for _, f := range []string{"LICENSE", "NOTICE", "README.md", "CHANGELOG.md"} {
		if !slices.Contains(a.Files, f) {
			t.Errorf("archives do not carry %s", f)
		}
	}
	for _, glob := range a.Files {
		if m, _ := filepath.Glob(glob); len(m) == 0 {
			t.Errorf("archive file %q matches nothing", glob)
		}
	}
	if len(c.DockersV2) != 1 {
		t.Fatalf("%d images, want 1", len(c.DockersV2))
	}
	d := c.DockersV2[0]
	if !slices.Equal(d.Platforms, []string{"linux/amd64", "linux/arm64"}) {
		t.Errorf("image platforms %v", d.Platforms)
	}
	dockerfile, err := os.ReadFile(d.Dockerfile)
	if err != nil {
		t.Fatal(err)
	}
	// Every file the release Dockerfile copies from the context is an extra
	// file (the binary comes from the build, under $TARGETPLATFORM).
	for _, m := range regexp.MustCompile(`(?m)^COPY\s+([^-\n][^\n]*?)\s+\S+$`).FindAllStringSubmatch(string(dockerfile), -1) {
		for _, src := range strings.Fields(m[1]) {
			if strings.Contains(src, "TARGETPLATFORM") {
				continue
			}
			if !slices.Contains(d.ExtraFiles, src) {
				t.Errorf("%s copies %s, which is not in extra_files %v", d.Dockerfile, src, d.ExtraFiles)
			}
		}
	}
	for _, f := range d.ExtraFiles {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("extra file: %v", err)
		}
	}
	for _, f := range []string{d.Dockerfile, "Dockerfile"} {
		text := readText(t, f)
		if !strings.Contains(text, `HEALTHCHECK`) || !strings.Contains(text, `CMD ["/alertbridge", "healthcheck"]`) {
			t.Errorf("%s has no HEALTHCHECK running alertbridge healthcheck", f)
		}
	}
}

// TestBuildsStampTheVersion: the Makefile and the Dockerfile set the same
// version variables as the release configuration.
func TestBuildsStampTheVersion(t *testing.T) {
	stampedVars(t, "Makefile", makefile(t))
	stampedVars(t, "Dockerfile", readText(t, "Dockerfile"))
}

// TestVersionInBinaryAndMetric builds the binary with the Makefile's -X
// flags and checks what it reports: --version, and alertbridge_build_info.
func TestVersionInBinaryAndMetric(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	values := map[string]string{
		"Version": "9.8.7", "Revision": "0123456789abcdef", "Branch": "release-9.8",
		"BuildUser": "tester@ci", "BuildDate": "2026-12-01T10:00:00Z",
	}
	var ldflags []string
	for _, v := range stampedVars(t, "Makefile", makefile(t)) {
		ldflags = append(ldflags, "-X", versionPkg+"."+v+"="+values[v])
	}
	bin := filepath.Join(t.TempDir(), "alertbridge")
	if out, err := exec.Command("go", "build", "-ldflags", strings.Join(ldflags, " "), "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, v := range values {
		if !strings.Contains(string(out), v) {
			t.Errorf("--version does not report %q:\n%s", v, out)
		}
	}

	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	os.WriteFile(cfg, []byte("targets: [{name: t, type: webhook, url: 'http://127.0.0.1:1/'}]\n"), 0o600)
	p := startProcess(t, bin, cfg, filepath.Join(dir, "data"))
	resp, err := http.Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	metrics, _ := io.ReadAll(resp.Body)
	info := regexp.MustCompile(`(?m)^alertbridge_build_info\{.*\} 1$`).Find(metrics)
	for _, label := range []string{`version="9.8.7"`, `revision="0123456789abcdef"`, `branch="release-9.8"`} {
		if !bytes.Contains(info, []byte(label)) {
			t.Errorf("alertbridge_build_info lacks %s: %q", label, info)
		}
	}
}

// TestNoticeCoversDependencies: every module in the binary that ships a
// NOTICE file (Apache-2.0 section 4(d)) has its notice in NOTICE.
func TestNoticeCoversDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{with .Module}}{{.Path}} {{.Dir}}{{end}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	notice := readText(t, "NOTICE")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, dir, ok := strings.Cut(line, " ")
		if !ok || dir == "" || seen[path] || path == "github.com/alertbridge/alertbridge" {
			continue
		}
		seen[path] = true
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(strings.ToUpper(e.Name()), "NOTICE") && !strings.Contains(notice, "\n"+path+"\n") {
				t.Errorf("%s ships %s, which NOTICE does not reproduce", path, e.Name())
			}
		}
	}
	if len(seen) < 10 {
		t.Fatalf("go list found only %d modules", len(seen))
	}
}

// makefile returns the Makefile with $(VERSION_PKG) expanded.
func makefile(t *testing.T) string {
	t.Helper()
	text := readText(t, "Makefile")
	if !strings.Contains(text, "\nVERSION_PKG := "+versionPkg+"\n") {
		t.Fatalf("Makefile: VERSION_PKG is not %s", versionPkg)
	}
	return strings.ReplaceAll(text, "$(VERSION_PKG)", versionPkg)
}

func readText(t *testing.T, file string) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestDockerImageReportsVersion builds the image as `make docker` does and
// checks that the binary in it reports the version it was given. It needs a
// Docker engine (and the base images) and is skipped where there is none.
func TestDockerImageReportsVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an image")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skip("no Docker engine")
	}
	tag := "alertbridge-test:" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-"))
	build := exec.Command("docker", "build",
		"--build-arg", "VERSION=9.8.7", "--build-arg", "REVISION=0123456789abcdef",
		"--build-arg", "BRANCH=release-9.8", "--build-arg", "BUILD_DATE=2026-12-01T10:00:00Z",
		"-t", tag, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("docker build: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	out, err := exec.Command("docker", "run", "--rm", tag, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("docker run --version: %v\n%s", err, out)
	}
	for _, want := range []string{"9.8.7", "0123456789abcdef", "release-9.8"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the image's --version does not report %q:\n%s", want, out)
		}
	}
}

// TestMakefile: the targets the docs name exist and expand (make -n runs
// nothing).
func TestMakefile(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	for _, target := range []string{"build", "test", "test-short", "lint", "docker", "release-check", "ci"} {
		if out, err := exec.Command("make", "-n", target).CombinedOutput(); err != nil {
			t.Errorf("make -n %s: %v\n%s", target, err, out)
		}
	}
}
