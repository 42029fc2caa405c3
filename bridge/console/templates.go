package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.uber.org/zap"
)

//go:embed assets
var assets embed.FS

// pages are the page templates; each defines "content" and is executed
// through layout.html.
var pages = []string{"alerts", "alert", "deliveries", "targets", "playground", "status", "error"}

type templates struct {
	byPage map[string]*template.Template
	// version is a hash of the static assets, appended to their URLs so a
	// new binary's assets are not taken from a browser's cache.
	version string
}

func mustParse() *templates {
	t := &templates{byPage: map[string]*template.Template{}}
	h := sha256.New()
	_ = fs.WalkDir(assets, "assets/static", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := assets.ReadFile(path)
			h.Write(b)
		}
		return nil
	})
	t.version = hex.EncodeToString(h.Sum(nil))[:12]
	for _, p := range pages {
		t.byPage[p] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+p+".html"))
	}
	return t
}

var funcs = template.FuncMap{
	"when": when,
	"ago":  ago,
	"join": strings.Join,
	"priority": func(p int) string {
		switch p {
		case 0:
			return "high"
		case 1:
			return "medium"
		case 2:
			return "low"
		}
		return strconv.Itoa(p)
	},
}

// when formats t (RFC 3339 text or time.Time) as a UTC date and time;
// empty for a zero or empty time.
func when(v any) string {
	var t time.Time
	switch x := v.(type) {
	case time.Time:
		t = x
	case string:
		if x == "" {
			return ""
		}
		p, err := time.Parse(time.RFC3339Nano, x)
		if err != nil {
			return x
		}
		t = p
	case int64: // Unix milliseconds (HertzBeat record times)
		if x == 0 {
			return ""
		}
		t = time.UnixMilli(x)
	}
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// ago says how long before now t was, roughly ("3m ago", "in 20s").
func ago(now time.Time, v any) string {
	s := when(v)
	if s == "" {
		return ""
	}
	t, err := time.Parse("2006-01-02 15:04:05Z", s)
	if err != nil {
		return ""
	}
	if d := now.Sub(t); d >= 0 {
		return short(d) + " ago"
	}
	return "in " + short(t.Sub(now))
}

func short(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		return strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		return strconv.Itoa(int(d.Hours())) + "h"
	}
	return strconv.Itoa(int(d.Hours()/24)) + "d"
}

// frame is what layout.html needs besides the page's own data.
type frame struct {
	Title   string
	Page    string // nav entry to mark current
	Base    string
	Version string
	Admin   bool
	Now     time.Time
	Data    any
}

// render writes page with data and status code. A template that fails
// (a bug) is logged and answered 500 without partial output.
func (c *Console) render(w http.ResponseWriter, code int, page, title string, data any) {
	var buf bytes.Buffer
	f := frame{Title: title, Page: page, Base: c.o.BasePath, Version: c.tmpl.version, Admin: c.o.Admin, Now: c.o.Now(), Data: data}
	if err := c.tmpl.byPage[page].Execute(&buf, f); err != nil {
		c.o.Log.Error("console page failed to render", zap.String("page", page), zap.Error(err))
		http.Error(w, "the page could not be rendered; see the bridge's log", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}

// errorData is the error page's content.
type errorData struct {
	Code    int
	Status  string
	Message string
	Hint    string
}

// fail answers a person with an HTML error page.
func (c *Console) fail(w http.ResponseWriter, code int, msg, hint string) {
	c.render(w, code, "error", http.StatusText(code), errorData{Code: code, Status: http.StatusText(code), Message: msg, Hint: hint})
}

// refuse is server.Route.Refuse for pages: the guard's refusal as a page.
func (c *Console) refuse(w http.ResponseWriter, _ *http.Request, code int, msg string) {
	hint := ""
	if code == http.StatusUnauthorized {
		hint = "The console takes the api credential. Browsers present a user of api.basic_auth_users when asked; " +
			"a bearer token (api.bearer_token) can only come from a proxy that adds the Authorization header. See docs/console.md."
	}
	c.fail(w, code, msg, hint)
}

// static serves the embedded CSS and JavaScript.
func (c *Console) static() http.Handler {
	sub, _ := fs.Sub(assets, "assets/static")
	files := http.FileServerFS(sub)
	return http.StripPrefix("/static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("v") == c.tmpl.version {
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		}
		files.ServeHTTP(w, r)
	}))
}
