package config

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// Storage engines.
const (
	// EngineEmbedded is Pebble on local disk at --storage.path.
	EngineEmbedded = "embedded"
	// EngineNATS is the replicated engine on NATS JetStream.
	EngineNATS = "nats"
)

// Storage chooses where the queue, the alert center and the history live
// (see docs/high-availability.md). It is read at start: a reload that
// changes it is refused.
type Storage struct {
	// Engine is EngineEmbedded (the default) or EngineNATS.
	Engine string       `yaml:"engine"`
	NATS   *NATSStorage `yaml:"nats,omitempty"`
}

// NATSStorage is the connection to the NATS cluster and the names the
// engine uses there.
type NATSStorage struct {
	URLs            []string             `yaml:"urls"`
	CredentialsFile string               `yaml:"credentials_file,omitempty"`
	NKeySeedFile    string               `yaml:"nkey_seed_file,omitempty"`
	TokenFile       string               `yaml:"token_file,omitempty"`
	Username        string               `yaml:"username,omitempty"`
	PasswordFile    string               `yaml:"password_file,omitempty"`
	TLSConfig       *commoncfg.TLSConfig `yaml:"tls_config,omitempty"`
	// Prefix names the stream and buckets: <prefix>_LOG, _CLAIMS,
	// _SNAPSHOTS.
	Prefix string `yaml:"prefix,omitempty"`
	// Replicas of the stream and buckets.
	Replicas int `yaml:"replicas,omitempty"`
	// ClaimTTL is how long a target claimed by a bridge that died waits
	// for another bridge.
	ClaimTTL model.Duration `yaml:"claim_ttl,omitempty"`
	// PublishTimeout bounds one write (an acceptance answers 503 after
	// it).
	PublishTimeout model.Duration `yaml:"publish_timeout,omitempty"`
}

// Defaults of the NATS engine.
const (
	DefaultNATSPrefix         = "ALERTBRIDGE"
	DefaultNATSReplicas       = 3
	DefaultNATSClaimTTL       = model.Duration(15 * time.Second)
	DefaultNATSPublishTimeout = model.Duration(5 * time.Second)
)

var natsPrefix = regexp.MustCompile(`^[A-Za-z0-9_-]{1,32}$`)

// load resolves the files' paths, validates and sets the defaults.
func (s *Storage) load(dir string) error {
	switch s.Engine {
	case "", EngineEmbedded:
		s.Engine = EngineEmbedded
		if s.NATS != nil {
			return errors.New("storage.nats: set, but storage.engine is not nats")
		}
		return nil
	case EngineNATS:
	default:
		return fmt.Errorf("storage.engine: %q is not an engine (embedded or nats)", s.Engine)
	}
	if s.NATS == nil {
		return errors.New("storage.nats: required with storage.engine nats")
	}
	return s.NATS.load(dir)
}

func (n *NATSStorage) load(dir string) error {
	var errs []error
	fail := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("storage.nats.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if len(n.URLs) == 0 {
		fail("urls", "at least one NATS server URL is required")
	}
	for i, u := range n.URLs {
		p, err := url.Parse(u)
		switch {
		case err != nil:
			fail(fmt.Sprintf("urls[%d]", i), "not a URL")
		case p.Scheme != "nats" && p.Scheme != "tls" && p.Scheme != "ws" && p.Scheme != "wss":
			fail(fmt.Sprintf("urls[%d]", i), "scheme %q: use nats://, tls://, ws:// or wss://", p.Scheme)
		case p.Host == "":
			fail(fmt.Sprintf("urls[%d]", i), "no host")
		case p.User != nil:
			fail(fmt.Sprintf("urls[%d]", i), "credentials in the URL: use token_file, password_file, nkey_seed_file or credentials_file")
		}
	}
	auth := 0
	for key, f := range map[string]*string{"credentials_file": &n.CredentialsFile, "nkey_seed_file": &n.NKeySeedFile,
		"token_file": &n.TokenFile, "password_file": &n.PasswordFile} {
		if *f == "" {
			continue
		}
		if key != "password_file" {
			auth++
		}
		*f = resolve(dir, *f)
		if st, err := os.Stat(*f); err != nil {
			fail(key, "%v", err)
		} else if st.IsDir() {
			fail(key, "%s is a folder", *f)
		}
	}
	if n.Username != "" || n.PasswordFile != "" {
		auth++
		if n.Username == "" || n.PasswordFile == "" {
			fail("username", "username and password_file go together")
		}
	}
	if auth > 1 {
		fail("credentials_file", "choose one of credentials_file, nkey_seed_file, token_file and username with password_file")
	}
	if n.TLSConfig != nil {
		n.TLSConfig.SetDirectory(dir)
		if _, err := commoncfg.NewTLSConfig(n.TLSConfig); err != nil {
			fail("tls_config", "%v", err)
		}
	}
	if n.Prefix == "" {
		n.Prefix = DefaultNATSPrefix
	} else if !natsPrefix.MatchString(n.Prefix) {
		fail("prefix", "%q: letters, digits, - and _ only, at most 32", n.Prefix)
	}
	switch {
	case n.Replicas == 0:
		n.Replicas = DefaultNATSReplicas
	case n.Replicas < 1 || n.Replicas > 5:
		fail("replicas", "%d: JetStream keeps 1 to 5 replicas", n.Replicas)
	}
	switch {
	case n.ClaimTTL == 0:
		n.ClaimTTL = DefaultNATSClaimTTL
	case n.ClaimTTL < model.Duration(time.Second):
		fail("claim_ttl", "%s: at least 1s", n.ClaimTTL)
	}
	switch {
	case n.PublishTimeout == 0:
		n.PublishTimeout = DefaultNATSPublishTimeout
	case n.PublishTimeout < 0:
		fail("publish_timeout", "must be positive")
	}
	return errors.Join(errs...)
}

// Redacted is the connection for status pages: the URLs without what
// follows the host.
func (n *NATSStorage) Redacted() string {
	var hosts []string
	for _, u := range n.URLs {
		if p, err := url.Parse(u); err == nil {
			hosts = append(hosts, p.Scheme+"://"+p.Host)
		}
	}
	return strings.Join(hosts, ",")
}

// validateWith checks the storage section against the rest of the
// configuration: with the replicated engine, an attempt must end before
// its bridge's claim can lapse (or a bridge that lost NATS would still be
// sending when another takes the target over), and rendered times must
// not depend on each bridge's host.
func (s *Storage) validateWith(c *Config) error {
	if s.Engine != EngineNATS || s.NATS == nil {
		return nil
	}
	var errs []error
	longest, where := c.Global.Timeout, "global.timeout"
	for i, t := range c.Targets {
		if t != nil && t.Timeout > longest {
			longest, where = t.Timeout, fmt.Sprintf("targets[%d] (%s).timeout", i, t.Name)
		}
	}
	if s.NATS.ClaimTTL <= longest {
		errs = append(errs, fmt.Errorf("storage.nats.claim_ttl: %s is not longer than %s (%s): an attempt could outlive a lapsed claim and overlap the next owner's", s.NATS.ClaimTTL, where, longest))
	}
	if strings.EqualFold(c.Global.Timezone, "Local") {
		errs = append(errs, errors.New("global.timezone: Local differs from host to host, and the bridges sharing a store must record the same times: name the zone (for example Europe/Berlin)"))
	}
	return errors.Join(errs...)
}
