package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHealthcheckAddr(t *testing.T) {
	for listen, want := range map[string]string{
		":9097":             "127.0.0.1:9097",
		"0.0.0.0:9097":      "127.0.0.1:9097",
		"[::]:9097":         "[::1]:9097",
		"127.0.0.1:9097":    "127.0.0.1:9097",
		"bridge.local:9097": "bridge.local:9097",
	} {
		if got, err := healthcheckAddr(listen); err != nil || got != want {
			t.Errorf("healthcheckAddr(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if _, err := healthcheckAddr("9097"); err == nil {
		t.Error("healthcheckAddr(\"9097\"): no error")
	}
}

// healthServer answers like a bridge that is shutting down: healthy, not
// ready.
func healthServer() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/-/healthy":
			w.Write([]byte("Healthy.\n"))
		case "/-/ready":
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte("Not ready.\n"))
		default:
			http.NotFound(w, r)
		}
	})
}

func TestHealthcheck(t *testing.T) {
	srv := httptest.NewServer(healthServer())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	var out bytes.Buffer
	if code := healthcheck(&out, addr, "", false, time.Second); code != 0 || !strings.Contains(out.String(), "Healthy.") {
		t.Errorf("healthy: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := healthcheck(&out, addr, "", true, time.Second); code != 1 || !strings.Contains(out.String(), "503") {
		t.Errorf("not ready: exit %d, %q", code, out.String())
	}
	out.Reset()
	if code := healthcheck(&out, freeAddr(t), "", false, time.Second); code != 1 || !strings.Contains(out.String(), "refused") {
		t.Errorf("nothing listening: exit %d, %q", code, out.String())
	}
}

// TestHealthcheckTLS: with a web configuration that turns TLS on, the
// check speaks HTTPS and trusts the certificate the configuration names,
// and only that one.
func TestHealthcheckTLS(t *testing.T) {
	srv := httptest.NewTLSServer(healthServer())
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "https://")
	dir := t.TempDir()
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	os.WriteFile(filepath.Join(dir, "server.crt"), certPEM, 0o600)
	webConfig := filepath.Join(dir, "web.yml")
	os.WriteFile(webConfig, []byte("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"), 0o600)
	var out bytes.Buffer
	if code := healthcheck(&out, addr, webConfig, false, time.Second); code != 0 {
		t.Errorf("TLS: exit %d, %q", code, out.String())
	}

	other := httptest.NewUnstartedServer(healthServer())
	other.TLS = &tls.Config{Certificates: []tls.Certificate{selfSigned(t)}}
	other.StartTLS()
	defer other.Close()
	out.Reset()
	if code := healthcheck(&out, strings.TrimPrefix(other.URL, "https://"), webConfig, false, time.Second); code != 1 || !strings.Contains(out.String(), "not the one") {
		t.Errorf("another certificate: exit %d, %q", code, out.String())
	}

	plain := filepath.Join(dir, "plain.yml")
	os.WriteFile(plain, []byte("basic_auth_users: {}\n"), 0o600)
	out.Reset()
	if code := healthcheck(&out, addr, plain, false, time.Second); code != 1 {
		t.Errorf("HTTP against a TLS server: exit %d, %q", code, out.String())
	}
}

// selfSigned makes a certificate other than httptest's built-in one.
func selfSigned(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "other"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestHealthcheckCommand runs the built binary against a running bridge, as
// the image's HEALTHCHECK and the compose file do.
func TestHealthcheckCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildBinary(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "alertbridge.yml")
	os.WriteFile(cfg, []byte("targets: [{name: t, type: webhook, url: 'http://127.0.0.1:1/'}]\n"), 0o600)
	p := startProcess(t, bin, cfg, filepath.Join(dir, "data"))
	for _, args := range [][]string{
		{"healthcheck", "--web.listen-address=" + p.addr},
		{"healthcheck", "--ready", "--web.listen-address=" + p.addr},
	} {
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			t.Errorf("%v: %v\n%s", args, err, out)
		}
	}
	err := exec.Command(bin, "healthcheck", "--web.listen-address="+freeAddr(t)).Run()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Errorf("healthcheck with no bridge: %v, want exit code 1", err)
	}
}
