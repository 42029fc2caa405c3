package bridge

import (
	"os"
	"strings"
	"sync"
	"time"
)

// tokenFile serves a bearer token from a file, re-reading it when the file
// changes, so a rotated Kubernetes Secret (which Alertmanager's
// credentials_file picks up per request) is honoured without a reload.
// If the file cannot be read, or holds only whitespace (a Secret being
// rewritten, a truncated file), the last good token stays and onError is
// told once per change of the file: an empty file never switches
// authentication off.
type tokenFile struct {
	path    string
	onError func(path, problem string)

	mu      sync.Mutex
	modTime time.Time
	size    int64
	value   string
}

// newTokenFile starts from initial, the token read when the configuration
// was loaded (never empty: the configuration refuses an empty file).
func newTokenFile(path, initial string, onError func(path, problem string)) *tokenFile {
	t := &tokenFile{path: path, value: initial, onError: onError}
	if fi, err := os.Stat(path); err == nil {
		t.modTime, t.size = fi.ModTime(), fi.Size()
	}
	return t
}

func (t *tokenFile) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	fi, err := os.Stat(t.path)
	if err != nil {
		return t.value // reported when it changes back; a stat per request is not logged
	}
	if fi.ModTime().Equal(t.modTime) && fi.Size() == t.size {
		return t.value
	}
	t.modTime, t.size = fi.ModTime(), fi.Size()
	b, err := os.ReadFile(t.path)
	switch v := strings.TrimSpace(string(b)); {
	case err != nil:
		t.problem("cannot be read: " + err.Error())
	case v == "":
		t.problem("is empty")
	default:
		t.value = v
	}
	return t.value
}

func (t *tokenFile) problem(p string) {
	if t.onError != nil {
		t.onError(t.path, p)
	}
}
