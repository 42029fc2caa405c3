package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestStorage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "token"), []byte("s3cret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "targets:\n  - {name: a, type: webhook, url: 'http://127.0.0.1:1/x'}\n"
	for _, tc := range []struct {
		name, yaml string
		err        string // substring; "" means valid
		check      func(t *testing.T, c *Config)
	}{
		{name: "default is embedded", yaml: "", check: func(t *testing.T, c *Config) {
			if c.Storage.Engine != EngineEmbedded || c.Storage.NATS != nil {
				t.Errorf("storage = %+v", c.Storage)
			}
		}},
		{name: "nats with defaults", yaml: "storage:\n  engine: nats\n  nats: {urls: ['nats://n1:4222', 'tls://n2:4222'], token_file: token}\n",
			check: func(t *testing.T, c *Config) {
				n := c.Storage.NATS
				if n.Prefix != "ALERTBRIDGE" || n.Replicas != 3 || time.Duration(n.ClaimTTL) != 15*time.Second ||
					time.Duration(n.PublishTimeout) != 5*time.Second || n.TokenFile != filepath.Join(dir, "token") {
					t.Errorf("nats = %+v", n)
				}
				if got := n.Redacted(); got != "nats://n1:4222,tls://n2:4222" {
					t.Errorf("Redacted = %q", got)
				}
			}},
		{name: "unknown engine", yaml: "storage: {engine: etcd}\n", err: `storage.engine: "etcd" is not an engine`},
		{name: "nats without section", yaml: "storage: {engine: nats}\n", err: "storage.nats: required"},
		{name: "section without nats", yaml: "storage: {nats: {urls: ['nats://n:4222']}}\n", err: "storage.engine is not nats"},
		{name: "no urls", yaml: "storage: {engine: nats, nats: {}}\n", err: "storage.nats.urls: at least one"},
		{name: "http url", yaml: "storage: {engine: nats, nats: {urls: ['http://n:4222']}}\n", err: `scheme "http"`},
		{name: "credentials in url", yaml: "storage: {engine: nats, nats: {urls: ['nats://u:pw@n:4222']}}\n", err: "credentials in the URL"},
		{name: "missing file", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], credentials_file: nope.creds}}\n", err: "storage.nats.credentials_file"},
		{name: "two methods", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], token_file: token, username: u, password_file: token}}\n", err: "choose one"},
		{name: "user without password", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], username: u}}\n", err: "go together"},
		{name: "bad prefix", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], prefix: 'a.b'}}\n", err: "storage.nats.prefix"},
		{name: "too many replicas", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], replicas: 7}}\n", err: "storage.nats.replicas"},
		{name: "short claim", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], claim_ttl: 100ms}}\n", err: "storage.nats.claim_ttl"},
		{name: "unknown key", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], sync: always}}\n", err: "sync"},
		{name: "claim shorter than a timeout", yaml: "storage: {engine: nats, nats: {urls: ['nats://n:4222'], claim_ttl: 5s}}\n", err: "storage.nats.claim_ttl: 5s is not longer than global.timeout"},
		{name: "local time zone", yaml: "global: {timezone: Local}\nstorage: {engine: nats, nats: {urls: ['nats://n:4222']}}\n", err: "global.timezone: Local differs"},
		{name: "bad tls", yaml: "storage: {engine: nats, nats: {urls: ['tls://n:4222'], tls_config: {ca_file: missing.pem}}}\n", err: "storage.nats.tls_config"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml+target), dir)
			if tc.err == "" {
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c)
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("err = %v, want %q", err, tc.err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error shows the token: %v", err)
			}
		})
	}
}
