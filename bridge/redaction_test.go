package bridge

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify/notifytest"
	webhookfake "github.com/alertbridge/alertbridge/bridge/notify/webhook/fake"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// echoServer answers every request with status and a body quoting the
// request line and headers, as a misbehaving target or proxy might.
func echoServer(t *testing.T, status int) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "bad request %s %s %s\n", r.Method, r.RequestURI, r.URL.String())
		_ = r.Header.Write(&b)
		http.Error(w, b.String(), status)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestSecretsNeverLeak runs deliveries that succeed, fail with 5xx and
// fail to connect, a target that echoes the request (URL, credentials and
// signature headers) into its error, a failed reload and every API, with
// debug logging, and searches the logs and all answers for the configured
// secrets.
func TestSecretsNeverLeak(t *testing.T) {
	basicHeader := base64.StdEncoding.EncodeToString([]byte("echouser:ECHOPASS9"))
	secrets := []string{"URLTOKEN1", "URLTOKEN2", "PATHTOKEN3", "SIGNSECRET4", "INBOUNDTOKEN5", "BASICPASS6", "APITOKEN7", "ECHOTOKEN8", "ECHOPASS9", basicHeader}
	sink := webhookfake.NewWebhook(t)
	sink.Script(notifytest.Reply{Status: 500, Body: "busy"})
	echo := echoServer(t, http.StatusInternalServerError)
	dead, _ := net.Listen("tcp", "127.0.0.1:0")
	deadAddr := dead.Addr().String()
	dead.Close() // nothing listens here: connection refused

	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "alertbridge.yml")
	cfg := `
inbound: {bearer_token: INBOUNDTOKEN5}
api: {bearer_token: APITOKEN7}
global:
  retry: {attempts: 2, interval: 10ms, max_interval: 20ms}
targets:
  - name: ok
    type: webhook
    url: '` + sink.URL + `/hook/PATHTOKEN3?access_token=URLTOKEN1'
    secret: SIGNSECRET4
    http_config: {basic_auth: {username: u, password: BASICPASS6}}
    headers: {X-Api-Key: HEADERTOKEN10}
  - name: refused
    type: webhook
    url: 'http://user:URLTOKEN2@` + deadAddr + `/x?key=URLTOKEN1'
  - name: echo
    type: webhook
    url: '` + echo.URL + `/hooks/ECHOTOKEN8?token=ECHOTOKEN8'
    secret: SIGNSECRET4
    http_config: {basic_auth: {username: echouser, password: ECHOPASS9}}
`
	writeFile(t, cfgFile, cfg)
	var logs lockedBuffer
	enc := zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig())
	log := zap.New(zapcore.NewCore(enc, zapcore.AddSync(&logs), zapcore.DebugLevel))
	app, err := New(Options{ConfigFile: cfgFile, StoragePath: filepath.Join(dir, "data"), Logger: log, EnableAdminAPI: true, EnableLifecycle: true, EnablePprof: true})
	if err != nil {
		t.Fatal(err)
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- app.Serve(ctx, l, 5*time.Second) }()
	base := "http://" + l.Addr().String()

	var answers strings.Builder
	call := func(method, path string, body []byte) int {
		req, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer APITOKEN7")
		if strings.HasPrefix(path, "/webhook") {
			req.Header.Set("Authorization", "Bearer INBOUNDTOKEN5")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		answers.Write(raw)
		return resp.StatusCode
	}
	call("POST", "/webhook", readFile(t, "../examples/payload-firing.json"))
	call("POST", "/webhook", []byte("{broken"))
	sink.WaitFor(1, 10*time.Second)
	// Wait for the refused and echo targets to become dead letters.
	eventually(10*time.Second, func() bool {
		return call("GET", "/api/v1/deliveries?state=dead", nil) == 200 && strings.Contains(answers.String(), `"target":"refused"`) &&
			strings.Contains(answers.String(), `"target":"echo"`)
	})
	if !strings.Contains(answers.String(), "bad request POST") {
		t.Errorf("the echo target's error is not in the deliveries API: %s", answers.String())
	}
	for _, p := range []string{"/api/v1/targets", "/api/v1/deliveries?state=delivered", "/api/v1/deliveries?state=pending", "/api/v1/alerts", "/metrics"} {
		call("GET", p, nil)
	}
	// An alert's deliveries carry the dead letter's error.
	msg, err := alert.Decode(bytes.NewReader(readFile(t, "../examples/payload-firing.json")))
	if err != nil {
		t.Fatal(err)
	}
	if code := call("GET", fmt.Sprint("/api/v1/alerts/", alert.RecordIDs(msg)[0]), nil); code != http.StatusOK {
		t.Errorf("alert detail: %d", code)
	}
	call("POST", "/api/v1/render?target=ok", nil)
	call("POST", "/api/v1/render?target=ok&sign=true", nil)
	call("POST", "/api/v1/render?target=echo", nil)
	call("POST", "/api/v1/render?target=refused", nil)
	call("GET", "/debug/pprof/cmdline", nil)
	call("POST", "/api/v1/targets/refused/test", nil)
	writeFile(t, cfgFile, strings.Replace(cfg, "type: webhook", "type: webhook\n    bogus: URLTOKEN1", 1))
	call("POST", "/-/reload", nil)
	// Every page of the web console, after the failed reload (the status
	// page shows its error), and the playground for every target.
	pages := answers.Len()
	for _, p := range []string{"/", "/alerts", fmt.Sprint("/alerts/", alert.RecordIDs(msg)[0]), "/deliveries?state=dead", "/deliveries?state=pending",
		"/deliveries?state=delivered", "/targets", "/playground", "/status"} {
		if code := call("GET", p, nil); code != http.StatusOK {
			t.Errorf("console page %s: %d", p, code)
		}
	}
	for _, target := range []string{"ok", "refused", "echo"} {
		if code := call("POST", "/console/render", []byte(`{"target":"`+target+`","sample":"hostile"}`)); code != http.StatusOK {
			t.Errorf("console playground for %s: %d", target, code)
		}
		if code := call("POST", "/console/render-custom", []byte(`{"target":"`+target+`","custom":true,"template":"{\"h\":{{ .CommonLabels | json }} }"}`)); code != http.StatusOK {
			t.Errorf("console playground with a custom template for %s: %d", target, code)
		}
	}
	// A header value is a secret by its name: only the admin render with
	// signatures (above) shows it; no console answer does.
	if strings.Contains(answers.String()[pages:], "HEADERTOKEN10") {
		t.Errorf("a console answer shows the X-Api-Key header's value")
	}
	if !strings.Contains(answers.String()[pages:], "dead letters") || !strings.Contains(answers.String()[pages:], "bad request POST") {
		t.Errorf("the console pages did not show the dead letters and their errors")
	}
	errs := CheckConfig(cfgFile)
	cancel()
	<-done

	logText := logs.String()
	if !strings.Contains(logText, "delivery failed") || !strings.Contains(logText, "connection refused") {
		t.Fatalf("the run did not exercise failures; logs:\n%s", logText)
	}
	for _, s := range secrets {
		if strings.Contains(logText, s) {
			t.Errorf("logs contain %s", s)
		}
		if i := strings.Index(answers.String(), s); i >= 0 {
			t.Errorf("API answers contain %s: …%s…", s, answers.String()[max(0, i-300):i+20])
		}
		for _, err := range errs {
			if strings.Contains(err.Error(), s) {
				t.Errorf("check-config error contains %s: %v", s, err)
			}
		}
	}
}
