/* aqe-artifacts history report: compare any two runs. Reads the JSON data block of the page; builds
   every node with textContent (never innerHTML), so report text cannot become markup. */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("aqe-data").textContent);
  var runs = data.runs;
  var byKey = {};
  runs.forEach(function (r) { byKey[r.key] = r; });
  var selA = document.getElementById("run-a");
  var selB = document.getElementById("run-b");
  var out = document.getElementById("result");

  function el(tag, cls, text) {
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined && text !== null) { n.textContent = String(text); }
    return n;
  }
  function fmt(v, unit) {
    if (v === null || v === undefined) { return "—"; }
    if (typeof v === "number" && !Number.isInteger(v)) { v = v.toFixed(2); }
    return String(v) + (unit || "");
  }
  function delta(a, b) {
    if (typeof a !== "number" || typeof b !== "number") { return "—"; }
    var d = b - a;
    var s = Number.isInteger(a) && Number.isInteger(b) ? String(d) : d.toFixed(2);
    return d > 0 ? "+" + s : s;
  }
  function table(headers, rows, numeric) {
    var t = el("table");
    var tr = el("tr");
    headers.forEach(function (h, i) { tr.appendChild(el("th", numeric && numeric[i] ? "num" : "", h)); });
    t.appendChild(tr);
    rows.forEach(function (row) {
      var r = el("tr");
      row.forEach(function (c, i) { r.appendChild(el("td", numeric && numeric[i] ? "num" : "wrap", c)); });
      t.appendChild(r);
    });
    return t;
  }
  function section(title, headers, rows, numeric, note) {
    out.appendChild(el("h2", "", title + " (" + rows.length + ")"));
    if (note) { out.appendChild(el("p", "muted", note)); }
    if (rows.length) { out.appendChild(table(headers, rows, numeric)); }
  }
  function label(r) {
    return r.key + " · " + (r.branch || "—") + " · " + (r.commit || "").slice(0, 12) + " · " +
      r.created_at.slice(0, 16).replace("T", " ");
  }
  function fill(sel) {
    runs.forEach(function (r) {
      var o = el("option", "", label(r));
      o.value = r.key;
      sel.appendChild(o);
    });
  }
  function fromHash() {
    var q = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (kv) {
      var i = kv.indexOf("=");
      if (i > 0) { q[kv.slice(0, i)] = decodeURIComponent(kv.slice(i + 1)); }
    });
    return q;
  }
  function truncated(a, b, what) {
    return (a[what + "_total"] > a[what + "_kept"] || b[what + "_total"] > b[what + "_kept"]) ?
      "Only the first kept items of each run are compared." : "";
  }
  function numbers(a, b) {
    var rows = [];
    Object.keys(data.metrics).forEach(function (type) {
      var na = a.numbers[type], nb = b.numbers[type];
      if (!na && !nb) { return; }
      data.metrics[type].forEach(function (m) {
        var va = na ? na[m] : null, vb = nb ? nb[m] : null;
        if (va === null && vb === null) { return; }
        rows.push([type + " · " + m, fmt(va), fmt(vb), delta(va, vb)]);
      });
    });
    out.appendChild(el("h2", "", "Numbers"));
    out.appendChild(table(["Metric", "A", "B", "Change"], rows, [false, true, true, true]));
  }
  function missing(a, b, type, what) {
    var lacking = !a.numbers[type] ? "A" : (!b.numbers[type] ? "B" : null);
    if (!a.numbers[type] && !b.numbers[type]) { return true; }
    if (lacking) {
      out.appendChild(el("h2", "", what));
      out.appendChild(el("p", "note", "Run " + lacking + " has no " + type + " document."));
      return true;
    }
    return false;
  }
  function tests(a, b) {
    if (missing(a, b, "test_results", "Tests")) { return; }
    var fa = {}, fb = {};
    a.failing.forEach(function (f) { fa[f[0]] = f; });
    b.failing.forEach(function (f) { fb[f[0]] = f; });
    var note = truncated(a, b, "failing");
    section("New failures in B", ["Test", "Status", "Message"],
      b.failing.filter(function (f) { return !fa[f[0]]; }).map(function (f) { return [f[0], f[1], f[2] || ""]; }),
      null, note);
    section("Fixed in B", ["Test", "Status in A"],
      a.failing.filter(function (f) { return !fb[f[0]]; }).map(function (f) { return [f[0], f[1]]; }), null, note);
  }
  function coverage(a, b) {
    if (missing(a, b, "coverage", "Coverage by file")) { return; }
    var changed = [], added = [], removed = [];
    Object.keys(b.files).forEach(function (p) {
      var fb = b.files[p], fa = a.files[p];
      if (!fa) { added.push([p, fmt(fb[0], "%")]); return; }
      if (fa[0] !== fb[0]) { changed.push([p, fa[0], fb[0]]); }
    });
    Object.keys(a.files).forEach(function (p) { if (!b.files[p]) { removed.push([p, fmt(a.files[p][0], "%")]); } });
    changed.sort(function (x, y) { return (x[2] - x[1]) - (y[2] - y[1]); });
    var note = truncated(a, b, "files");
    section("Coverage by file: changed", ["File", "A", "B", "Change"], changed.map(function (c) {
      return [c[0], fmt(c[1], "%"), fmt(c[2], "%"), delta(c[1], c[2]) + " pp"];
    }), [false, true, true, true], note);
    section("Files added", ["File", "Coverage"], added, [false, true]);
    section("Files removed", ["File", "Coverage in A"], removed, [false, true]);
  }
  function security(a, b) {
    if (missing(a, b, "security", "Security findings")) { return; }
    var note = truncated(a, b, "findings");
    var row = function (f) { return [f[0], f[3] || "", f[1] || "", f[2] || ""]; };
    section("New security findings in B", ["Severity", "Rule", "Title", "Location"],
      Object.keys(b.findings).filter(function (k) { return !a.findings[k]; }).map(function (k) {
        return row(b.findings[k]);
      }), null, note);
    section("Fixed security findings", ["Severity", "Rule", "Title", "Location"],
      Object.keys(a.findings).filter(function (k) { return !b.findings[k]; }).map(function (k) {
        return row(a.findings[k]);
      }), null, note);
  }
  function render() {
    var a = byKey[selA.value], b = byKey[selB.value];
    while (out.firstChild) { out.removeChild(out.firstChild); }
    if (!a || !b) { out.appendChild(el("p", "note", "Pick two runs.")); return; }
    var head = el("p", "muted", "A = " + label(a) + "   →   B = " + label(b));
    out.appendChild(head);
    numbers(a, b);
    tests(a, b);
    coverage(a, b);
    security(a, b);
  }
  function update() {
    var hash = "#a=" + encodeURIComponent(selA.value) + "&b=" + encodeURIComponent(selB.value);
    if (location.hash !== hash) { location.hash = hash; } else { render(); }  /* hashchange renders */
  }
  function apply() {
    var q = fromHash();
    selA.value = byKey[q.a] ? q.a : (runs[1] || runs[0]).key;
    selB.value = byKey[q.b] ? q.b : runs[0].key;
    render();
  }
  fill(selA);
  fill(selB);
  selA.addEventListener("change", update);
  selB.addEventListener("change", update);
  document.getElementById("swap").addEventListener("click", function () {
    var t = selA.value; selA.value = selB.value; selB.value = t; update();
  });
  window.addEventListener("hashchange", apply);
  apply();
}());
