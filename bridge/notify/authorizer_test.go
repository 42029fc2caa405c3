package notify

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/alertbridge/alertbridge/bridge/alert"
)

// tokenNotifier is the Authorizer half of a notifier against
// tokenServer.
type tokenNotifier struct {
	base  string
	mu    sync.Mutex
	token string
}

func (n *tokenNotifier) TokenRequest(stale bool) *Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	if stale {
		n.token = ""
	}
	if n.token != "" {
		return nil
	}
	return &Request{Method: http.MethodPost, URL: n.base + "/token", Body: []byte(`{"secret":"s3cr3t-app"}`)}
}

func (n *tokenNotifier) TokenAnswer(resp *Response) Result {
	if resp.StatusCode != http.StatusOK {
		return Failed(ReasonAuthError, "refused: %s", resp.Body)
	}
	n.mu.Lock()
	n.token = string(resp.Body)
	n.mu.Unlock()
	return OK()
}

func (n *tokenNotifier) Authorize(req *Request) *Request {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := *req
	out.Header = http.Header{"Authorization": []string{"Bearer " + n.token}}
	return &out
}

func (n *tokenNotifier) Classify(resp *Response) Result {
	if resp.StatusCode == http.StatusUnauthorized {
		r := Failed(ReasonAuthError, "token refused: %s", resp.Body)
		r.Reauth = true
		return r
	}
	return ClassifyHTTP(resp, fixedNow)
}

// tokenServer issues tokens t1, t2, …; /send accepts the tokens valid
// says are, and echoes the one it refuses.
func tokenServer(t *testing.T, valid func(token string) bool, tokenStatus int) (string, *[]string) {
	var (
		mu  sync.Mutex
		log []string
		n   int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/token":
			log = append(log, "token")
			if tokenStatus != http.StatusOK {
				w.WriteHeader(tokenStatus)
				_, _ = io.WriteString(w, "secret s3cr3t-app is wrong")
				return
			}
			n++
			_, _ = io.WriteString(w, "t-0123456789abcdef"+strings.Repeat("x", n))
		default:
			tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
			log = append(log, "send "+tok)
			if !valid(tok) {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, "bad token "+tok)
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &log
}

func authDeliver(n *tokenNotifier, reqs int) Result {
	var rs []*Request
	for range reqs {
		rs = append(rs, &Request{Method: http.MethodPost, URL: n.base + "/send", Body: []byte(`{}`)})
	}
	return (&Sender{}).Deliver(context.Background(), http.DefaultClient, &builtAuth{n, rs}, nil,
		Attempt{Redact: NewRedactor("s3cr3t-app")})
}

// builtAuth is tokenNotifier with fixed requests.
type builtAuth struct {
	*tokenNotifier
	reqs []*Request
}

func (b *builtAuth) Build(context.Context, *alert.Group) ([]*Request, error) { return b.reqs, nil }

func TestAuthorizerFetchesOnceAndReuses(t *testing.T) {
	base, log := tokenServer(t, func(tok string) bool { return tok == "t-0123456789abcdefx" }, http.StatusOK)
	n := &tokenNotifier{base: base}
	if r := authDeliver(n, 2); r.Verdict != Delivered || r.Sent != 2 {
		t.Fatalf("result %+v", r)
	}
	authDeliver(n, 1)
	if got := strings.Join(*log, ","); got != "token,send t-0123456789abcdefx,send t-0123456789abcdefx,send t-0123456789abcdefx" {
		t.Errorf("requests %s", got)
	}
}

// TestAuthorizerRefetchesOnce: a refused token is replaced once per
// request; a platform that refuses every token fails the attempt after
// the second try, with the token scrubbed from the message.
func TestAuthorizerRefetchesOnce(t *testing.T) {
	base, log := tokenServer(t, func(tok string) bool { return tok == "t-0123456789abcdefx" }, http.StatusOK)
	n := &tokenNotifier{base: base, token: "stale"}
	if r := authDeliver(n, 1); r.Verdict != Delivered {
		t.Fatalf("result %+v", r)
	}
	if got := strings.Join(*log, ","); got != "send stale,token,send t-0123456789abcdefx" {
		t.Errorf("requests %s", got)
	}
	base2, log2 := tokenServer(t, func(string) bool { return false }, http.StatusOK)
	n2 := &tokenNotifier{base: base2}
	r := authDeliver(n2, 1)
	if r.Verdict != Permanent || r.Reason != ReasonAuthError || r.Reauth {
		t.Errorf("result %+v", r)
	}
	if got := strings.Join(*log2, ","); got != "token,send t-0123456789abcdefx,token,send t-0123456789abcdefxx" {
		t.Errorf("requests %s, want two tokens and two sends", got)
	}
	if strings.Contains(r.Message, "0123456789abcdef") {
		t.Errorf("the token is in the message: %s", r.Message)
	}
}

// TestAuthorizerTokenRefused: no token, no message; the secret the
// answer echoes is scrubbed.
func TestAuthorizerTokenRefused(t *testing.T) {
	base, log := tokenServer(t, func(string) bool { return true }, http.StatusBadRequest)
	r := authDeliver(&tokenNotifier{base: base}, 1)
	if r.Verdict != Permanent || r.Reason != ReasonAuthError || strings.Contains(r.Message, "s3cr3t-app") || !strings.Contains(r.Message, "getting an access token") {
		t.Errorf("result %+v", r)
	}
	if got := strings.Join(*log, ","); got != "token" {
		t.Errorf("requests %s", got)
	}
}
