package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/config"
)

// sendTestOptions say where the running bridge is and how to authenticate.
type sendTestOptions struct {
	// URL is --bridge.url; empty: the bridge on Listen (--web.listen-address),
	// over HTTPS when WebConfigFile sets TLS.
	URL, Listen, WebConfigFile string
	// RoutePrefix is --web.route-prefix, added to the URL made from Listen.
	RoutePrefix string
	// TokenFile is --bridge.token-file; empty: api.bearer_token(_file) of
	// ConfigFile, when it sets one.
	TokenFile, ConfigFile string
	Target                string
	Timeout               time.Duration
}

// sendTest asks a running bridge to queue a sample notification for the
// target (an admin call: the bridge needs --web.enable-admin-api). The
// answer goes to out; every failure goes to diag, naming the URL tried
// (without user info or query). Exit code 0 when the bridge queued it.
func sendTest(out, diag io.Writer, o sendTestOptions) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(diag, "alertbridge: send-test: "+format+"\n", args...)
		return 1
	}
	client := &http.Client{Timeout: o.Timeout}
	base := strings.TrimRight(o.URL, "/")
	if base == "" {
		addr, err := healthcheckAddr(o.Listen)
		if err != nil {
			return fail("%v", err)
		}
		base = "http://" + addr
		if o.WebConfigFile != "" {
			tlsConfig, err := healthcheckTLS(o.WebConfigFile)
			if err != nil {
				return fail("%v", err)
			}
			if tlsConfig != nil {
				base = "https://" + addr
				client.Transport = &http.Transport{TLSClientConfig: tlsConfig}
			}
		}
		base += o.RoutePrefix
	}
	token, err := sendTestToken(o.TokenFile, o.ConfigFile)
	if err != nil {
		return fail("%v", err)
	}
	target := base + "/api/v1/targets/" + url.PathEscape(o.Target) + "/test"
	shown := displayURL(target)
	ctx, cancel := context.WithTimeout(context.Background(), o.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, nil)
	if err != nil {
		return fail("POST %s: %v", shown, errors.Unwrap(err))
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fail("POST %s: %v", shown, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusAccepted {
		return fail("POST %s: %s: %s", shown, resp.Status, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(out, "queued: %s\nFollow it with GET %s/api/v1/deliveries?target=%s&state=delivered (or state=pending, state=dead)\n",
		strings.TrimSpace(string(body)), displayURL(base), url.QueryEscape(o.Target))
	return 0
}

// sendTestToken returns the bearer token for the admin call: the token
// file's, or the configuration's api token, or "" when neither is set. An
// empty or unreadable token file is an error.
func sendTestToken(tokenFile, configFile string) (string, error) {
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("--bridge.token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("--bridge.token-file: %s is empty", tokenFile)
		}
		return tok, nil
	}
	if configFile == "" {
		return "", nil
	}
	if _, err := os.Stat(configFile); errors.Is(err, os.ErrNotExist) {
		return "", nil // no configuration here: no credential to send
	}
	cfg, err := config.Load(configFile)
	if err != nil {
		return "", fmt.Errorf("reading the api credential from --config.file: %w", err)
	}
	return string(cfg.API.BearerToken), nil
}

// displayURL is u without user info and query, for messages.
func displayURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "<invalid URL>"
	}
	p.User, p.RawQuery, p.Fragment = nil, "", ""
	return p.String()
}
