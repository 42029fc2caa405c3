// alertbridge console: confirmation buttons that call the admin API, and
// the template playground. No dependencies, no requests outside the bridge.
"use strict";
(function () {
  var base = document.body.getAttribute("data-base") || "";

  function flash(text, bad) {
    var f = document.getElementById("flash");
    if (!f) return;
    f.textContent = text;
    f.className = bad ? "error" : "";
  }

  function readAnswer(resp) {
    return resp.text().then(function (t) {
      var body = null;
      try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
      return { ok: resp.ok, status: resp.status, body: body, text: t };
    });
  }

  // Buttons with data-url, data-method and data-confirm call the API after
  // a confirmation. Same-origin requests without a body: the bridge's
  // cross-origin protection refuses the same request from another site.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest("button[data-url]");
    if (!b || !b.getAttribute("data-url")) return;
    ev.preventDefault();
    if (!window.confirm(b.getAttribute("data-confirm"))) return;
    b.disabled = true;
    fetch(b.getAttribute("data-url"), { method: b.getAttribute("data-method"), credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(readAnswer)
      .then(function (a) {
        if (!a.ok) {
          b.disabled = false;
          flash("Refused (" + a.status + "): " + ((a.body && a.body.error) || a.text), true);
          return;
        }
        if (a.body && a.body.delivery) {
          flash("Queued as delivery " + a.body.delivery + ".");
        } else {
          flash("Done.");
        }
        var row = b.closest("tr[data-id]");
        if (row) {
          row.classList.add("done");
          setTimeout(function () { window.location.reload(); }, 400);
        } else {
          b.disabled = false;
        }
      })
      .catch(function (e) { b.disabled = false; flash("Request failed: " + e, true); });
  });

  var form = document.getElementById("playground");
  if (!form) return;
  var $ = function (id) { return document.getElementById(id); };
  var target = $("pg-target"), type = $("pg-type"), dialect = $("pg-dialect"), custom = $("pg-custom"),
    tmpl = $("pg-template"), sample = $("pg-sample"), payload = $("pg-payload"), errBox = $("pg-error"),
    out = $("pg-messages"), snippet = $("pg-snippet"), send = $("pg-send");
  var timer = null, seq = 0;

  function syncForm() {
    var opt = target.options[target.selectedIndex];
    var chosen = target.value !== "";
    if (chosen) {
      type.value = opt.getAttribute("data-type");
      dialect.value = opt.getAttribute("data-dialect") || "alertmanager";
    }
    type.disabled = chosen;
    dialect.disabled = chosen;
    tmpl.disabled = !custom.checked;
    payload.disabled = sample.value !== "";
    if (send) {
      send.hidden = !chosen;
      send.setAttribute("data-url", chosen ? base + "/api/v1/targets/" + encodeURIComponent(target.value) + "/test" : "");
      send.setAttribute("data-confirm", "Send the built-in sample notification to " + target.value + " with its configured template (not the edited one)? It is delivered to the real channel.");
    }
  }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function showError(a) {
    var msg = (a.body && a.body.error) || a.text || ("HTTP " + a.status);
    if (a.body && a.body.line) {
      msg = "Line " + a.body.line + (a.body.column ? ", column " + a.body.column : "") + ": " + msg;
      var lines = tmpl.value.split("\n");
      if (a.body.line <= lines.length && custom.checked) {
        msg += "\n  " + lines[a.body.line - 1];
        if (a.body.column) msg += "\n  " + " ".repeat(Math.max(0, a.body.column - 1)) + "^";
      }
    }
    errBox.textContent = msg;
    errBox.hidden = false;
    out.textContent = "";
    out.appendChild(el("p", "Nothing would be sent: fix the error above.", "muted"));
  }

  function showResult(data) {
    errBox.hidden = true;
    out.textContent = "";
    var msgs = data.messages || [];
    msgs.forEach(function (m, i) {
      var box = el("article", undefined, "message");
      box.setAttribute("aria-label", "Message " + (i + 1));
      var h = el("h3", "Message " + (i + 1) + " of " + msgs.length + " · " + m.method + " " + m.url);
      box.appendChild(h);
      var sizes = el("p", "", "sizes");
      sizes.style.padding = "0 12px";
      (m.sizes || []).forEach(function (s, j) {
        var t = s.what + ": " + s.size.toLocaleString() + " " + s.unit + (s.limit ? " of " + s.limit.toLocaleString() : " (no limit)");
        var span = el("span", (j ? " · " : "") + t, s.limit && s.size > s.limit ? "over" : "");
        sizes.appendChild(span);
      });
      box.appendChild(sizes);
      if (m.headers && m.headers.length) {
        var tbl = el("table");
        var cap = el("caption", "Headers", "visually-hidden");
        tbl.appendChild(cap);
        var tb = el("tbody");
        m.headers.forEach(function (hd) {
          var tr = el("tr");
          var th = el("th", hd.name);
          th.setAttribute("scope", "row");
          tr.appendChild(th);
          tr.appendChild(el("td", hd.value, "mono"));
          tb.appendChild(tr);
        });
        tbl.appendChild(tb);
        box.appendChild(tbl);
      }
      var pre = el("pre", m.body, "body");
      pre.setAttribute("tabindex", "0");
      box.appendChild(pre);
      out.appendChild(box);
    });
  }

  function render() {
    syncForm();
    var req = {
      target: target.value, type: type.value, dialect: dialect.value,
      custom: custom.checked, template: custom.checked ? tmpl.value : "",
      sample: sample.value, payload: sample.value === "" ? payload.value : ""
    };
    var mine = ++seq;
    fetch(base + (req.custom ? "/console/render-custom" : "/console/render"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json" },
      body: JSON.stringify(req)
    }).then(readAnswer).then(function (a) {
      if (mine !== seq) return;
      form.setAttribute("data-rendered", String(mine));
      if (a.body && a.body.snippet) snippet.value = a.body.snippet;
      if (a.ok && a.body && a.body.data) showResult(a.body.data); else showError(a);
    }).catch(function (e) {
      if (mine === seq) { errBox.textContent = "Request failed: " + e; errBox.hidden = false; }
    });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(render, 350);
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); render(); });
  form.addEventListener("change", render);
  tmpl.addEventListener("input", later);
  payload.addEventListener("input", later);
  $("pg-copy").addEventListener("click", function () {
    snippet.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(snippet.value).then(function () { flash("Copied."); }, function () { flash("Select the text and copy it."); });
    } else {
      flash(document.execCommand && document.execCommand("copy") ? "Copied." : "Select the text and copy it.");
    }
  });
  render();
})();
