package amtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
)

const (
	// amModule is the module providing the Alertmanager binary. It must be
	// required by the enclosing module's go.mod (the repository's go.mod
	// carries a `tool` directive for its main package, amMainPkg).
	amModule  = "github.com/prometheus/alertmanager"
	amMainPkg = amModule + "/cmd/alertmanager"

	// buildTimeout bounds all `go` invocations made by one Binary build. A cold
	// build of Alertmanager (empty Go build cache) takes on the order of a minute.
	buildTimeout = 10 * time.Minute
)

var (
	binaryOnce sync.Once
	binaryPath string
	binaryErr  error
)

// Binary returns the path of an Alertmanager executable built from the
// version of github.com/prometheus/alertmanager selected by the go.mod of the
// enclosing module (located with `go env GOMOD`; go.work files are ignored).
//
// The executable is cached at
//
//	<os.UserCacheDir()>/alertbridge-amtest/<alertmanager version>/alertmanager
//
// where the version is the output of
// `go list -m -f {{.Version}} github.com/prometheus/alertmanager`. If that file
// already exists it is returned without rebuilding. Otherwise the first
// process to take the lock file build.lock in that folder builds it (the
// others wait for the lock, then find the binary), in the module root, with
//
//	go build [-modfile=<tmp>/go.mod] -o <tmp>/alertmanager github.com/prometheus/alertmanager/cmd/alertmanager
//
// into a fresh temporary directory next to the cache entry and then renamed
// into place, so concurrent test processes never observe a partially written
// binary. The -modfile flag is only added when the module source lacks the
// generated web UI (ui/app/dist, which the published module zip never
// contains, so a plain build fails): it points at a temporary copy of go.mod
// that replaces the module with a patched copy of its source holding a stub
// page. Such a binary serves that stub instead of the web UI; the API is
// unaffected. The module's go.mod and go.sum are never modified.
//
// The work is done at most once per process (guarded by sync.Once); every call
// returns the same path and error. On failure the error includes the output
// of the failing `go` command. The whole build is bounded by 10 minutes. The
// cache key is the module version only: a replace directive pointing
// github.com/prometheus/alertmanager at different code under the same
// version is not detected (delete the cache directory to force a rebuild).
//
// Binary requires the `go` command on PATH (`go test` guarantees this).
func Binary() (string, error) {
	binaryOnce.Do(func() {
		binaryPath, binaryErr = buildBinary()
	})
	return binaryPath, binaryErr
}

func buildBinary() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()

	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("amtest: go command not found: %w", err)
	}

	gomod, err := runGo(ctx, goTool, "", "env", "GOMOD")
	if err != nil {
		return "", err
	}
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("amtest: not inside a Go module (go env GOMOD is empty)")
	}
	modRoot := filepath.Dir(gomod)

	version, err := runGo(ctx, goTool, modRoot, "list", "-m", "-f", "{{.Version}}", amModule)
	if err != nil {
		return "", err
	}
	if version == "" || strings.ContainsAny(version, `/\:`) || strings.HasPrefix(version, ".") {
		return "", fmt.Errorf("amtest: unusable version %q for %s", version, amModule)
	}

	cacheRoot, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("amtest: locating user cache dir: %w", err)
	}
	dir := filepath.Join(cacheRoot, "alertbridge-amtest", version)
	name := "alertmanager"
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	final := filepath.Join(dir, name)

	built := func() bool {
		fi, err := os.Stat(final)
		return err == nil && fi.Mode().IsRegular() && fi.Size() > 0
	}
	if built() {
		return final, nil
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("amtest: creating cache dir: %w", err)
	}
	// One build per machine: test packages run in parallel processes, and
	// each would otherwise build the same binary at the same time. The
	// first takes the lock and builds; the others wait and find the binary.
	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if built() {
		return final, nil
	}
	tmpDir, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("amtest: creating build dir: %w", err)
	}
	defer os.RemoveAll(tmpDir)

	tmpBin := filepath.Join(tmpDir, name)
	buildArgs, err := uiWorkaround(ctx, goTool, modRoot, tmpDir)
	if err != nil {
		return "", err
	}
	buildArgs = append(buildArgs, "-o", tmpBin, amMainPkg)
	if _, err := runGo(ctx, goTool, modRoot, append([]string{"build"}, buildArgs...)...); err != nil {
		return "", err
	}
	if err := os.Rename(tmpBin, final); err != nil {
		return "", fmt.Errorf("amtest: installing alertmanager binary: %w", err)
	}
	return final, nil
}

// uiWorkaround makes Alertmanager buildable from its module zip.
//
// Alertmanager's ui package has `//go:embed app/dist`, but app/dist holds the
// generated web UI and is not part of the published module, so a plain
// `go build github.com/prometheus/alertmanager/cmd/alertmanager` fails with
// "pattern app/dist: no matching files found". `go build -overlay` cannot
// help: it refuses to replace files beneath GOMODCACHE.
//
// If the module's source (as selected by go.mod, including any replace
// directive) lacks ui/app/dist, uiWorkaround copies that source into
// work/alertmanager-src, adds a stub ui/app/dist/index.html, and writes
// work/go.mod (plus go.sum) as copies of the module's own files with an added
// directory replace pointing at the copy. It returns the extra `go build`
// flags (-modfile=work/go.mod) that build with it. The module's real go.mod
// and go.sum are never modified, and because the replacement has the same
// go.mod as the original, the selected dependency versions are unchanged. If
// ui/app/dist exists, it returns no extra flags.
func uiWorkaround(ctx context.Context, goTool, modRoot, work string) ([]string, error) {
	srcDir, err := runGo(ctx, goTool, modRoot, "list", "-e", "-f", "{{with .Module}}{{.Dir}}{{end}}", amMainPkg)
	if err != nil {
		return nil, err
	}
	if srcDir == "" {
		return nil, fmt.Errorf("amtest: cannot locate the source of %s (is it required in go.mod?)", amModule)
	}
	if fi, err := os.Stat(filepath.Join(srcDir, "ui", "app", "dist")); err == nil && fi.IsDir() {
		return nil, nil
	}

	copyDir := filepath.Join(work, "alertmanager-src")
	if err := copyTree(srcDir, copyDir); err != nil {
		return nil, fmt.Errorf("amtest: copying alertmanager source: %w", err)
	}
	dist := filepath.Join(copyDir, "ui", "app", "dist")
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return nil, fmt.Errorf("amtest: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dist, "index.html"), []byte(stubIndexHTML), 0o644); err != nil {
		return nil, fmt.Errorf("amtest: %w", err)
	}

	modFile := filepath.Join(work, "go.mod")
	for _, f := range []struct{ from, to string }{
		{filepath.Join(modRoot, "go.mod"), modFile},
		{filepath.Join(modRoot, "go.sum"), filepath.Join(work, "go.sum")},
	} {
		b, err := os.ReadFile(f.from)
		if err != nil && !(errors.Is(err, fs.ErrNotExist) && strings.HasSuffix(f.from, ".sum")) {
			return nil, fmt.Errorf("amtest: %w", err)
		}
		if err := os.WriteFile(f.to, b, 0o644); err != nil {
			return nil, fmt.Errorf("amtest: %w", err)
		}
	}
	// A replace without a version on the left replaces any existing
	// replacement of the module (go mod edit semantics).
	if _, err := runGo(ctx, goTool, modRoot, "mod", "edit",
		"-replace="+amModule+"="+copyDir, modFile); err != nil {
		return nil, err
	}
	return []string{"-modfile=" + modFile}, nil
}

// stubIndexHTML stands in for the web UI that is not in the module zip.
const stubIndexHTML = `<!DOCTYPE html>
<html><head><title>Alertmanager (amtest)</title></head>
<body>Alertmanager built by amtest without its web UI; use the API.</body></html>
`

// copyTree copies the regular files and directories under src to dst, making
// the copies writable (the module cache is read-only) so they can be removed.
func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			return os.WriteFile(target, b, 0o644)
		default:
			return nil // module zips contain no symlinks or special files
		}
	})
}

// runGo runs `go args...` in dir (the current directory if empty) and returns
// its trimmed stdout. On failure the error carries the combined output.
// GOWORK=off makes every command use the module's own go.mod even if a
// go.work file is in scope.
func runGo(ctx context.Context, goTool, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, goTool, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("amtest: go %s (in %q): %w\n%s%s",
			strings.Join(args, " "), dir, err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String()), nil
}
