"""The bodies of the report's pages. Every value from a report or the CI goes through :func:`e`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from aqe_ci.model.history import TREND_METRICS
from aqe_ci.model.keys import SEVERITIES
from aqe_ci.model.report import Report, ReportRun
from aqe_ci.render.common import num
from aqe_ci.render.html.charts import CHART_TITLES, line_chart

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_HEX = re.compile(r"^[0-9a-fA-F]{4,64}$")


def e(value: Any, limit: int | None = None) -> str:
    """Untrusted text → escaped HTML text (control and bidi characters removed, long text cut)."""
    s = _CONTROL.sub("", "" if value is None else str(value))
    if limit is not None and len(s) > limit:
        s = s[:limit] + "…"
    return escape(s, quote=True)


def pct(v: Any) -> str:
    return "—" if v is None else f"{v:.2f}%"


def commit_cell(c: str | None) -> str:
    if not c:
        return "—"
    return f'<code title="{e(c)}">{e(c[:12])}</code>' if _HEX.match(c) else e(c, 40)


def safe_url(url: str | None) -> str | None:
    """An http(s) URL as an attribute value, else None (no javascript:, data:, file: links)."""
    if not url or not re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE):
        return None
    return e(url)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[int] = (),
           cls: str = "") -> str:
    """``rows`` hold ready HTML (escape before)."""
    th = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headers))
    body = "\n".join("<tr>" + "".join(f'<td class="{"num" if i in numeric else "wrap"}">{c}</td>'
                                      for i, c in enumerate(r)) + "</tr>" for r in rows)
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>\n<tr>{th}</tr>\n{body}\n</table>"


def tests_text(n: dict[str, Any] | None) -> str:
    if not n:
        return "—"
    bad = int(n.get("failed") or 0) + int(n.get("errors") or 0)
    text = f"{num(n.get('passed'))}/{num(n.get('tests_run'))} passed"
    return text + (f', <span class="bad">{bad} failed</span>' if bad else "")


def security_text(n: dict[str, Any] | None) -> str:
    if not n:
        return "—"
    bits = [f'<span class="sev-{s}">{n[s]} {s}</span>' for s in SEVERITIES if n.get(s)]
    return ", ".join(bits) if bits else '<span class="good">none</span>'


def _run_link(run: ReportRun, prefix: str = "runs/") -> str:
    return f'<a class="run" href="{e(prefix + run.key + ".html")}">{e(run.key)}</a>'


def runs_table(report: Report) -> str:
    rows = []
    for r in report.runs:
        cov = r.numbers.get("coverage")
        rows.append([e(r.created_at[:16].replace("T", " ")), _run_link(r), e(r.branch or "—", 80),
                     commit_cell(r.commit), e(r.pr) if r.pr is not None else "—",
                     pct(cov.get("line_rate")) if cov else "—", tests_text(r.numbers.get("test_results")),
                     security_text(r.numbers.get("security"))])
    return _table(["Created (UTC)", "Run", "Branch", "Commit", "PR", "Coverage", "Tests", "Security"], rows,
                  numeric=(5,), cls="runs")


def index_body(report: Report) -> str:
    latest = report.runs[0]
    cards = [f'<div class="card"><div class="muted">Latest run</div><div class="big">{_run_link(latest)}</div>'
             f'<div>{e(latest.branch or "—", 60)} · {commit_cell(latest.commit)}</div></div>']
    cov = next((r.numbers["coverage"] for r in report.runs if "coverage" in r.numbers), None)
    if cov:
        cards.append(f'<div class="card"><div class="muted">Line coverage</div><div class="big">'
                     f'{pct(cov.get("line_rate"))}</div></div>')
    tests = next((r.numbers["test_results"] for r in report.runs if "test_results" in r.numbers), None)
    if tests:
        cards.append(f'<div class="card"><div class="muted">Tests</div><div class="big">{tests_text(tests)}</div></div>')
    n_flaky = len(report.flaky.tests) if report.flaky else 0
    cards.append(f'<div class="card"><div class="muted">Flaky tests</div><div class="big">'
                 f'<a href="flaky.html">{n_flaky}</a></div></div>')
    charts = "\n".join(f"<figure><figcaption>{CHART_TITLES[t]}</figcaption>\n{line_chart(report.trends[t])}</figure>"
                       for t in ("coverage", "test_results", "security"))
    where = f"on {e(report.branch)}" if report.branch else "on all branches"
    return (f'<div class="cards">{"".join(cards)}</div>\n<h2>Trends</h2>\n'
            f'<p class="muted">The last {len(report.runs)} runs {where}, oldest left; a point opens its run.</p>\n'
            f'<div class="charts">\n{charts}\n</div>\n<h2>Runs</h2>\n{runs_table(report)}')


def _numbers(run: ReportRun) -> str:
    rows = []
    for t in ("coverage", "test_results", "security"):
        n = run.numbers.get(t)
        if not n:
            continue
        parts = run.parts.get(t, [])
        shown = ", ".join(f"{m} {num(n.get(m))}" for m in TREND_METRICS[t] if n.get(m) is not None)
        rows.append([e(t), e(shown), e(", ".join(parts), 300)])
    return _table(["Type", "Numbers", "Parts"], rows)


def run_body(run: ReportRun, previous: ReportRun | None) -> str:
    meta = [f"<b>Commit</b> {commit_cell(run.commit)}", f"<b>Branch</b> {e(run.branch or '—', 120)}",
            f"<b>Created</b> {e(run.created_at)}"]
    if run.pr is not None:
        meta.append(f"<b>PR/MR</b> {e(run.pr)}")
    if run.platform:
        meta.append(f"<b>Platform</b> {e(run.platform, 40)}")
    url = safe_url(run.run_url)
    if url:
        meta.append(f'<a href="{url}" rel="noopener noreferrer">CI run</a>')
    if previous is not None:
        meta.append(f'<a href="../compare.html#a={e(previous.key)}&amp;b={e(run.key)}">Compare with the previous run '
                    f"({e(previous.key)})</a>")
    out = [f'<p id="run-meta">{" · ".join(meta)}</p>', "<h2>Numbers</h2>", _numbers(run)]
    if "test_results" in run.numbers:
        out.append(f"<h2>Failing tests ({run.failures_total})</h2>")
        if run.failures:
            out.append(_table(["Test", "Status", "Message"], [[e(f.id, 300), e(f.status), e(f.message or "", 500)]
                                                               for f in run.failures]))
            if run.failures_total > len(run.failures):
                out.append(f'<p class="muted">… {run.failures_total - len(run.failures)} more not shown</p>')
        if run.retried:
            out.append(f"<h2>Flaky within this run ({len(run.retried)})</h2>")
            out.append(_table(["Test"], [[e(t, 300)] for t in run.retried]))
    if "coverage" in run.numbers:
        out.append(f"<h2>Coverage by file ({run.files_total}, lowest first)</h2>")
        out.append(_table(["File", "Lines", "Covered", "Line rate", "Branch rate"],
                          [[e(f.path, 300), num(f.lines_valid), num(f.lines_covered), pct(f.line_rate),
                            pct(f.branch_rate)] for f in run.files], numeric=(1, 2, 3, 4)))
        if run.files_total > len(run.files):
            out.append(f'<p class="muted">… {run.files_total - len(run.files)} more files not shown</p>')
    if "security" in run.numbers:
        out.append(f"<h2>Security findings ({run.findings_total})</h2>")
        if run.findings:
            out.append(_table(["Severity", "Tool", "Rule", "Title", "Location"],
                              [[f'<span class="sev-{f.severity}">{e(f.severity)}</span>', e(f.tool or "", 40),
                                e(f.rule_id or "", 120), e(f.title or "", 300), e(f.location or "", 300)]
                               for f in run.findings]))
    return "\n".join(out)


def flaky_body(report: Report) -> str:
    fr = report.flaky
    if fr is None:
        return '<p class="muted">Flaky detection was not run.</p>'
    where = f"the flip rate is measured on {e(fr.branch)}" if fr.branch else "no default branch given"
    head = (f'<p class="muted">{len(fr.tests)} flaky tests in {fr.runs_read} test documents of the last '
            f"{fr.last} runs; {where} (threshold {fr.threshold:.0%}, at least {fr.min_runs} runs).</p>")
    if not fr.tests:
        return head
    rows = []
    for t in fr.tests:
        ev = ", ".join(f'<a href="runs/{e(o.key)}.html">{e(o.key)}</a> ({e(o.status)})' for o in t.evidence[:8])
        rate = "—" if t.flip_rate is None else f"{t.flip_rate:.0%}"
        rows.append([e(t.id, 300), e(", ".join(t.reasons)), str(t.runs), str(t.failed), rate,
                     e(t.describe(), 300), ev])
    return head + "\n" + _table(["Test", "Why", "Runs", "Failed", "Flip rate", "Evidence", "Runs (newest first)"],
                                rows, numeric=(2, 3, 4), cls="flaky")


def compare_body() -> str:
    return ('<div class="picker"><label>A (before) <select id="run-a"></select></label>'
            '<button type="button" id="swap">⇄ swap</button>'
            '<label>B (after) <select id="run-b"></select></label></div>\n'
            '<div id="result"><p class="note">This view needs JavaScript (it runs offline, from this page).</p></div>')


def compare_data(report: Report) -> dict[str, Any]:
    """What the compare page's script reads: every run's numbers, failing tests, file rates and findings."""
    runs = []
    for r in report.runs:
        runs.append({"key": r.key, "created_at": r.created_at, "commit": r.commit, "branch": r.branch, "pr": r.pr,
                     "numbers": r.numbers,
                     "failing": [[f.id, f.status, (f.message or "")[:200]] for f in r.failures],
                     "failing_total": r.failures_total, "failing_kept": len(r.failures),
                     "files": {f.path: [f.line_rate, f.lines_valid, f.lines_covered] for f in r.files},
                     "files_total": r.files_total, "files_kept": len(r.files),
                     "findings": {f.fingerprint: [f.severity, f.title, f.location, f.rule_id] for f in r.findings},
                     "findings_total": r.findings_total, "findings_kept": len(r.findings)})
    return {"runs": runs, "metrics": {t: list(m) for t, m in TREND_METRICS.items()}}
