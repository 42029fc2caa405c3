package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// healthcheck asks the bridge listening on listen for GET /-/healthy (or
// /-/ready when ready is set) and returns the exit code: 0 when it answers
// 200, 1 otherwise. It is meant for container health checks in images
// without a shell or curl (the distroless image).
//
// A listen address without a host, or with an unspecified one (":9097",
// "0.0.0.0:9097", "[::]:9097"), is reached on the loopback address. When
// webConfigFile sets tls_server_config, the check speaks HTTPS and accepts
// only the certificate in its cert_file: the process it asks is the one
// that serves that certificate, whatever names the certificate holds.
func healthcheck(out io.Writer, listen, webConfigFile string, ready bool, timeout time.Duration) int {
	return healthcheckAt(out, listen, webConfigFile, "", ready, timeout)
}

// healthcheckAt is healthcheck for a bridge serving under the route
// prefix (--web.route-prefix; "" for the root).
func healthcheckAt(out io.Writer, listen, webConfigFile, prefix string, ready bool, timeout time.Duration) int {
	path := prefix + "/-/healthy"
	if ready {
		path = prefix + "/-/ready"
	}
	client := &http.Client{Timeout: timeout}
	scheme := "http"
	if webConfigFile != "" {
		tlsConfig, err := healthcheckTLS(webConfigFile)
		if err != nil {
			fmt.Fprintf(out, "alertbridge: healthcheck: %v\n", err)
			return 1
		}
		if tlsConfig != nil {
			scheme = "https"
			client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
		}
	}
	addr, err := healthcheckAddr(listen)
	if err != nil {
		fmt.Fprintf(out, "alertbridge: healthcheck: %v\n", err)
		return 1
	}
	target := scheme + "://" + addr + path
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		fmt.Fprintf(out, "alertbridge: healthcheck: %v\n", err)
		return 1
	}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(out, "alertbridge: healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(out, "alertbridge: healthcheck: GET %s: %s %s\n", target, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	fmt.Fprintf(out, "GET %s: %s\n", target, strings.TrimSpace(string(body)))
	return 0
}

// healthcheckAddr turns a listen address into one to connect to.
func healthcheckAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--web.listen-address %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port), nil
}

// healthcheckTLS reads the exporter-toolkit web configuration file and
// returns a client TLS configuration that trusts exactly the certificate the
// server presents from its cert_file, or nil when the file sets no TLS.
func healthcheckTLS(file string) (*tls.Config, error) {
	raw, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var wc struct {
		TLS *struct {
			CertFile string `yaml:"cert_file"`
			Cert     string `yaml:"cert"`
		} `yaml:"tls_server_config"`
	}
	if err := yaml.Unmarshal(raw, &wc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if wc.TLS == nil {
		return nil, nil
	}
	pemBytes := []byte(wc.TLS.Cert)
	if wc.TLS.CertFile != "" {
		certFile := wc.TLS.CertFile
		if !filepath.IsAbs(certFile) {
			certFile = filepath.Join(filepath.Dir(file), certFile)
		}
		if pemBytes, err = os.ReadFile(certFile); err != nil {
			return nil, err
		}
	}
	block, _ := pem.Decode(pemBytes)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%s: tls_server_config holds no PEM certificate", file)
	}
	want := block.Bytes
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The names in the certificate are those clients use, not the
		// loopback address; the served certificate is compared instead.
		InsecureSkipVerify: true, //nolint:gosec // verified in VerifyConnection
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !bytes.Equal(cs.PeerCertificates[0].Raw, want) {
				return errors.New("the server's certificate is not the one in tls_server_config")
			}
			return nil
		},
	}, nil
}
