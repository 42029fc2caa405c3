package notify

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Redacted replaces a secret value in text.
const Redacted = "<redacted>"

// minSecretLen is the shortest configured secret searched for: shorter
// values would match ordinary words of a message.
const minSecretLen = 4

// Redactor scrubs known secret values out of text that reaches logs and
// API answers, such as an error body in which a target or a proxy echoes
// the request: a target's URL and its path and query parts, its signing
// secret, its http_config credentials, and each request's signature. It
// replaces each value, and its URL-escaped, JSON-escaped and (for basic
// auth) Base64 forms, by Redacted. A Redactor is immutable; the nil
// Redactor scrubs nothing.
type Redactor struct {
	values []string // longest first, so a value inside another is not cut first
}

// NewRedactor returns a Redactor for secrets (values shorter than
// minSecretLen are ignored).
func NewRedactor(secrets ...string) *Redactor {
	return (*Redactor)(nil).With(secrets...)
}

// With returns a Redactor that also scrubs secrets.
func (r *Redactor) With(secrets ...string) *Redactor {
	out := &Redactor{}
	if r != nil {
		out.values = slices.Clone(r.values)
	}
	for _, s := range secrets {
		if len(s) < minSecretLen {
			continue
		}
		j, _ := json.Marshal(s)
		out.values = append(out.values, s, url.QueryEscape(s), url.PathEscape(s), string(j[1:len(j)-1]))
	}
	slices.SortFunc(out.values, func(a, b string) int { return cmp.Or(len(b)-len(a), strings.Compare(a, b)) })
	out.values = slices.Compact(out.values)
	return out
}

// WithURL returns a Redactor that also scrubs the secret parts of the URL
// raw (see URLSecrets).
func (r *Redactor) WithURL(raw string) *Redactor { return r.With(URLSecrets(raw)...) }

// WithBasicAuth returns a Redactor that also scrubs password and the
// Authorization header value made from user and password.
func (r *Redactor) WithBasicAuth(user, password string) *Redactor {
	if password == "" {
		return r
	}
	return r.With(password, base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

// WithRequest returns a Redactor that also scrubs what is secret in one
// request: its URL's parts (DingTalk signs into the query), the values of
// headers that carry credentials or signatures (see credentialHeader), and
// a top-level "sign" or "signature" string of a JSON body (Lark signs into
// the body, and its signature covers only the timestamp, so it would let
// anyone post to the bot for an hour).
func (r *Redactor) WithRequest(req *Request) *Redactor {
	secrets := append(URLSecrets(req.URL), bodySignatures(req.Body)...)
	var values []string
	for name, vs := range req.Header {
		if credentialHeader(name) {
			values = append(values, vs...)
		}
	}
	return r.With(secrets...).WithHeaderValues(values...)
}

// WithHeaderValues returns a Redactor that also scrubs the values of
// credential headers: each value whole and each of its pieces ("v1,<sig>
// v1,<sig2>", "Bearer <token>", "Basic <base64>").
func (r *Redactor) WithHeaderValues(values ...string) *Redactor {
	if len(values) == 0 {
		return r
	}
	var secrets []string
	for _, v := range values {
		secrets = append(secrets, v)
		pieces := strings.FieldsFunc(v, func(c rune) bool { return c == ' ' || c == ',' })
		if len(pieces) > 1 && authScheme(pieces[0]) {
			pieces = pieces[1:] // "Bearer", "Basic": the scheme is no secret
		}
		secrets = append(secrets, pieces...)
	}
	return r.With(secrets...)
}

// authScheme reports whether s looks like an HTTP authentication scheme
// (a short word of letters, such as "Bearer" or "Basic").
func authScheme(s string) bool {
	if len(s) > 12 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// bodySignatures returns the top-level "sign" and "signature" strings of
// a JSON object body.
func bodySignatures(body []byte) []string {
	if !bytes.Contains(body, []byte(`"sign`)) {
		return nil
	}
	var fields struct {
		Sign      any `json:"sign"`
		Signature any `json:"signature"`
	}
	if json.Unmarshal(body, &fields) != nil {
		return nil
	}
	var out []string
	for _, v := range []any{fields.Sign, fields.Signature} {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// Redact returns s with every known secret value replaced.
func (r *Redactor) Redact(s string) string {
	if r == nil || s == "" {
		return s
	}
	for _, v := range r.values {
		if strings.Contains(s, v) {
			s = strings.ReplaceAll(s, v, Redacted)
		}
	}
	return s
}

// RedactHeader returns a copy of h with the values of credential headers
// replaced and every other value scrubbed.
func (r *Redactor) RedactHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for name, vs := range h {
		for _, v := range vs {
			if credentialHeader(name) {
				v = Redacted
			}
			out[name] = append(out[name], r.Redact(v))
		}
	}
	return out
}

// credentialHeader reports whether a header's name says its value is a
// credential or a signature.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "sign", "token", "secret", "key", "password", "cookie", "credential"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// URLSecrets returns the parts of a target URL that may carry credentials:
// the URL itself (as written and as Go prints it), its user info, its path
// and query as wholes, and each path segment and query value that looks
// like a token (see tokenLike), both escaped and unescaped. The scheme and
// host are kept, so a redacted message still says where the request went.
func URLSecrets(raw string) []string {
	if raw == "" {
		return nil
	}
	out := []string{raw}
	u, err := url.Parse(raw)
	if err != nil {
		return out
	}
	out = append(out, u.String())
	if u.User != nil {
		out = append(out, u.User.String())
		// The HTTP client sends the user info as Basic auth.
		p, _ := u.User.Password()
		out = append(out, base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+p)))
		if p != "" {
			out = append(out, p)
		}
		if tokenLike(u.User.Username()) {
			out = append(out, u.User.Username())
		}
	}
	if p := u.EscapedPath(); len(p) > 1 {
		out = append(out, p, strings.TrimPrefix(p, "/"))
		for _, seg := range strings.Split(p, "/") {
			dec, _ := url.PathUnescape(seg)
			for _, v := range []string{seg, dec} {
				if tokenLike(v) {
					out = append(out, v)
				}
			}
		}
	}
	if u.RawQuery != "" {
		out = append(out, u.RawQuery)
		for _, pair := range strings.Split(u.RawQuery, "&") {
			_, v, _ := strings.Cut(pair, "=")
			dec, _ := url.QueryUnescape(v)
			for _, v := range []string{v, dec} {
				if tokenLike(v) {
					out = append(out, v)
				}
			}
		}
	}
	if u.Fragment != "" {
		out = append(out, u.Fragment)
	}
	return out
}

// tokenLike reports whether a URL part may be a credential: at least 16
// bytes, or at least 6 with a character other than a lower-case letter,
// '-', '_' or '.'. Plain path words such as "services", "hooks",
// "open-apis" or "cgi-bin" are kept, so messages stay readable.
func tokenLike(s string) bool {
	if len(s) >= 16 {
		return true
	}
	if len(s) < 6 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && c != '-' && c != '_' && c != '.' {
			return true
		}
	}
	return false
}
