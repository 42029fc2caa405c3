// Command sink is a tiny local webhook receiver for trying alertbridge out.
//
// It accepts POST requests on any path and prints each one to stdout: the
// time, the method and path, the status it answered, a few headers
// (Content-Type, X-Alert-Group, webhook-id) and the body, pretty-printed
// when it is JSON and printed raw (at most 64 KiB) otherwise. It answers
// {"ok":true} with status 200.
//
// Usage:
//
//	go run ./examples/sink                      # listen on 127.0.0.1:9098
//	go run ./examples/sink -status 503          # fail every request, to watch retries
//	go run ./examples/sink -delay 15s           # answer slowly, to watch timeouts
//
// The example configuration examples/alertbridge.yml delivers to
// http://127.0.0.1:9098/alerts and http://127.0.0.1:9098/critical.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	// maxBody bounds the request body read.
	maxBody = 16 << 20
	// maxRaw bounds how much of a non-JSON body is printed.
	maxRaw = 64 << 10
)

// shownHeaders are the request headers printed for each request.
var shownHeaders = []string{"Content-Type", "X-Alert-Group", "webhook-id"}

func main() {
	listen := flag.String("listen", "127.0.0.1:9098", "address to listen on")
	status := flag.Int("status", http.StatusOK, "HTTP status code to answer with")
	delay := flag.Duration("delay", 0, "time to wait before answering")
	flag.Parse()
	if *status < 100 || *status > 599 {
		fmt.Fprintf(os.Stderr, "sink: -status %d is not an HTTP status code\n", *status)
		os.Exit(2)
	}
	if *delay < 0 {
		fmt.Fprintln(os.Stderr, "sink: -delay must not be negative")
		os.Exit(2)
	}
	if err := run(*listen, &sink{out: os.Stdout, status: *status, delay: *delay}); err != nil {
		fmt.Fprintf(os.Stderr, "sink: %v\n", err)
		os.Exit(1)
	}
}

// run serves s on addr until SIGINT or SIGTERM.
func run(addr string, s *sink) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	fmt.Fprintf(os.Stderr, "sink: listening on http://%s (answering %d", l.Addr(), s.status)
	if s.delay > 0 {
		fmt.Fprintf(os.Stderr, " after %s", s.delay)
	}
	fmt.Fprintln(os.Stderr, "); Ctrl-C to stop")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return nil
}

// sink is the request handler.
type sink struct {
	out    io.Writer
	status int
	delay  time.Duration
	// now is the clock; nil means time.Now.
	now func() time.Time

	mu sync.Mutex // serializes writes to out
}

func (s *sink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		answer(w, http.StatusMethodNotAllowed, `{"ok":false,"error":"POST only"}`)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.print(r, http.StatusRequestEntityTooLarge, nil, fmt.Sprintf("body over %d bytes", maxBody))
			answer(w, http.StatusRequestEntityTooLarge, `{"ok":false,"error":"body too large"}`)
			return
		}
		s.print(r, http.StatusBadRequest, nil, "reading body: "+err.Error())
		answer(w, http.StatusBadRequest, `{"ok":false,"error":"cannot read body"}`)
		return
	}
	if s.delay > 0 {
		t := time.NewTimer(s.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.print(r, 0, body, "client went away during -delay")
			return
		}
	}
	s.print(r, s.status, body, "")
	if s.status >= 200 && s.status < 300 {
		answer(w, s.status, `{"ok":true}`)
	} else {
		answer(w, s.status, fmt.Sprintf(`{"ok":false,"status":%d}`, s.status))
	}
}

func answer(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = io.WriteString(w, body+"\n")
}

// print writes one block per request: a summary line, then the body
// indented. code 0 means no answer was sent; note explains an error.
func (s *sink) print(r *http.Request, code int, body []byte, note string) {
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	var b strings.Builder
	b.WriteString(now().Format("2006-01-02T15:04:05.000Z07:00"))
	fmt.Fprintf(&b, " %s %s", r.Method, r.URL.RequestURI())
	if code != 0 {
		fmt.Fprintf(&b, " -> %d", code)
	}
	for _, h := range shownHeaders {
		if v := r.Header.Get(h); v != "" {
			fmt.Fprintf(&b, " %s=%q", h, v)
		}
	}
	fmt.Fprintf(&b, " (%d bytes)", len(body))
	if note != "" {
		fmt.Fprintf(&b, " %s", note)
	}
	b.WriteByte('\n')
	b.WriteString(formatBody(body))

	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = io.WriteString(s.out, b.String())
}

// formatBody returns the body indented by two spaces, pretty-printed when
// it is JSON, else raw and cut at maxRaw bytes.
func formatBody(body []byte) string {
	if len(bytes.TrimSpace(body)) == 0 {
		return ""
	}
	var buf bytes.Buffer
	if json.Valid(body) {
		buf.WriteString("  ")
		if err := json.Indent(&buf, bytes.TrimSpace(body), "  ", "  "); err == nil {
			buf.WriteByte('\n')
			return buf.String()
		}
		buf.Reset()
	}
	raw := body
	if len(raw) > maxRaw {
		raw = raw[:maxRaw]
	}
	for _, line := range strings.SplitAfter(string(raw), "\n") {
		if line != "" {
			buf.WriteString("  " + line)
		}
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("\n")) {
		buf.WriteByte('\n')
	}
	if len(body) > maxRaw {
		fmt.Fprintf(&buf, "  ... (%d more bytes not shown)\n", len(body)-maxRaw)
	}
	return buf.String()
}
