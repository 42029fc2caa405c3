package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// forwarder is the bare forwarder of -compare-forwarder: it accepts an
// Alertmanager notification, POSTs the body unchanged to the sink and
// answers 200 only when the sink took it (2xx, and errcode 0 when the
// answer carries an errcode). No queue, no store, no retry: what it costs
// is the floor a bridge on the same machine is compared with.
type forwarder struct {
	url    string
	client *http.Client

	forwarded atomic.Int64 // answered 200
	failed    atomic.Int64 // answered 502
}

func newForwarder(url string, concurrency int, timeout time.Duration) *forwarder {
	return &forwarder{url: url, client: &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConns:        2 * concurrency,
			MaxIdleConnsPerHost: concurrency,
			IdleConnTimeout:     90 * time.Second,
		},
	}}
}

func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSinkBody))
	if err != nil {
		http.Error(w, "reading body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := f.forward(r, body); err != "" {
		f.failed.Add(1)
		http.Error(w, err, http.StatusBadGateway)
		return
	}
	f.forwarded.Add(1)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"success"}`)
}

// forward posts body to the sink and returns why it failed ("" if not).
func (f *forwarder) forward(r *http.Request, body []byte) string {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodPost, f.url, bytes.NewReader(body))
	if err != nil {
		return err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return err.Error()
	}
	ans, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "sink answered " + resp.Status
	}
	if bytes.Contains(ans, []byte(`"errcode"`)) {
		var e struct {
			ErrCode *int   `json:"errcode"`
			ErrMsg  string `json:"errmsg"`
		}
		if json.Unmarshal(ans, &e) == nil && e.ErrCode != nil && *e.ErrCode != 0 {
			return "sink answered errcode " + string(ans)
		}
	}
	return ""
}
