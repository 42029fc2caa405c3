// Package amtest runs a real Alertmanager binary for integration tests.
//
// Binary builds (and caches) the Alertmanager version pinned by the module's
// go.mod; Start launches it on a free 127.0.0.1 port with a generated
// configuration that routes every alert to a single webhook receiver, and
// stops it when the test ends. PostAlerts and Resolve drive it through the
// API v2 alerts endpoint.
package amtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds how long Start waits for GET /-/ready to return 200.
	readyTimeout = 30 * time.Second
	// stopGrace is how long the cleanup waits after SIGTERM before killing.
	stopGrace = 5 * time.Second
	// startAttempts is how many times Start retries when the chosen port was
	// taken by someone else between picking it and Alertmanager binding it.
	startAttempts = 3
	// httpTimeout bounds every HTTP request made by this package, in
	// addition to any context deadline.
	httpTimeout = 30 * time.Second
)

// Alertmanager is a running Alertmanager process started by Start. It is
// stopped automatically when the test that started it finishes. Its methods
// are safe for concurrent use.
type Alertmanager struct {
	// URL is the base URL of the Alertmanager web/API server, of the form
	// "http://127.0.0.1:<port>" (no trailing slash).
	URL string

	client *http.Client
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{} // closed when the process has exited and been reaped
	werr   error         // cmd.Wait result; valid once done is closed
}

// Start launches an Alertmanager for the duration of t and returns once it is
// ready to accept requests.
//
// It writes alertmanager.yml (see Options) into a directory from t.TempDir(),
// picks a free 127.0.0.1 port and runs the binary from Binary with
//
//	--config.file=<dir>/alertmanager.yml
//	--storage.path=<dir>/data
//	--web.listen-address=127.0.0.1:<port>
//	--web.external-url=http://127.0.0.1:<port>   (payload externalURL = URL)
//	--cluster.listen-address=   (empty: HA gossip disabled, no cluster port)
//	--log.level=debug
//
// Its stdout and stderr are captured in memory and written to the test log
// (t.Log) at cleanup if the test has failed. Start then polls GET /-/ready
// until it returns 200, for at most 30s. If the chosen port turns out to be
// taken, Start retries with a new port (up to 3 attempts).
//
// A t.Cleanup stops the process: SIGTERM, then SIGKILL if it has not exited
// after 5s. If the process exited on its own before cleanup, the test is
// marked failed (t.Errorf), since that means Alertmanager crashed.
//
// Start calls t.Fatalf (so it must be called from the test goroutine) if the
// options are invalid, if the binary cannot be built (the message includes
// the build output), or if Alertmanager exits or is not ready in time.
func Start(t testing.TB, opts Options) *Alertmanager {
	t.Helper()

	cfg, err := renderConfig(opts)
	if err != nil {
		t.Fatalf("amtest: invalid options: %v", err)
	}
	bin, err := Binary()
	if err != nil {
		t.Fatalf("amtest: cannot build alertmanager: %v", err)
	}

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatalf("amtest: writing config: %v", err)
	}
	dataDir := filepath.Join(dir, "data")
	if err := os.Mkdir(dataDir, 0o700); err != nil {
		t.Fatalf("amtest: creating storage dir: %v", err)
	}

	for attempt := 1; ; attempt++ {
		am, err := launch(t, bin, cfgPath, dataDir)
		if err == nil {
			return am
		}
		if errors.Is(err, errPortInUse) && attempt < startAttempts {
			t.Logf("amtest: %v; retrying with another port", err)
			continue
		}
		t.Fatalf("amtest: %v\nconfig (%s):\n%s", err, cfgPath, cfg)
	}
}

var errPortInUse = errors.New("alertmanager could not bind its port")

// launch starts one Alertmanager process and waits for it to become ready.
// It registers the cleanup that stops the process (and dumps its output if
// the test failed) as soon as the process has started.
func launch(t testing.TB, bin, cfgPath, dataDir string) (*Alertmanager, error) {
	t.Helper()
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	out := &syncBuffer{}
	cmd := exec.Command(bin,
		"--config.file="+cfgPath,
		"--storage.path="+dataDir,
		"--web.listen-address="+addr,
		"--web.external-url=http://"+addr,
		"--cluster.listen-address=",
		"--log.level=debug",
	)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.WaitDelay = stopGrace // bound output copying after the process exits
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}

	am := &Alertmanager{
		URL:    "http://" + addr,
		client: &http.Client{Timeout: httpTimeout},
		cmd:    cmd,
		out:    out,
		done:   make(chan struct{}),
	}
	go func() {
		am.werr = cmd.Wait()
		close(am.done)
	}()

	var readyErr error
	t.Cleanup(func() {
		exitedEarly := am.stop(t)
		if exitedEarly && readyErr == nil {
			t.Errorf("amtest: alertmanager at %s exited before the test ended: %v", am.URL, am.werr)
		}
		if t.Failed() {
			t.Logf("amtest: alertmanager %s output:\n%s", am.URL, out.String())
		}
	})

	readyErr = am.waitReady()
	if readyErr != nil {
		return nil, readyErr
	}
	return am, nil
}

// waitReady polls GET /-/ready until it returns 200, the process exits, or
// readyTimeout elapses.
func (am *Alertmanager) waitReady() error {
	deadline := time.Now().Add(readyTimeout)
	var lastErr error
	for {
		select {
		case <-am.done:
			if strings.Contains(am.out.String(), "address already in use") {
				return fmt.Errorf("%w (%s): %v", errPortInUse, am.URL, am.werr)
			}
			return fmt.Errorf("alertmanager exited before becoming ready: %v", am.werr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("alertmanager at %s not ready after %v (last error: %v)", am.URL, readyTimeout, lastErr)
		}

		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, am.URL+"/-/ready", nil)
		if err != nil {
			cancel()
			return err
		}
		resp, err := am.client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("GET /-/ready: %s", resp.Status)
		}
		cancel()
		lastErr = err

		select {
		case <-am.done:
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop terminates the process (SIGTERM, then SIGKILL after stopGrace) and
// waits for it to be reaped. It reports whether the process had already
// exited before stop was called.
func (am *Alertmanager) stop(t testing.TB) (exitedEarly bool) {
	select {
	case <-am.done:
		return true
	default:
	}
	if err := am.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		// E.g. on Windows, which cannot deliver SIGTERM.
		_ = am.cmd.Process.Kill()
	}
	select {
	case <-am.done:
	case <-time.After(stopGrace):
		t.Logf("amtest: alertmanager at %s did not exit within %v of SIGTERM; killing it", am.URL, stopGrace)
		_ = am.cmd.Process.Kill()
		<-am.done // bounded: the process is dead and cmd.WaitDelay caps output copying
	}
	return false
}

// freePort asks the kernel for a currently unused TCP port on 127.0.0.1.
// Another process may grab it before Alertmanager binds it; Start retries.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("picking a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Alert is an alert as sent by PostAlerts: an Alertmanager API v2 postable
// alert.
//
// Labels identify the alert (Alertmanager requires at least one; by
// convention "alertname"). Alertmanager drops labels whose value is empty.
// A zero StartsAt or EndsAt is omitted from the request; Alertmanager then
// uses the time it received the alert as StartsAt and, for a zero EndsAt,
// treats the alert as firing until it is re-posted or resolve_timeout
// (Options.ResolveTimeout) elapses. An empty GeneratorURL is omitted.
type Alert struct {
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
}

// postableAlert is the JSON wire form of Alert for POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	StartsAt     time.Time         `json:"startsAt,omitzero"`
	EndsAt       time.Time         `json:"endsAt,omitzero"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// PostAlerts sends alerts to Alertmanager with a single
// POST /api/v2/alerts request (JSON body). It returns nil without sending
// anything if alerts is empty. It returns an error if the request fails or
// the response status is not 200 OK; the error message then includes the
// status and the response body (Alertmanager's validation message, e.g. for
// an alert without labels). The request is bounded by ctx and by a 30s
// client timeout.
func (am *Alertmanager) PostAlerts(ctx context.Context, alerts ...Alert) error {
	if len(alerts) == 0 {
		return nil
	}
	wire := make([]postableAlert, len(alerts))
	for i, a := range alerts {
		wire[i] = postableAlert(a)
	}
	body, err := json.Marshal(wire)
	if err != nil {
		return fmt.Errorf("amtest: encoding alerts: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, am.URL+"/api/v2/alerts", bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("amtest: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := am.client.Do(req)
	if err != nil {
		return fmt.Errorf("amtest: POST /api/v2/alerts: %w", err)
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("amtest: POST /api/v2/alerts: %s: %s", resp.Status, strings.TrimSpace(string(respBody)))
	}
	return nil
}

// Resolve marks alerts as resolved by re-posting them (see PostAlerts) with
// EndsAt set to the current time; all other fields, including StartsAt, are
// sent unchanged. Alertmanager matches them to the firing alerts by their
// label sets, so Labels must be identical to those originally posted. The
// caller's slice is not modified. If send_resolved is enabled (the default),
// the receiver gets a "resolved" notification at the group's next
// group_interval tick.
func (am *Alertmanager) Resolve(ctx context.Context, alerts ...Alert) error {
	now := time.Now()
	resolved := make([]Alert, len(alerts))
	for i, a := range alerts {
		a.EndsAt = now
		resolved[i] = a
	}
	return am.PostAlerts(ctx, resolved...)
}

// syncBuffer is a bytes.Buffer safe for concurrent writes and reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
