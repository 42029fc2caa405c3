package console_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// a11yCheck lists accessibility problems of the page: no lang, not
// exactly one h1, form fields without a label, buttons and links without
// a name, images without alt, and visible text below the WCAG AA contrast
// ratio (4.5:1, 3:1 for large text) against its nearest opaque background.
const a11yCheck = `(() => {
  const problems = [];
  if (!document.documentElement.lang) problems.push("html has no lang");
  if (document.querySelectorAll("h1").length !== 1) problems.push("want exactly one h1");
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    if (!((el.labels && el.labels.length) || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby"))) problems.push("no label: " + el.outerHTML.slice(0, 80));
  }
  for (const el of document.querySelectorAll("button, a")) {
    if (!el.textContent.trim() && !el.getAttribute("aria-label")) problems.push("no accessible name: " + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll("img")) if (!img.hasAttribute("alt")) problems.push("img without alt");
  const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return {r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1}; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
  const bg = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0.5) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  for (const el of document.querySelectorAll("body *")) {
    if (![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const st = getComputedStyle(el);
    if (st.display === "none" || st.visibility === "hidden" || el.closest("[hidden], .visually-hidden, .skip, option") || el.disabled) continue;
    const fg = parse(st.color); if (!fg) continue;
    const b = bg(el), l1 = lum(fg), l2 = lum(b), ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), big = size >= 24 || (size >= 18.66 && Number(st.fontWeight) >= 700);
    if (ratio < (big ? 3 : 4.5)) problems.push("contrast " + ratio.toFixed(2) + " for " + el.tagName + " " + JSON.stringify(el.textContent.trim().slice(0, 40)));
  }
  return [...new Set(problems)];
})()`

// TestConsolePages loads every page in light and dark mode: no console
// error, warning or failed load (the Content-Security-Policy would report
// any request outside the bridge), the rows the API lists, and the
// accessibility checks.
func TestConsolePages(t *testing.T) {
	f := newFixture(t)
	tb := newTab(t)
	alertIDs := f.ids(t, "/api/v1/alerts")
	if len(alertIDs) != 2 {
		t.Fatalf("alerts API lists %v, want the payload's 2", alertIDs)
	}
	var detail struct{ Deliveries []json.RawMessage }
	f.get(t, "/api/v1/alerts/"+alertIDs[0], &detail)
	pages := []struct {
		name, path string
		// table lists what api lists, by attr.
		table, attr, api string
		want             string
	}{
		{"alerts", "/alerts", "alerts", "data-id", "/api/v1/alerts", "HighCPU"},
		{"alert", "/alerts/" + alertIDs[0], "", "", "", "alertDefineId"},
		{"deliveries", "/deliveries?state=dead", "deliveries", "data-id", "/api/v1/deliveries?state=dead", "bad request: the receiver refuses this"},
		{"deliveries-delivered", "/deliveries?state=delivered", "deliveries", "data-id", "/api/v1/deliveries?state=delivered", "delivered"},
		{"targets", "/targets", "targets", "data-target", "/api/v1/targets", "answers 200"},
		{"playground", "/playground?target=ok", "", "", "", "SampleAlert"},
		{"status", "/status", "", "", "", "Pebble"},
	}
	for _, scheme := range []string{"light", "dark"} {
		for _, p := range pages {
			t.Run(scheme+"/"+p.name, func(t *testing.T) {
				tb.do(t, colorScheme(scheme), chromedp.Navigate(f.base+p.path), chromedp.WaitVisible(chromedp.CSS("main h1")))
				if p.name == "playground" {
					tb.do(t, chromedp.WaitVisible(chromedp.CSS(".message pre")))
				}
				text := eval[string](t, tb, `document.querySelector("main").innerText`)
				if !strings.Contains(text, p.want) {
					t.Errorf("the page does not show %q:\n%s", p.want, text)
				}
				if p.table != "" {
					if got, want := pageIDs(t, tb, p.table, p.attr), f.ids(t, p.api); !slices.Equal(got, want) {
						t.Errorf("the page lists %v; %s lists %v", got, p.api, want)
					}
				}
				if p.name == "alert" {
					if n := eval[int](t, tb, `document.querySelectorAll("#timeline li").length`); n != len(detail.Deliveries) {
						t.Errorf("the timeline shows %d deliveries; the API %d", n, len(detail.Deliveries))
					}
				}
				for _, problem := range eval[[]string](t, tb, a11yCheck) {
					t.Errorf("accessibility: %s", problem)
				}
				for _, problem := range tb.takeProblems() {
					t.Errorf("browser reported: %s", problem)
				}
				if scheme == "light" || p.name == "alerts" {
					name := p.name
					if scheme == "dark" {
						name += "-dark"
					}
					screenshot(t, tb, name)
				}
			})
		}
	}
}

// TestConsoleRetriesADeadLetter retries a dead letter from the deliveries
// page (its confirmation accepted) once the receiver is fixed.
func TestConsoleRetriesADeadLetter(t *testing.T) {
	f := newFixture(t)
	tb := newTab(t)
	dead := f.ids(t, "/api/v1/deliveries?state=dead")
	f.flakyOK.Store(true)
	retry := chromedp.CSS(`tr[data-id="` + dead[0] + `"] button`)
	tb.do(t, chromedp.Navigate(f.base+"/deliveries?state=dead"), chromedp.WaitVisible(retry), chromedp.Click(retry))
	f.waitFor(t, "the retried job to be delivered", func() bool {
		return slices.Contains(f.ids(t, "/api/v1/deliveries?state=delivered"), dead[0])
	})
	tb.do(t, chromedp.WaitVisible(chromedp.CSS("#empty")))
	for _, problem := range tb.takeProblems() {
		t.Errorf("browser reported: %s", problem)
	}
}

// TestConsolePlayground renders a configured target (headers redacted),
// a new Slack target with a notification that takes several messages,
// and an edited template with an error, shown with its line and column.
func TestConsolePlayground(t *testing.T) {
	f := newFixture(t)
	tb := newTab(t)
	tb.do(t, chromedp.Navigate(f.base+"/playground?target=ok"), chromedp.WaitVisible(chromedp.CSS(".message pre")))
	body := eval[string](t, tb, `document.querySelector(".message pre").textContent`)
	if !json.Valid([]byte(body)) || !strings.Contains(body, "SampleAlert") {
		t.Errorf("the body is not the sample's JSON: %s", body)
	}
	if headers := eval[string](t, tb, `document.querySelector(".message table").innerText`); !strings.Contains(headers, "<redacted>") || strings.Contains(headers, "HEADERTOKEN3") {
		t.Errorf("the X-Api-Key header is not redacted: %s", headers)
	}
	set := func(js string) {
		t.Helper()
		eval[bool](t, tb, js+`; document.getElementById("playground").dispatchEvent(new Event("change")); true`)
	}
	set(`document.getElementById("pg-target").value = ""; document.getElementById("pg-type").value = "slack"; document.getElementById("pg-sample").value = "many alerts"`)
	tb.do(t, chromedp.WaitVisible(chromedp.CSS(`article[aria-label="Message 2"]`)))
	if sizes := eval[string](t, tb, `document.querySelector(".message .sizes").textContent`); !strings.Contains(sizes, "of 40,000") {
		t.Errorf("the size against Slack's limit is not shown: %q", sizes)
	}
	set(`document.getElementById("pg-type").value = "webhook"; document.getElementById("pg-custom").checked = true; document.getElementById("pg-template").disabled = false; document.getElementById("pg-template").value = '{\n  "a": "{{ .Nope }}"\n}'`)
	tb.do(t, chromedp.WaitVisible(chromedp.CSS("#pg-error")))
	if msg := eval[string](t, tb, `document.getElementById("pg-error").textContent`); !strings.Contains(msg, "Line 2, column") || !strings.Contains(msg, "Nope") {
		t.Errorf("the template error does not name line 2 and the field: %q", msg)
	}
	screenshot(t, tb, "playground-error")
	for _, problem := range tb.takeProblems() {
		// The template error is answered 422, which Chromium logs.
		if !strings.Contains(problem, "status of 422") {
			t.Errorf("browser reported: %s", problem)
		}
	}
}

// TestConsoleClasses checks, over HTTP, that pages carry the
// Content-Security-Policy, that an edited template is refused on the
// read endpoint, and that a cross-site retry is refused.
func TestConsoleClasses(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.base + "/targets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	resp, err = http.Post(f.base+"/console/render", "application/json", strings.NewReader(`{"target":"ok","custom":true,"template":"{}"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("an edited template on the read endpoint: %s, want 403", resp.Status)
	}
	dead := f.ids(t, "/api/v1/deliveries?state=dead")
	req, _ := http.NewRequest(http.MethodPost, f.base+"/api/v1/deliveries/"+dead[0]+"/retry", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site retry: %s, want 403", resp.Status)
	}
}
