package main

import (
	"bytes"
	"encoding/json"
	"errors"
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
	"syscall"
	"testing"
	"time"

	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

// buildBinary compiles alertbridge into a temp folder.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "alertbridge")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// process is a running alertbridge binary.
type process struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	addr string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func startProcess(t *testing.T, bin, cfg, storage string) *process {
	t.Helper()
	p := &process{logs: &syncBuffer{}, addr: freeAddr(t)}
	p.cmd = exec.Command(bin, "--config.file="+cfg, "--storage.path="+storage, "--web.listen-address="+p.addr, "--log.level=debug")
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
		if t.Failed() {
			t.Logf("alertbridge output:\n%s", p.logs.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + p.addr + "/-/ready"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("alertbridge not ready:\n%s", p.logs.String())
	return nil
}

// TestAcceptedAlertsSurviveSIGKILL: with the target down, accepted groups
// wait on disk; the bridge is killed without warning and restarted; once
// the target is back every accepted group arrives exactly once.
func TestAcceptedAlertsSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	tg := newFlakyTarget(t, "{attempts: 1000, interval: 20ms, max_interval: 100ms}")
	down, sink, cfg, storage := &tg.down, tg.sink, tg.cfg, tg.storage

	first := startProcess(t, bin, cfg, storage)
	const groups = 50
	for i := 0; i < groups; i++ {
		resp, err := http.Post("http://"+first.addr+"/webhook", "application/json", bytes.NewReader(payload(i)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("group %d: status %d", i, resp.StatusCode)
		}
	}
	if err := first.cmd.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = first.cmd.Wait()

	down.Store(false)
	startProcess(t, bin, cfg, storage)
	got := sink.WaitFor(groups, 60*time.Second)
	count := groupCounts(got)
	for i := 0; i < groups; i++ {
		if n := count[fmt.Sprint(i)]; n != 1 {
			t.Errorf("group %d delivered %d times, want 1", i, n)
		}
	}
}

// TestSIGKILLWhilePostingLosesNothing: the bridge is killed without
// warning three times while eight senders post to it; every notification
// it answered 200 for is delivered, once, when the target comes back.
// A post cut off by the kill may or may not have been kept (it was never
// acknowledged, so Alertmanager would send it again).
func TestSIGKILLWhilePostingLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary")
	}
	bin := buildBinary(t)
	tg := newFlakyTarget(t, "{interval: 20ms, max_interval: 100ms}")
	down, sink, cfg, storage := &tg.down, tg.sink, tg.cfg, tg.storage

	var next atomic.Int64
	var mu sync.Mutex
	acked := map[int]bool{}
	client := &http.Client{Timeout: 5 * time.Second}
	for round := 0; round < 3; round++ {
		p := startProcess(t, bin, cfg, storage)
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					n := int(next.Add(1))
					resp, err := client.Post("http://"+p.addr+"/webhook", "application/json", bytes.NewReader(payload(n)))
					if err != nil {
						continue // cut off by the kill: not acknowledged
					}
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						mu.Lock()
						acked[n] = true
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(150+round*120) * time.Millisecond)
		if err := p.cmd.Process.Kill(); err != nil { // SIGKILL, mid-post
			t.Fatal(err)
		}
		_ = p.cmd.Wait()
		close(stop)
		wg.Wait()
	}
	mu.Lock()
	n := len(acked)
	mu.Unlock()
	if n < 10 {
		t.Fatalf("only %d posts acknowledged before the kills", n)
	}
	down.Store(false)
	startProcess(t, bin, cfg, storage)
	count := map[string]int{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		count = groupCounts(sink.Received())
		missing := 0
		for g := range acked {
			if count[fmt.Sprint(g)] == 0 {
				missing++
			}
		}
		if missing == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d acknowledged notifications never delivered", missing, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for g := range acked {
		if c := count[fmt.Sprint(g)]; c != 1 {
			t.Errorf("acknowledged group %d delivered %d times, want once", g, c)
		}
	}
	t.Logf("%d notifications acknowledged across 3 kills, all delivered once", n)
}

// flakyTarget is a webhook target that answers 503 while down is set and
// otherwise passes requests to a recording fake, with a bridge
// configuration (cfg, storage under a temporary folder) that delivers to it
// with the given global retry.
type flakyTarget struct {
	down         atomic.Bool
	sink         *webhookfake.Webhook
	cfg, storage string
}

func newFlakyTarget(t *testing.T, retry string) *flakyTarget {
	t.Helper()
	tg := &flakyTarget{sink: webhookfake.NewWebhook(t)}
	tg.down.Store(true)
	front := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tg.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		proxy(w, r, tg.sink.URL)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go front.Serve(l)
	t.Cleanup(func() { front.Close() })
	dir := t.TempDir()
	tg.cfg, tg.storage = filepath.Join(dir, "alertbridge.yml"), filepath.Join(dir, "data")
	yml := fmt.Sprintf("global:\n  retry: %s\ntargets:\n  - name: sink\n    type: webhook\n    url: http://%s/hook\n", retry, l.Addr())
	if err := os.WriteFile(tg.cfg, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	return tg
}

// groupCounts counts the deliveries of each group (payload's "g" label).
func groupCounts(got []notifytest.Received) map[string]int {
	count := map[string]int{}
	for _, r := range got {
		count[string(bytes.SplitN(bytes.SplitN(r.Body, []byte(`"g":"`), 2)[1], []byte(`"`), 2)[0])]++
	}
	return count
}

func payload(n int) []byte {
	return []byte(fmt.Sprintf(`{"version":"4","groupKey":"{}:{g=\"%d\"}","status":"firing","receiver":"r",
	"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://am",
	"alerts":[{"status":"firing","labels":{"alertname":"A","g":"%d"},"annotations":{},
	"startsAt":"2026-11-23T10:00:00Z","endsAt":"0001-01-01T00:00:00Z","fingerprint":"%016x"}]}`, n, n, n))
}

// proxy forwards a request to the recording fake.
func proxy(w http.ResponseWriter, r *http.Request, to string) {
	req, _ := http.NewRequest(r.Method, to+r.URL.Path, r.Body)
	req.Header = r.Header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte(`
targets:
  - name: broken-body
    type: webhook
    url: https://hooks.example.com/SECRETTOKEN
    template: '{"status": {{ .Status }}}'
  - name: typo
    type: webhook
    url: https://hooks.example.com/x
    retyr: {attempts: 2}
`), 0o600)
	var out bytes.Buffer
	if code := checkConfig(&out, []string{"examples/alertbridge.yml", "examples/loadtest/alertbridge.yml"}, ""); code != 0 {
		t.Fatalf("examples fail check-config (%d):\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "SUCCESS") {
		t.Errorf("output: %s", out.String())
	}
	out.Reset()
	if code := checkConfig(&out, []string{bad}, ""); code != 1 {
		t.Fatalf("bad config: exit %d\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "targets[1] (typo).retyr: unknown field") {
		t.Errorf("strict error missing:\n%s", out.String())
	}
	os.WriteFile(bad, []byte(`
targets:
  - name: broken-body
    type: webhook
    url: https://hooks.example.com/SECRETTOKEN
    template: '{"status": {{ .Status }}}'
`), 0o600)
	out.Reset()
	if code := checkConfig(&out, []string{bad}, ""); code != 1 || !strings.Contains(out.String(), "targets[0] (broken-body).template: cannot render the built-in sample") {
		t.Errorf("render error not reported (%d):\n%s", code, out.String())
	}
	if strings.Contains(out.String(), "SECRETTOKEN") {
		t.Errorf("check-config output leaks the URL:\n%s", out.String())
	}
	out.Reset()
	if code := checkConfig(&out, []string{filepath.Join(dir, "missing.yml")}, ""); code != 1 {
		t.Errorf("missing file: exit %d", code)
	}
}

func TestRender(t *testing.T) {
	var out, diag bytes.Buffer
	if code := render(&out, &diag, "examples/alertbridge.yml", "critical-sink", ""); code != 0 {
		t.Fatalf("render sample: exit %d: %s", code, diag.String())
	}
	var body struct {
		Title  string `json:"title"`
		Alerts []map[string]string
	}
	if err := json.Unmarshal(out.Bytes(), &body); err != nil {
		t.Fatalf("rendered body is not JSON: %v\n%s", err, out.String())
	}
	if body.Title != "[FIRING] SampleAlert" || len(body.Alerts) != 2 {
		t.Errorf("body = %+v", body)
	}
	if !strings.Contains(diag.String(), "# X-Alert-Group: SampleAlert") || strings.Contains(diag.String(), "/critical") {
		t.Errorf("headers/URL redaction: %s", diag.String())
	}

	out.Reset()
	diag.Reset()
	if code := render(&out, &diag, "examples/alertbridge.yml", "example-sink", "examples/payload-resolved.json"); code != 0 {
		t.Fatalf("render payload: exit %d: %s", code, diag.String())
	}
	var recs []struct {
		Status int               `json:"status"`
		Tags   map[string]string `json:"tags"`
	}
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil || len(recs) != 2 || recs[0].Status != 2 || recs[0].Tags["instance"] != "web-1:9100" {
		t.Errorf("records from payload: %v %+v", err, recs)
	}
	for _, c := range []struct{ target, payload, want string }{
		{"nope", "", `unknown target "nope"`},
		{"example-sink", "examples/nope.json", "no such file"},
		{"example-sink", "README.md", "payload: malformed JSON"},
	} {
		diag.Reset()
		if code := render(&out, &diag, "examples/alertbridge.yml", c.target, c.payload); code != 1 || !strings.Contains(diag.String(), c.want) {
			t.Errorf("render %s %s: exit %d, %q, want %q", c.target, c.payload, code, diag.String(), c.want)
		}
	}
}

// TestSendTestCommand: send-test finds the bridge on the listen address
// (or --bridge.url), sends the api token of the configuration (or of
// --bridge.token-file) with a JSON content type, prints the answer to
// stdout and every failure to stderr with the URL it tried (without user
// info).
func TestSendTestCommand(t *testing.T) {
	type call struct{ line, auth, ct string }
	var got []call
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, call{r.Method + " " + r.URL.Path, r.Header.Get("Authorization"), r.Header.Get("Content-Type")})
		mu.Unlock()
		if r.URL.Path == "/api/v1/targets/ops/test" {
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"status":"success","delivery":7}`)
			return
		}
		http.Error(w, `{"status":"error","error":"unknown target"}`, http.StatusNotFound)
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	writeTestFile(t, cfg, "api: {bearer_token: api-tok}\ntargets: [{name: ops, type: webhook, url: 'http://127.0.0.1:1/'}]\n")
	tokenFile := filepath.Join(dir, "token")
	writeTestFile(t, tokenFile, "file-tok\n")
	emptyFile := filepath.Join(dir, "empty")
	writeTestFile(t, emptyFile, " \n")
	listen := strings.TrimPrefix(srv.URL, "http://")
	_, port, _ := net.SplitHostPort(listen)
	for _, c := range []struct {
		name     string
		o        sendTestOptions
		code     int
		auth     string // the Authorization header the bridge got
		out, err string // expected in stdout, stderr
	}{
		{"listen address and config token", sendTestOptions{Listen: ":" + port, ConfigFile: cfg, Target: "ops"}, 0, "Bearer api-tok", `"delivery":7`, ""},
		{"bridge.url and token file", sendTestOptions{URL: srv.URL + "/", TokenFile: tokenFile, ConfigFile: cfg, Target: "ops"}, 0, "Bearer file-tok", `"delivery":7`, ""},
		{"no credential anywhere", sendTestOptions{URL: srv.URL, ConfigFile: filepath.Join(dir, "none.yml"), Target: "ops"}, 0, "", `"delivery":7`, ""},
		{"unknown target", sendTestOptions{URL: srv.URL, ConfigFile: cfg, Target: "nope"}, 1, "Bearer api-tok", "", "POST " + srv.URL + "/api/v1/targets/nope/test: 404 Not Found"},
		{"empty token file", sendTestOptions{URL: srv.URL, TokenFile: emptyFile, Target: "ops"}, 1, "-", "", "--bridge.token-file: " + emptyFile + " is empty"},
		{"nobody listening", sendTestOptions{URL: "http://user:pw@127.0.0.1:1", Target: "ops"}, 1, "-", "", "POST http://127.0.0.1:1/api/v1/targets/ops/test: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			var out, diag bytes.Buffer
			c.o.Timeout = 5 * time.Second
			code := sendTest(&out, &diag, c.o)
			if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(diag.String(), c.err) {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, out.String(), diag.String(), c.code, c.out, c.err)
			}
			if c.code == 0 && diag.Len() > 0 || c.code != 0 && out.Len() > 0 {
				t.Errorf("output on the wrong stream: stdout %q, stderr %q", out.String(), diag.String())
			}
			if strings.Contains(diag.String(), "pw@") || strings.Contains(diag.String(), "tok") && c.name != "empty token file" {
				t.Errorf("stderr shows a credential: %q", diag.String())
			}
			mu.Lock()
			defer mu.Unlock()
			if c.auth == "-" {
				if len(got) != 0 {
					t.Errorf("requests sent: %v", got)
				}
				return
			}
			if len(got) != 1 || got[0].auth != c.auth || got[0].ct != "application/json" {
				t.Errorf("requests: %+v, want one with Authorization %q and a JSON content type", got, c.auth)
			}
		})
	}
}

// TestSIGHUPReloads: the binary picks up a changed configuration on SIGHUP
// and keeps the old one when the new one is broken.
func TestSIGHUPReloads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	os.WriteFile(cfg, []byte("targets: [{name: first, type: webhook, url: 'http://127.0.0.1:1/'}]\n"), 0o600)
	p := startProcess(t, bin, cfg, filepath.Join(dir, "data"))
	targets := func() string {
		resp, err := http.Get("http://" + p.addr + "/api/v1/targets")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data []struct{ Name string } `json:"data"`
		}
		json.NewDecoder(resp.Body).Decode(&out)
		var names []string
		for _, d := range out.Data {
			names = append(names, d.Name)
		}
		return strings.Join(names, ",")
	}
	waitFor := func(want string) {
		t.Helper()
		for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
			if targets() == want {
				return
			}
		}
		t.Fatalf("targets = %q, want %q", targets(), want)
	}
	os.WriteFile(cfg, []byte("targets: [{name: second, type: webhook, url: 'http://127.0.0.1:1/'}]\n"), 0o600)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor("second")
	os.WriteFile(cfg, []byte("targets: [{name: third, type: webhook, url: 'http://127.0.0.1:1/', typo: 1}]\n"), 0o600)
	p.cmd.Process.Signal(syscall.SIGHUP)
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !strings.Contains(p.logs.String(), "reload failed"); {
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(p.logs.String(), "reload failed") {
		t.Fatal("broken config: no reload failure logged")
	}
	waitFor("second")
}

func TestVersionAndUsage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "alertbridge, version") {
		t.Errorf("--version: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--no-such-flag").CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 2 || !strings.Contains(string(out), "unknown long flag") {
		t.Errorf("bad flag: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "--config.file=/nonexistent/alertbridge.yml", "--storage.path="+t.TempDir()).CombinedOutput()
	if !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(string(out), "cannot start") {
		t.Errorf("missing config: %v\n%s", err, out)
	}
}

// TestRenderPayloadFromStdin: both "--payload -" and "--payload=-" read
// the payload from standard input; neither falls back to the sample.
func TestRenderPayloadFromStdin(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	for _, args := range [][]string{{"--payload", "-"}, {"--payload=-"}} {
		cmd := exec.Command(bin, append([]string{"render", "--config.file=examples/alertbridge.yml", "--target=example-sink"}, args...)...)
		f, err := os.Open("examples/payload-resolved.json")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = f
		out, err := cmd.Output()
		f.Close()
		if err != nil || !strings.Contains(string(out), `"target":"node/HighCPU"`) || strings.Contains(string(out), "SampleAlert") {
			t.Errorf("render %v: %v\n%s", args, err, out)
		}
	}
}

func writeTestFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
