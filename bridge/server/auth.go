package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// Credentials are the credentials in force. The Backend returns them per
// request, so a reload or a rotated token file applies at once.
type Credentials struct {
	// Ingest admits Alertmanager: inbound.bearer_token and the basic auth
	// users of --web.config.file, as alternatives.
	Ingest Credential
	// API admits people and tools: api.bearer_token and
	// api.basic_auth_users, as alternatives.
	API Credential
}

// Credential is a set of alternatives: the bearer token or any of the
// basic auth users admits. The zero value holds none.
type Credential struct {
	// Token is the bearer token; empty means none. Never empty by
	// mistake: the configuration refuses empty credentials.
	Token string
	// Users maps a user name to a bcrypt hash of the password.
	Users map[string]string
}

// Configured reports whether c holds any credential.
func (c Credential) Configured() bool { return c.Token != "" || len(c.Users) > 0 }

// dummyHash is compared against when the user is unknown, so the answer
// takes as long as for a known user (bcrypt of "fakepassword", as in
// exporter-toolkit).
const dummyHash = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

// passwords checks basic auth passwords against bcrypt hashes. bcrypt is
// slow on purpose, so outcomes are remembered (by a hash of user, stored
// hash and password, never the password itself) and one comparison runs
// at a time, as exporter-toolkit does.
type passwords struct {
	cmp   sync.Mutex // serializes bcrypt
	mu    sync.Mutex
	known map[[32]byte]bool
}

// maxRemembered bounds the outcomes kept; the map starts over when full.
const maxRemembered = 1024

func (p *passwords) check(user, pass string, users map[string]string) bool {
	hash, ok := users[user]
	if !ok {
		hash = dummyHash
	}
	key := sha256.Sum256([]byte(user + "\x00" + hash + "\x00" + pass))
	p.mu.Lock()
	good, seen := p.known[key]
	p.mu.Unlock()
	if !seen {
		p.cmp.Lock()
		good = bcrypt.CompareHashAndPassword([]byte(hash), []byte(pass)) == nil
		p.cmp.Unlock()
		p.mu.Lock()
		if p.known == nil || len(p.known) >= maxRemembered {
			p.known = map[[32]byte]bool{}
		}
		p.known[key] = good
		p.mu.Unlock()
	}
	return ok && good
}

// admits reports whether r presents one of c's credentials. The bearer
// scheme is matched case-insensitively and the token in constant time.
func (p *passwords) admits(c Credential, r *http.Request) bool {
	scheme, rest, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	switch {
	case strings.EqualFold(scheme, "Bearer"):
		return c.Token != "" && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(rest)), []byte(c.Token)) == 1
	case strings.EqualFold(scheme, "Basic"):
		user, pass, ok := r.BasicAuth()
		return ok && len(c.Users) > 0 && p.check(user, pass, c.Users)
	}
	return false
}
