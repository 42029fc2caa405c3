// Package alert decodes Alertmanager webhook notifications and builds the
// normalized Group every later stage works on: Alertmanager's template data
// plus bridge-computed views (HertzBeat-style records today; the API7, Coroot
// and AMMDS views hang off the same Group).
package alert

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/common/model"

	gojson "github.com/goccy/go-json"
)

// Version is the Alertmanager webhook payload version the bridge accepts.
const Version = "4"

// Message is the Alertmanager webhook payload (version 4), with the same
// JSON shape Alertmanager's webhook notifier sends.
type Message struct {
	template.Data
	Version         string `json:"version"`
	GroupKey        string `json:"groupKey"`
	TruncatedAlerts uint64 `json:"truncatedAlerts"`

	// raw is the payload the message was decoded from (DecodeWith).
	raw []byte
}

// Body returns the payload as received when the message was decoded from
// one, and otherwise its JSON. Decoding the result gives the message
// again.
func (m *Message) Body() ([]byte, error) {
	if m.raw != nil {
		return m.raw, nil
	}
	return json.Marshal(m)
}

// InvalidError reports a payload that can never be accepted, whatever the
// number of retries: the caller's mistake. Its message names the problem.
type InvalidError struct {
	Msg string
	// GroupKey is the payload's group key when it could be read, for
	// logging; it is not part of the message.
	GroupKey string
}

func (e *InvalidError) Error() string { return e.Msg }

func invalid(format string, args ...any) error {
	return &InvalidError{Msg: fmt.Sprintf(format, args...)}
}

// IsInvalid reports whether err is an *InvalidError.
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// TooManyAlertsError reports a notification with more alerts than the
// decoder's limit. It is found before any alert is decoded.
type TooManyAlertsError struct {
	Alerts, Limit int
	// GroupKey is the payload's group key when it could be read.
	GroupKey string
}

func (e *TooManyAlertsError) Error() string {
	return fmt.Sprintf("the notification has %d alerts, over the limit of %d", e.Alerts, e.Limit)
}

// Decode reads and validates one webhook payload, with no limit on the
// number of alerts. See DecodeWith.
func Decode(r io.Reader) (*Message, error) { return DecodeWith(r, DecodeOptions{}) }

// DecodeOptions bound and size a decode.
type DecodeOptions struct {
	// MaxAlerts > 0 limits the alerts of the notification.
	MaxAlerts int
	// SizeHint > 0 is the body's expected length (its Content-Length):
	// the body is read into one buffer of that size instead of one that
	// grows by doubling. The reader must stop at that length (a request
	// body does); the hint is not a limit.
	SizeHint int64
}

// DecodeWith reads and validates one webhook payload. Validation errors
// are *InvalidError. A payload with more than opts.MaxAlerts alerts is
// refused with a *TooManyAlertsError before any alert is decoded, so the
// memory it costs is its body, not its alerts. Errors from the reader
// itself (for example a body over the size limit) are returned as they
// are so the caller can map them.
func DecodeWith(r io.Reader, opts DecodeOptions) (*Message, error) {
	maxAlerts := opts.MaxAlerts
	// The common case, a well-formed payload, is read whole into a
	// pooled buffer and unmarshalled: a json.Decoder would grow a buffer
	// of its own for every request. Anything else is decoded again by
	// decodeStream, which tells the errors apart.
	buf := bodyBuffers.Get().(*bytes.Buffer)
	defer func() {
		if buf.Cap() <= maxPooledBody {
			buf.Reset()
			bodyBuffers.Put(buf)
		}
	}()
	buf.Reset()
	if opts.SizeHint > 0 && opts.SizeHint < math.MaxInt32 {
		// ReadFrom grows the buffer while less than MinRead is free.
		buf.Grow(int(opts.SizeHint) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, err // the body could not be read: not the payload's fault
	}
	// Count before decoding. A scan that did not reach the end of the
	// object means malformed JSON, which the decoders refuse before they
	// build anything; they explain the problem better than a count would.
	sh := scanShape(buf.Bytes())
	if maxAlerts > 0 && sh.ok && sh.alerts > maxAlerts {
		return nil, &TooManyAlertsError{Alerts: sh.alerts, Limit: maxAlerts, GroupKey: sh.groupKey}
	}
	m, err := decodeFast(buf.Bytes())
	if err != nil {
		m, err = decodeStream(bytes.NewReader(buf.Bytes()))
	} else {
		err = m.Validate()
	}
	if err == nil && maxAlerts > 0 && len(m.Alerts) > maxAlerts {
		// Unreachable while scanShape is right; the limit holds anyway.
		return nil, &TooManyAlertsError{Alerts: len(m.Alerts), Limit: maxAlerts, GroupKey: m.GroupKey}
	}
	if err != nil {
		if ie := (*InvalidError)(nil); errors.As(err, &ie) && ie.GroupKey == "" {
			ie.GroupKey = sh.groupKey
		}
		return nil, err
	}
	m.raw = bytes.Clone(buf.Bytes())
	return m, nil
}

// maxPooledBody bounds the body buffers kept for reuse.
const maxPooledBody = 1 << 20

var bodyBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// wireMessage is Message flattened: goccy/go-json matches keys case
// insensitively, as encoding/json does, only in structs without embedded
// ones.
type wireMessage struct {
	Receiver           string          `json:"receiver"`
	Status             string          `json:"status"`
	Alerts             template.Alerts `json:"alerts"`
	NotificationReason string          `json:"notification_reason"`
	GroupLabels        template.KV     `json:"groupLabels"`
	CommonLabels       template.KV     `json:"commonLabels"`
	CommonAnnotations  template.KV     `json:"commonAnnotations"`
	RouteLabels        template.KV     `json:"routeLabels"`
	ExternalURL        string          `json:"externalURL"`
	Version            string          `json:"version"`
	GroupKey           string          `json:"groupKey"`
	TruncatedAlerts    uint64          `json:"truncatedAlerts"`
}

// decodeFast decodes a payload with goccy/go-json, about four times
// faster than encoding/json and into the same message wherever it
// succeeds (TestFastDecodeMatchesStandard, and its fuzz target). Callers
// fall back to encoding/json when it fails.
func decodeFast(b []byte) (*Message, error) {
	// goccy skips the fields it does not know without checking them, and
	// keeps invalid UTF-8 where encoding/json substitutes U+FFFD: such
	// documents go the slow way.
	if !utf8.Valid(b) || !json.Valid(b) {
		return nil, errors.New("invalid JSON or UTF-8")
	}
	var w wireMessage
	if err := gojson.Unmarshal(b, &w); err != nil {
		return nil, err
	}
	return &Message{
		Data: template.Data{Receiver: w.Receiver, Status: w.Status, Alerts: w.Alerts, NotificationReason: w.NotificationReason,
			GroupLabels: w.GroupLabels, CommonLabels: w.CommonLabels, CommonAnnotations: w.CommonAnnotations,
			RouteLabels: w.RouteLabels, ExternalURL: w.ExternalURL},
		Version: w.Version, GroupKey: w.GroupKey, TruncatedAlerts: w.TruncatedAlerts,
	}, nil
}

// decodeStream is Decode with a json.Decoder, which reports why a payload
// is malformed.
func decodeStream(r io.Reader) (*Message, error) {
	var m Message
	src := &readErr{r: r}
	dec := json.NewDecoder(src)
	if err := dec.Decode(&m); err != nil {
		if src.err != nil && !errors.Is(src.err, io.EOF) {
			return nil, src.err // the body could not be read: not the payload's fault
		}
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return nil, invalid("malformed JSON at byte %d: %v", syn.Offset, err)
		case errors.As(err, &typ):
			return nil, invalid("malformed payload: field %q must be %s, got %s", typ.Field, typ.Type, typ.Value)
		case errors.Is(err, io.EOF):
			return nil, invalid("empty body: expected an Alertmanager webhook payload")
		case errors.Is(err, io.ErrUnexpectedEOF):
			return nil, invalid("malformed JSON: unexpected end of body")
		}
		return nil, invalid("malformed payload: %v", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if src.err != nil && !errors.Is(src.err, io.EOF) {
			return nil, src.err
		}
		return nil, invalid("malformed JSON: trailing data after the payload")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// readErr remembers the first error of the underlying reader, so Decode
// can tell a broken or oversized body from a malformed payload.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && e.err == nil {
		e.err = err
	}
	return n, err
}

// MaxGroupKey bounds the group key's length. Alertmanager's keys (the
// route's matchers and the group's labels) are far shorter; the store
// indexes jobs by target and group key, in keys of at most 32 KiB.
const MaxGroupKey = 16 << 10

// Validate checks the fields the bridge relies on and fills fingerprints
// that a hand-written payload left out.
func (m *Message) Validate() error {
	if m.Version != Version {
		if m.Version == "" {
			return invalid("missing version: expected %q", Version)
		}
		return invalid("unsupported version %q: expected %q", m.Version, Version)
	}
	if strings.TrimSpace(m.GroupKey) == "" {
		return invalid("missing groupKey")
	}
	if len(m.GroupKey) > MaxGroupKey {
		return invalid("groupKey is %d bytes long, over the limit of %d", len(m.GroupKey), MaxGroupKey)
	}
	if m.Status != "" && m.Status != string(model.AlertFiring) && m.Status != string(model.AlertResolved) {
		return invalid("status %q: must be firing or resolved", m.Status)
	}
	if len(m.Alerts) == 0 {
		return invalid("alerts: the group has no alerts")
	}
	for i := range m.Alerts {
		a := &m.Alerts[i]
		switch a.Status {
		case string(model.AlertFiring), string(model.AlertResolved):
		case "":
			return invalid("alerts[%d].status: missing (firing or resolved)", i)
		default:
			return invalid("alerts[%d].status %q: must be firing or resolved", i, a.Status)
		}
		if len(a.Labels) == 0 {
			return invalid("alerts[%d].labels: an alert needs at least one label", i)
		}
		if a.Fingerprint == "" {
			a.Fingerprint = labelSet(a.Labels).Fingerprint().String()
		}
	}
	if m.Status == "" {
		m.Status = string(model.AlertResolved)
		if len(m.Alerts.Firing()) > 0 {
			m.Status = string(model.AlertFiring)
		}
	}
	return nil
}

func labelSet(kv template.KV) model.LabelSet {
	ls := make(model.LabelSet, len(kv))
	for k, v := range kv {
		ls[model.LabelName(k)] = model.LabelValue(v)
	}
	return ls
}

// DedupKey identifies a notification independently of which Alertmanager
// replica sent it and how often: receiver, group key, and each alert's
// fingerprint, status and start (plus end, once resolved). The
// externalURL, which differs between replicas, is left out.
func (m *Message) DedupKey() string {
	type part struct{ fp, status, starts, ends string }
	parts := make([]part, len(m.Alerts))
	for i, a := range m.Alerts {
		p := part{fp: a.Fingerprint, status: a.Status, starts: a.StartsAt.UTC().Format(time.RFC3339Nano)}
		if a.Status == string(model.AlertResolved) {
			p.ends = a.EndsAt.UTC().Format(time.RFC3339Nano)
		}
		parts[i] = p
	}
	sort.Slice(parts, func(i, j int) bool { return parts[i].fp < parts[j].fp })
	h := sha256.New()
	fmt.Fprintf(h, "%q\x00%q\x00%q\x00", m.Receiver, m.GroupKey, m.Status)
	for _, p := range parts {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", p.fp, p.status, p.starts, p.ends)
	}
	return hex.EncodeToString(h.Sum(nil))
}
