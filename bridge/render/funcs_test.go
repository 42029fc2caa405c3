package render

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Shanghai without relying on the host's zoneinfo
)

// funcData is the data the function tests render.
type funcData struct {
	T   time.Time
	S   string
	L   []string
	M   map[string]string
	Any any
}

// elsewhere makes the host zone something other than UTC for the test, so
// "nil Location means UTC" is checked whatever TZ the tests run under.
func elsewhere(t *testing.T) {
	saved := time.Local
	time.Local = time.FixedZone("Elsewhere", 3*3600+1800)
	t.Cleanup(func() { time.Local = saved })
}

func TestFuncs(t *testing.T) {
	elsewhere(t)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	// 2026-11-23 10:00:00 UTC is 18:00 in Shanghai (UTC+8, no DST).
	ts := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	data := funcData{
		T:   ts,
		S:   `<a href="x">Tom & "Jerry"</a>`,
		L:   []string{"web-1", "web-2"},
		M:   map[string]string{"k": "<v>&"},
		Any: make(chan int),
	}
	cases := []struct {
		name string
		loc  *time.Location
		text string
		want string
		// err, when set, is a substring of the expected Execute error.
		err string
		// data replaces the shared data when set.
		data any
	}{
		// json: compact, not HTML-escaped.
		{name: "json string keeps < > &", text: `{{ json .S }}`, want: `"<a href=\"x\">Tom & \"Jerry\"</a>"`},
		{name: "json map", text: `{{ json .M }}`, want: `{"k":"<v>&"}`},
		{name: "json list", text: `{{ json .L }}`, want: `["web-1","web-2"]`},
		{name: "json number", text: `{{ json 3 }}`, want: `3`},
		{name: "json nil", text: `{{ json .Missing }}`, want: `null`, data: map[string]any{}},
		{name: "json unencodable", text: `{{ json .Any }}`, err: "chan"},
		{name: "Alertmanager toJson does escape HTML", text: `{{ toJson .M }}`, want: `{"k":"\u003cv\u003e\u0026"}`},
		// jsonString: the content between the quotes.
		{name: "jsonString", text: `"{{ jsonString .S }}"`, want: `"<a href=\"x\">Tom & \"Jerry\"</a>"`},
		{name: "jsonString control chars", text: "{{ jsonString \"a\\nb\\t\\\\\" }}", want: `a\nb\t\\`},
		// time helpers in the configured Location.
		{name: "timeFormat Shanghai", loc: shanghai, text: `{{ timeFormat "2006-01-02 15:04:05 MST" .T }}`, want: "2026-11-23 18:00:00 CST"},
		{name: "timeFormat default UTC", text: `{{ timeFormat "2006-01-02 15:04:05 MST" .T }}`, want: "2026-11-23 10:00:00 UTC"},
		{name: "timeFormat fixed zone", loc: time.FixedZone("X", -5*3600), text: `{{ timeFormat "15:04 -0700" .T }}`, want: "05:00 -0500"},
		{name: "inTimezone Shanghai", loc: shanghai, text: `{{ (inTimezone .T).Format "2006-01-02T15:04:05-07:00" }}`, want: "2026-11-23T18:00:00+08:00"},
		{name: "inTimezone pipeline", loc: shanghai, text: `{{ .T | inTimezone | date "Jan 2 15:04" }}`, want: "Nov 23 18:00"},
		{name: "inTimezone default UTC", text: `{{ (inTimezone .T).Hour }}`, want: "10"},
		{name: "inTimezone keeps the instant", loc: shanghai, text: `{{ (inTimezone .T).Equal .T }}`, want: "true"},
		{name: "unixMilli", text: `{{ unixMilli .T }}`, want: "1795428000000"},
		{name: "unixMilli ignores Location", loc: shanghai, text: `{{ unixMilli .T }}`, want: "1795428000000"},
		// Alertmanager's default functions.
		{name: "toUpper", text: `{{ toUpper "firing 告警" }}`, want: "FIRING 告警"},
		{name: "toLower", text: `{{ "CRITICAL" | toLower }}`, want: "critical"},
		{name: "title", text: `{{ title "high cpu load" }}`, want: "High Cpu Load"},
		{name: "trimSpace", text: `[{{ trimSpace "  x \n" }}]`, want: "[x]"},
		{name: "join", text: `{{ join ", " .L }}`, want: "web-1, web-2"},
		{name: "join pipeline", text: `{{ .L | join "|" }}`, want: "web-1|web-2"},
		{name: "stringSlice", text: `{{ stringSlice "a" "b" "c" | join "-" }}`, want: "a-b-c"},
		{name: "match", text: `{{ match "^web-[0-9]+$" "web-12" }} {{ match "^db" "web" }}`, want: "true false"},
		{name: "reReplaceAll", text: `{{ reReplaceAll "([a-z]+)-(\\d+)" "$2:$1" "web-1 db-22" }}`, want: "1:web 22:db"},
		{name: "urlUnescape", text: `{{ urlUnescape "cpu+%3E+0.95" }}`, want: "cpu > 0.95"},
		{name: "humanizeDuration seconds", text: `{{ humanizeDuration 90 }}`, want: "1m 30s"},
		{name: "humanizeDuration days", text: `{{ humanizeDuration 90061 }}`, want: "1d 1h 1m 1s"},
		{name: "date", text: `{{ date "2006-01-02" .T }}`, want: "2026-11-23"},
		{name: "tz", text: `{{ (tz "Asia/Shanghai" .T).Format "15:04 MST" }}`, want: "18:00 CST"},
		{name: "tz unknown zone", text: `{{ tz "Nowhere/Nothing" .T }}`, err: "Nowhere/Nothing"},
		{name: "toDate", text: `{{ (toDate "2006-01-02" "2026-11-23").Day }}`, want: "23"},
		{name: "base64encode", text: `{{ base64encode "a?b>" }}`, want: "YT9iPg=="},
		{name: "base64decode", text: `{{ base64decode "YT9iPg==" }}`, want: "a?b>"},
		{name: "dict and list", text: `{{ (dict "a" 1 "b" "x").b }} {{ len (list 1 2 3) }}`, want: "x 3"},
		{name: "safeHtml", text: `{{ safeHtml "<b>" }}`, want: "<b>"},
		{name: "routeLabels placeholder", text: `[{{ routeLabels "x" }}]`, want: "[]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := New(Options{Location: c.loc, Inline: []Inline{{Name: "t", Text: c.text}}})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var d any = data
			if c.data != nil {
				d = c.data
			}
			got, err := s.ExecuteString("t", d)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Execute = %q, %v; want an error mentioning %q", got, err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestJSONStringContent(t *testing.T) {
	for _, h := range hostile {
		t.Run(h.name, func(t *testing.T) {
			got := JSONStringContent(h.value)
			var back string
			if err := json.Unmarshal([]byte(`"`+got+`"`), &back); err != nil {
				t.Fatalf("%q is not the content of a JSON string: %v", got, err)
			}
			if back != wantDecoded(h.value) {
				t.Errorf("decodes to %q, want %q", back, wantDecoded(h.value))
			}
			if strings.ContainsAny(got, "\n\r\x00") {
				t.Errorf("raw control characters left in %q", got)
			}
			for _, html := range []string{`\u003c`, `\u003e`, `\u0026`} {
				if strings.Contains(got, html) {
					t.Errorf("%q is HTML-escaped", got)
				}
			}
		})
	}
}

func TestChatEscapers(t *testing.T) {
	tests := []struct {
		name string
		f    func(string) string
		in   string
		want string
	}{
		{"mrkdwn", Mrkdwn, `<@U1> & <!channel> *b*`, `&lt;@U1&gt; &amp; &lt;!channel&gt; *b*`},
		{"markdown inline", Markdown, "a_b *c* `d` [e](f) |g| ~h~ <i> \\", "a\\_b \\*c\\* \\`d\\` \\[e\\](f) \\|g\\| \\~h\\~ \\<i\\> \\\\"},
		{"markdown line starts", Markdown, "# h\n- item\n  + x\nweb-1 99.5% a#b", "\\# h\n\\- item\n  \\+ x\nweb-1 99.5% a#b"},
		{"markdown CJK", Markdown, "磁盘告警 🔥", "磁盘告警 🔥"},
		{"markdownBasic", MarkdownBasic, "a_b *c* `d` [e] #f", "a\\_b \\*c\\* \\`d\\` [e] #f"},
	}
	for _, tc := range tests {
		if got := tc.f(tc.in); got != tc.want {
			t.Errorf("%s(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
}

func TestLarkMarkdown(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text 99.5%", "plain text 99.5%"},
		{"", ""},
		{"a*b_c~d`e[f]g$h|i\\j", "a&#42;b&#95;c&#126;d&#96;e&#91;f&#93;g&#36;h&#124;i&#92;j"},
		{`<at id="all"></at> & 'x'`, "&lt;at id=&#34;all&#34;&gt;&lt;/at&gt; &amp; &#39;x&#39;"},
		{"# h\n- item\r\n  + more\r= u\n12. n\n3) m\n4x", "&#35; h<br>&#45; item<br>  &#43; more<br>&#61; u<br>12&#46; n<br>3&#41; m<br>4x"},
		{"a # - 1. not at start", "a # - 1. not at start"},
		{":OK: :a_b: :x:y: ::", "&#58;OK: :a&#95;b: &#58;x:y: ::"},
		{"磁盘 🔥 {{ .X }}", "磁盘 🔥 {{ .X }}"},
		{"\x00", "\uFFFD"},
	} {
		if got := LarkMarkdown(tc.in); got != tc.want {
			t.Errorf("LarkMarkdown(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
