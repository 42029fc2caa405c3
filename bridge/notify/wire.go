package notify

import (
	"context"
	"net/http/httptrace"
	"sync"
)

// WireCredentials records the values of the credential headers (see
// credentialHeader: Authorization, Proxy-Authorization, *token*, *key*,
// ...) of the requests the HTTP transport writes under a context, as it
// writes them. It sits below every round tripper, so it sees what the
// notifier's Request never held: the Basic auth http.Client makes from a
// URL's user info, what prometheus/common's round trippers add (an OAuth2
// access token, authorization credentials or a basic auth password read
// from their files at send time, http_headers), and a proxy's
// Proxy-Authorization. prometheus/common builds its http.Transport itself
// and offers no way to wrap it, so the recording uses the transport's own
// per-header hook (httptrace's WroteHeaderField), which HTTP/1 and HTTP/2
// call for every header field written. Safe for concurrent use.
type WireCredentials struct {
	mu     sync.Mutex
	values []string
}

// Context returns ctx with the recording attached; requests sent under it
// are recorded.
func (w *WireCredentials) Context(ctx context.Context) context.Context {
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaderField: func(key string, values []string) {
			if !credentialHeader(key) {
				return
			}
			w.mu.Lock()
			w.values = append(w.values, values...)
			w.mu.Unlock()
		},
	})
}

// Values returns the credential header values recorded so far.
func (w *WireCredentials) Values() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.values...)
}
