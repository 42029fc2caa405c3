package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/alertbridge/alertbridge/bridge/alert"
	"github.com/alertbridge/alertbridge/bridge/notify"
	"github.com/alertbridge/alertbridge/bridge/notify/webhook"
	"github.com/alertbridge/alertbridge/bridge/render"
)

var update = flag.Bool("update", false, "rewrite golden files")

// The fixed clocks of every fixture: when the notification is received and
// when the (fake) recorder first saw each alert.
var (
	fixedNow       = time.Date(2026, 11, 23, 10, 5, 0, 0, time.UTC)
	fixedFirstSeen = time.Date(2026, 11, 23, 10, 0, 30, 0, time.UTC)
)

// fakeRecorder is a deterministic alert.Recorder: every alert has been seen
// once, first at fixedFirstSeen.
type fakeRecorder struct{}

func (fakeRecorder) Touch(ids []int64, _ time.Time) ([]alert.Seen, error) {
	seen := make([]alert.Seen, len(ids))
	for i := range seen {
		seen[i] = alert.Seen{Times: 1, FirstSeen: fixedFirstSeen}
	}
	return seen, nil
}

// buildGroup decodes and validates payload and builds its group at fixedNow.
func buildGroup(t *testing.T, payload []byte) *alert.Group {
	t.Helper()
	m, err := alert.Decode(bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	b := alert.Builder{Location: time.UTC, Recorder: fakeRecorder{}}
	g, err := b.Build(m, fixedNow)
	if err != nil {
		t.Fatalf("building group: %v", err)
	}
	return g
}

// amAlert and amPayload are the Alertmanager webhook JSON shape, used to
// generate fixtures that go through alert.Decode like real payloads.
type amAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint,omitempty"`
}

type amPayload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   uint64            `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []amAlert         `json:"alerts"`
}

const zeroTime = "0001-01-01T00:00:00Z"

// newPayload fills the group-level fields the way Alertmanager does.
func newPayload(groupBy string, alerts []amAlert) []byte {
	p := amPayload{
		Version:           "4",
		Receiver:          "alertbridge",
		ExternalURL:       "http://alertmanager.example:9093",
		Status:            "resolved",
		Alerts:            alerts,
		GroupLabels:       map[string]string{groupBy: alerts[0].Labels[groupBy]},
		CommonLabels:      common(alerts, func(a amAlert) map[string]string { return a.Labels }),
		CommonAnnotations: common(alerts, func(a amAlert) map[string]string { return a.Annotations }),
	}
	for _, a := range alerts {
		if a.Status == "firing" {
			p.Status = "firing"
		}
	}
	gk, _ := json.Marshal(p.GroupLabels)
	p.GroupKey = "{}:" + string(gk)
	b, err := json.Marshal(p)
	if err != nil {
		panic(err)
	}
	return b
}

func common(alerts []amAlert, kv func(amAlert) map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range kv(alerts[0]) {
		out[k] = v
	}
	for _, a := range alerts[1:] {
		for k, v := range out {
			if kv(a)[k] != v {
				delete(out, k)
			}
		}
	}
	return out
}

// mixedPayload has firing and resolved alerts, every severity class, each
// content source and the edge cases of the record view (no job label, zero
// startsAt, resolved without endsAt, no generator URL).
func mixedPayload() []byte {
	gen := "http://prometheus.example:9090/graph?g0.expr=disk_used_ratio+%3E+0.9&g0.tab=1"
	return newPayload("alertname", []amAlert{
		{
			Status:       "firing",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-1:9100", "severity": "warning"},
			Annotations:  map[string]string{"description": "Disk /var on db-1 at 91%"},
			StartsAt:     "2026-11-23T09:40:00Z",
			EndsAt:       zeroTime,
			GeneratorURL: gen,
		},
		{
			Status:       "resolved",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-2:9100", "severity": "critical"},
			Annotations:  map[string]string{"summary": "   ", "message": "disk freed on db-2"},
			StartsAt:     "2026-11-23T08:00:00Z",
			EndsAt:       "2026-11-23T10:03:00Z",
			GeneratorURL: gen,
		},
		{
			Status:      "firing",
			Labels:      map[string]string{"alertname": "DiskFull", "instance": "db-3:9100", "severity": "Error"},
			Annotations: map[string]string{},
			StartsAt:    zeroTime,
			EndsAt:      zeroTime,
			Fingerprint: "00000000000000ff",
		},
		{
			Status:       "resolved",
			Labels:       map[string]string{"alertname": "DiskFull", "job": "node", "instance": "db-4:9100", "severity": "unknown-sev"},
			Annotations:  map[string]string{"summary": "db-4 recovered"},
			StartsAt:     "2026-11-23T09:00:00Z",
			EndsAt:       zeroTime,
			GeneratorURL: gen,
		},
	})
}

// Hostile values: JSON metacharacters, template syntax, CJK, emoji, control
// characters, HTML-significant characters and JavaScript line separators.
const (
	hostileName    = "Disk \"full\" \\ {{ .Status }} 告警 🔥\nline2\ttab\x01\x1b[31m\x7f </script>&<b> \u2028end"
	hostileSummary = "He said \"hi\" \\o/ {{ template \"x\" . }} {{ .CommonLabels }} 😀 中文\r\nnext\x00nul"
)

func hostilePayload() []byte {
	labels := func(instance string) map[string]string {
		return map[string]string{
			"alertname":         hostileName,
			"job":               `a"b\c`,
			"instance":          instance,
			"severity":          "critical\n",
			"service.name/🔥\"q": "utf-8 label name",
			"empty":             "",
		}
	}
	return newPayload("alertname", []amAlert{
		{
			Status:       "firing",
			Labels:       labels("{{ template \"x\" }}:9100"),
			Annotations:  map[string]string{"summary": hostileSummary, "description": `\"\n literal backslashes \\ \u0041`},
			StartsAt:     "2026-11-23T10:00:00Z",
			EndsAt:       zeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=%22%5C%7B%7B&g0.tab=1",
		},
		{
			Status:       "resolved",
			Labels:       labels("\u200b\ufeff:9100"),
			Annotations:  map[string]string{"summary": "second \x1f \u0085 \U0001F4A9"},
			StartsAt:     "2026-11-23T09:00:00Z",
			EndsAt:       "2026-11-23T10:04:59Z",
			GeneratorURL: "not a url \x7f",
		},
	})
}

// manyPayload has 100 alerts generated deterministically.
func manyPayload() []byte {
	severities := []string{"critical", "warning", "info", "error", "page"}
	start := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	alerts := make([]amAlert, 100)
	for i := range alerts {
		a := amAlert{
			Status: "firing",
			Labels: map[string]string{
				"alertname": "HighLoad",
				"job":       "node",
				"instance":  fmt.Sprintf("host-%03d:9100", i),
				"severity":  severities[i%len(severities)],
				"rack":      fmt.Sprintf("r%d", i%4),
			},
			Annotations:  map[string]string{"summary": fmt.Sprintf("load on host-%03d is %d.%02d", i, 4+i%7, (i*37)%100)},
			StartsAt:     start.Add(time.Duration(i) * time.Minute).Format(time.RFC3339),
			EndsAt:       zeroTime,
			GeneratorURL: "http://prometheus.example:9090/graph?g0.expr=node_load1+%3E+4&g0.tab=1",
		}
		if i%7 == 0 {
			a.Status = "resolved"
			a.EndsAt = start.Add(time.Duration(i)*time.Minute + 30*time.Minute).Format(time.RFC3339)
		}
		if i%2 == 0 {
			a.Annotations["description"] = fmt.Sprintf("alert %d of 100", i+1)
		}
		alerts[i] = a
	}
	return newPayload("alertname", alerts)
}

func readExample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "examples", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtures returns every named fixture payload.
func fixtures(t *testing.T) map[string][]byte {
	return map[string][]byte{
		"firing":   readExample(t, "payload-firing.json"),
		"resolved": readExample(t, "payload-resolved.json"),
		"mixed":    mixedPayload(),
		"hostile":  hostilePayload(),
		"many":     manyPayload(),
	}
}

func sortedNames(m map[string][]byte) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// newSet builds a template set with the presets and the given inline
// templates.
func newSet(t *testing.T, inline ...render.Inline) *render.Set {
	t.Helper()
	set, err := render.New(render.Options{Inline: inline})
	if err != nil {
		t.Fatalf("render.New: %v", err)
	}
	return set
}

func newNotifier(t *testing.T, s notify.Settings) *webhook.Notifier {
	t.Helper()
	if s.Now == nil {
		s.Now = func() time.Time { return fixedNow }
	}
	if s.URL == "" {
		s.URL = "http://127.0.0.1:1/hook/TOKEN"
	}
	n, err := webhook.New(s)
	if err != nil {
		t.Fatalf("webhook.New: %v", err)
	}
	return n
}

// buildOne builds g and returns the single request's body.
func buildOne(t *testing.T, n *webhook.Notifier, g *alert.Group) []byte {
	t.Helper()
	reqs, err := n.Build(context.Background(), g)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if len(reqs) != 1 {
		t.Fatalf("Build returned %d requests, want 1", len(reqs))
	}
	return reqs[0].Body
}

func TestGoldenDefaultBody(t *testing.T) {
	fx := fixtures(t)
	for _, name := range sortedNames(fx) {
		t.Run(name, func(t *testing.T) {
			g := buildGroup(t, fx[name])
			n := newNotifier(t, notify.Settings{Name: "golden", Templates: newSet(t)})
			body := buildOne(t, n, g)
			if !json.Valid(body) {
				t.Fatalf("body is not valid JSON: %s", body)
			}
			// Independently of the golden bytes: the body is exactly the
			// group's records, losslessly (hostile values included).
			var got []alert.Record
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body is not a record array: %v", err)
			}
			if !reflect.DeepEqual(got, g.Records) {
				t.Errorf("decoded body differs from the group's records:\n got %+v\nwant %+v", got, g.Records)
			}
			golden(t, name, body)
		})
	}
}

const customText = `{"text": "{{ .CommonLabels.alertname }}: {{ (index .Alerts 0).Annotations.summary }}"}`

func TestGoldenCustomInlineHostile(t *testing.T) {
	set := newSet(t, render.Inline{Name: "custom", Text: customText, JSON: true})
	n := newNotifier(t, notify.Settings{Name: "custom", Templates: set, BodyTemplate: "custom"})
	g := buildGroup(t, hostilePayload())
	body := buildOne(t, n, g)
	if !json.Valid(body) {
		t.Fatalf("body is not valid JSON: %s", body)
	}
	var got struct{ Text string }
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if want := hostileName + ": " + hostileSummary; got.Text != want {
		t.Errorf("text does not round-trip:\n got %q\nwant %q", got.Text, want)
	}
	golden(t, "custom-hostile", body)
}

// golden compares got with testdata/<name>.golden.json byte for byte. With
// -update it rewrites the file instead.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file: %v\nto create it, run: go test ./bridge/notify/webhook -update", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s does not match the rendered body:\n%s\nif the change is intended, run: go test ./bridge/notify/webhook -update", path, firstDiff(want, got))
	}
}

// firstDiff describes the first difference between want and got: the line
// with two lines of context, and for long lines (one-line JSON) a window
// around the first differing byte.
func firstDiff(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	i := 0
	for i < len(wl) && i < len(gl) && wl[i] == gl[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (want %d lines, got %d lines)\n", i+1, len(wl), len(gl))
	const ctx = 2
	for j := max(0, i-ctx); j < i; j++ {
		fmt.Fprintf(&b, "  %4d   %s\n", j+1, clip(wl[j], 0))
	}
	w, g := "<end of file>", "<end of file>"
	col := 0
	if i < len(wl) && i < len(gl) {
		for col < len(wl[i]) && col < len(gl[i]) && wl[i][col] == gl[i][col] {
			col++
		}
	}
	if i < len(wl) {
		w = clip(wl[i], col)
	}
	if i < len(gl) {
		g = clip(gl[i], col)
	}
	fmt.Fprintf(&b, "- %4d   %s\n+ %4d   %s\n", i+1, w, i+1, g)
	if i < len(wl) && i < len(gl) {
		fmt.Fprintf(&b, "         (first differing byte at column %d)\n", col+1)
	}
	for j := i + 1; j < min(len(gl), i+1+ctx); j++ {
		fmt.Fprintf(&b, "+ %4d   %s\n", j+1, clip(gl[j], 0))
	}
	return b.String()
}

// clip shows a line whole when short, else a window around col, with
// invisible characters escaped.
func clip(line string, col int) string {
	const width = 60
	from, to := 0, len(line)
	if len(line) > 2*width {
		from, to = max(0, col-width), min(len(line), col+width)
	}
	s := visible(line[from:to])
	if from > 0 {
		s = "…" + s
	}
	if to < len(line) {
		s += "…"
	}
	return s
}

// visible escapes what a terminal would not show (control characters,
// invalid UTF-8) and leaves the rest, JSON quotes included, readable.
func visible(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == ' ' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

func TestFirstDiffIsReadable(t *testing.T) {
	long := strings.Repeat(`{"id":1,"target":"x"},`, 50)
	want := []byte("a\nb\n" + long + "\nz")
	got := []byte("a\nb\n" + strings.Replace(long, `"id":1,"target":"x"},{"id":1`, `"id":1,"target":"x"},{"id":2`, 1) + "\nz")
	d := firstDiff(want, got)
	for _, s := range []string{"line 3", `"id":2`, `"id":1`, "column 29", "…"} {
		if !strings.Contains(d, s) {
			t.Errorf("diff does not mention %q:\n%s", s, d)
		}
	}
	if len(d) > 1000 {
		t.Errorf("diff of a long line is not clipped (%d bytes):\n%s", len(d), d)
	}
	d = firstDiff([]byte("a\nb"), []byte("a\nb\nc"))
	if !strings.Contains(d, "<end of file>") || !strings.Contains(d, "+    3   c") {
		t.Errorf("diff of an extra line:\n%s", d)
	}
}
