package bridge

import (
	"os"
	"strings"
	"sync"
	"time"
)

// tokenFile serves the inbound bearer token from a file, re-reading it
// when the file changes, so a rotated Kubernetes Secret (which
// Alertmanager's credentials_file picks up per request) is honoured
// without a reload. If the file cannot be read, the last good token stays.
type tokenFile struct {
	path string

	mu      sync.Mutex
	modTime time.Time
	size    int64
	value   string
}

func newTokenFile(path, initial string) *tokenFile {
	t := &tokenFile{path: path, value: initial}
	if fi, err := os.Stat(path); err == nil {
		t.modTime, t.size = fi.ModTime(), fi.Size()
	}
	return t
}

func (t *tokenFile) get() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	fi, err := os.Stat(t.path)
	if err != nil || (fi.ModTime().Equal(t.modTime) && fi.Size() == t.size) {
		return t.value
	}
	b, err := os.ReadFile(t.path)
	if err != nil {
		return t.value
	}
	if v := strings.TrimSpace(string(b)); v != "" {
		t.value = v
	}
	t.modTime, t.size = fi.ModTime(), fi.Size()
	return t.value
}
