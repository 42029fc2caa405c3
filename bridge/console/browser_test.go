package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"go.uber.org/zap/zaptest"

	"github.com/alertbridge/alertbridge/bridge"
)

// The browser tests drive Debian's headless Chromium (apt-get install -y
// chromium; .ci/run installs it) through chromedp: one browser for the
// package, one tab per test, each step bounded.

var browser struct {
	once   sync.Once
	ctx    context.Context
	cancel context.CancelFunc
	err    error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	os.Exit(code)
}

// chromium is the browser's path; empty when none is installed.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome-stable", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// tab is one browser tab and what its pages reported: console errors and
// warnings, uncaught exceptions, and log entries (CSP violations, failed
// loads) at warning or error level.
type tab struct {
	ctx      context.Context
	mu       sync.Mutex
	problems []string
}

func (tb *tab) report(s string) {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	tb.problems = append(tb.problems, s)
}

// takeProblems returns and forgets what the pages reported so far.
func (tb *tab) takeProblems() []string {
	tb.mu.Lock()
	defer tb.mu.Unlock()
	p := tb.problems
	tb.problems = nil
	return p
}

// newTab opens a tab in the package's browser; it skips the test when no
// browser is installed. Confirmation dialogs are accepted.
func newTab(t *testing.T) *tab {
	t.Helper()
	path := chromium()
	if path == "" {
		t.Skip("no Chromium found on PATH (chromium, chromium-browser, google-chrome): install Debian's chromium package (apt-get install -y chromium) to run the console's browser tests")
	}
	browser.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.WindowSize(1280, 900))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() { cancelCtx(); cancelAlloc() }
		// The first run starts the browser, which lives as long as the
		// context it ran on: no timeout here.
		browser.err = chromedp.Do(ctx)
	})
	if browser.err != nil {
		t.Fatalf("starting %s: %v", path, browser.err)
	}
	ctx, cancel := chromedp.NewContext(browser.ctx)
	t.Cleanup(cancel)
	tb := &tab{ctx: ctx}
	consoleEvents := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptions := chromedp.Events(ctx, runtime.ExceptionThrown)
	logs := chromedp.Events(ctx, cdplog.EntryAdded)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	go func() {
		for ev, err := range consoleEvents {
			if err != nil {
				return
			}
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				tb.report("console." + string(ev.Type) + ": " + strings.Join(args, " "))
			}
		}
	}()
	go func() {
		for ev, err := range exceptions {
			if err != nil {
				return
			}
			tb.report("exception: " + (&chromedp.ExceptionError{ExceptionDetails: ev.ExceptionDetails}).Error())
		}
	}()
	go func() {
		for ev, err := range logs {
			if err != nil {
				return
			}
			if ev.Entry.Level == cdplog.EntryLevelError || ev.Entry.Level == cdplog.EntryLevelWarning {
				tb.report("log " + string(ev.Entry.Source) + ": " + ev.Entry.Text + " " + ev.Entry.URL)
			}
		}
	}()
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return tb
}

// do runs steps with a bound of 15 s.
func (tb *tab) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// eval evaluates a JavaScript expression and decodes its value.
func eval[T any](t *testing.T, tb *tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// fixture is a bridge with the console under a route prefix, admin API
// on, two webhook targets: "ok" answers 200, "flaky" answers 400 (a dead
// letter at once) until fixed.
type fixture struct {
	base    string // the bridge's URL with the route prefix
	flakyOK atomic.Bool
}

const fixtureConfig = `
targets:
  - name: ok
    type: webhook
    description: answers 200
    url: '%[1]s/ok/RECEIVERTOKEN1?token=RECEIVERTOKEN2'
    headers: {X-Api-Key: HEADERTOKEN3}
  - name: flaky
    type: webhook
    url: '%[1]s/flaky/RECEIVERTOKEN1'
    secret: SIGNINGSECRET4
    rate_limit: {requests: 10, interval: 1m}
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{}
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/flaky/") && !f.flakyOK.Load() {
			http.Error(w, "bad request: the receiver refuses this", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(receiver.Close)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(fixtureConfig, receiver.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.base = "http://" + l.Addr().String() + "/ab"
	app, err := bridge.New(bridge.Options{ConfigFile: cfg, StoragePath: filepath.Join(dir, "data"), Logger: zaptest.NewLogger(t),
		EnableAdminAPI: true, RoutePrefix: "/ab", ExternalURL: f.base + "/"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, l, 5*time.Second) }()
	t.Cleanup(func() { cancel(); <-done })
	payload, err := os.ReadFile("../../examples/payload-firing.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(f.base+"/webhook", "application/json", strings.NewReader(string(payload)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("webhook: %s", resp.Status)
	}
	f.waitFor(t, "the flaky target's dead letter and the ok target's delivery", func() bool {
		return len(f.ids(t, "/api/v1/deliveries?state=dead")) == 1 && len(f.ids(t, "/api/v1/deliveries?state=delivered")) == 1
	})
	return f
}

func (f *fixture) waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// get decodes an API answer's data.
func (f *fixture) get(t *testing.T, path string, data any) {
	t.Helper()
	resp, err := http.Get(f.base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Data json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", path, resp.Status, err)
	}
	if err := json.Unmarshal(out.Data, data); err != nil {
		t.Fatal(err)
	}
}

// ids lists the ids (or names) an API list answers, in order.
func (f *fixture) ids(t *testing.T, path string) []string {
	t.Helper()
	var items []map[string]any
	f.get(t, path, &items)
	var out []string
	for _, it := range items {
		if name, ok := it["name"].(string); ok {
			out = append(out, name)
		} else {
			out = append(out, fmt.Sprint(int64(it["id"].(float64))))
		}
	}
	return out
}

// pageIDs lists the data-id (or data-target) of the rows of a table.
func pageIDs(t *testing.T, tb *tab, table, attr string) []string {
	return eval[[]string](t, tb, `Array.from(document.querySelectorAll("#`+table+` tbody tr")).map(r => r.getAttribute("`+attr+`"))`)
}

// screenshot writes the page to docs/images/console-NAME.png when
// ALERTBRIDGE_UPDATE_SCREENSHOTS=1, so normal runs leave the tree alone.
func screenshot(t *testing.T, tb *tab, name string) {
	t.Helper()
	if os.Getenv("ALERTBRIDGE_UPDATE_SCREENSHOTS") != "1" {
		return
	}
	ctx, cancel := context.WithTimeout(tb.ctx, 15*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "images", "console-"+name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}})
		return err
	})
}
