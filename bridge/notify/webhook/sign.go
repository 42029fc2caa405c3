package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// signer signs bodies per the Standard Webhooks specification: headers
// webhook-id (stable across retries of one delivery), webhook-timestamp
// (seconds, of this attempt) and webhook-signature ("v1,<base64 HMAC-SHA256>"
// over id.timestamp.body).
type signer struct {
	key []byte
}

// newSigner decodes a "whsec_"-prefixed base64 secret; a secret without the
// prefix is used as raw key bytes.
func newSigner(secret string) (*signer, error) {
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, errors.New("secret: whsec_ secrets must be base64 after the prefix")
		}
		return &signer{key: key}, nil
	}
	return &signer{key: []byte(secret)}, nil
}

// sign returns the signature header value for one attempt.
func (s *signer) sign(id string, ts time.Time, body []byte) string {
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(id + "." + strconv.FormatInt(ts.Unix(), 10) + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// messageID is stable for one group notification to one target, so a
// receiver can deduplicate retries.
func messageID(target string, g *alert.Group) string {
	h := sha256.Sum256([]byte(target + "\x00" + g.GroupKey + "\x00" + g.ReceivedAt.UTC().Format(time.RFC3339Nano)))
	return "msg_" + hex.EncodeToString(h[:12])
}
