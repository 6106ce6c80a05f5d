"""The plain-text rendering for CI logs and terminals: numbers, baseline, then the changes as tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aqe_ci.model.comparison import Comparison, GateResult, TestsComparison
from aqe_ci.model.history import ComparisonTrend
from aqe_ci.model.keys import SEVERITIES
from aqe_ci.model.patch import PatchCoverage, PatchFile
from aqe_ci.render.common import age, num, pct, pp, signed, test_label
from aqe_ci.render.escape import term_text
from aqe_ci.render.text import table

ROWS = 20


def _clip(text: Any, n: int = 100) -> str:
    s = " ".join(term_text(text or "").split())  # line breaks shown as ⏎, as in markdown
    return s if len(s) <= n else s[: n - 1] + "…"


def _block(title: str, headers: Sequence[str], rows: list[list[Any]], limit: int = ROWS) -> list[str]:
    if not rows:
        return []
    out = ["", f"{title} ({len(rows)})", table(headers, rows[:limit])]
    if len(rows) > limit:
        out.append(f"… {len(rows) - limit} more (use --format json for all)")
    return out


def render_table(comparison: Comparison, gates: Sequence[GateResult] | None = None) -> str:
    """The comparison as text for CI logs: runs, numbers, notes, then the changes (``gates``: the
    comparison's own by default)."""
    c = comparison
    gates = gates if gates is not None else c.gates
    lines = _runs(c)
    rows = _numbers(c)
    if rows:
        lines += ["", table(["METRIC", "BASELINE", "HEAD", "CHANGE"], rows)]
    for section in (c.coverage, c.tests, c.security):
        if section is not None and section.note:
            lines.append(f"note: {term_text(section.note)}")
    patch = c.coverage.patch if c.coverage else None
    if patch is not None and patch.note:
        lines.append(f"note: patch coverage: {term_text(patch.note)}")
    trend = _trend_line(c.trend)
    if trend:
        lines.append(trend)
    if c.tests:
        lines += _test_blocks(c.tests)
    if patch is not None:
        lines += _patch_blocks(patch)
    if c.coverage and c.coverage.files:
        f = c.coverage.files
        lines += _block("coverage by file", ["FILE", "BASELINE", "HEAD", "CHANGE", "NEWLY UNCOVERED"],
                        [[_clip(r["file"], 80), pct(r["line_rate"]["before"]), pct(r["line_rate"]["after"]),
                          pp(r["line_rate"]["change"]), r.get("newly_uncovered_count", "")] for r in f.changed])
        lines += _block("files added", ["FILE", "COVERAGE"], [[_clip(r["file"], 80), pct(r["line_rate"]["after"])]
                                                              for r in f.added])
        lines += _block("files removed", ["FILE"], [[_clip(r["file"], 80)] for r in f.removed])
    if c.security:
        for label, items in (("new findings", c.security.new), ("fixed findings", c.security.fixed)):
            if items is not None:
                lines += _block(label, ["SEVERITY", "RULE", "TITLE", "LOCATION"],
                                [[i["severity"], _clip(i.get("rule_id"), 40), _clip(i.get("title"), 60),
                                  _clip(i.get("path") or i.get("package"), 60)] for i in items])
    if gates:
        lines += ["", table(["GATE", "RESULT", "DETAIL"], [[g.gate, g.status, g.message] for g in gates])]
    return "\n".join(lines)


def _runs(c: Comparison) -> list[str]:
    h, b = c.head, c.baseline
    t_ = term_text  # stored values (branches, reasons) are untrusted text: one inert line each
    lines = [f"head:     {h.key}  commit {t_((h.commit or '—')[:12])}  branch {t_(h.branch or '—')}"]
    if b.run is not None:
        r = b.run
        lines.append(f"baseline: {r.key}  commit {t_((r.commit or '—')[:12])}  "
                     f"branch {t_(r.branch or '—')}  ({age(b.age_seconds(h))})")
        lines.append(f"          {b.method}: {t_(b.reason)}")
        if b.base_tip:
            t = b.base_tip
            lines.append(f"          note: {t_(t.note)}; newest run there: {t.key} "
                         f"({t_((t.commit or '')[:12])})")
    else:
        lines.append(f"baseline: none — {t_(b.reason)}")
    return lines


def _numbers(c: Comparison) -> list[list[Any]]:
    rows: list[list[Any]] = []
    cov, tests, sec = c.coverage, c.tests, c.security
    if cov:
        for label, m in (("line coverage", cov.line_rate), ("branch coverage", cov.branch_rate)):
            if m.before is not None or m.after is not None:
                rows.append([label, pct(m.before), pct(m.after), pp(m.change)])
        p = cov.patch
        if p is not None:
            rows.append(["patch coverage", "—", f"{pct(p.rate)} ({p.covered}/{p.executable})" if p.rate is not None
                         else "n/a", "—"])
    if tests:
        rows.append(["tests", num(tests.total.before), num(tests.total.after), signed(tests.total.change)])
        for k in tests.COUNTS:
            m = tests.count(k)
            rows.append([f"  {k}", num(m.before), num(m.after), signed(m.change)])
        d = tests.duration
        rows.append(["  duration (s)", num(d.before), num(d.after), signed(d.change)])
    if sec:
        rows.append(["security findings", num(sec.total.before), num(sec.total.after), signed(sec.total.change)])
        for s in SEVERITIES:
            m = sec.by_severity[s]
            rows.append([f"  {s}", num(m.before), num(m.after), signed(m.change)])
    return rows


def _test_blocks(tests: TestsComparison) -> list[str]:
    lines = _block("new failures", ["TEST", "STATUS", "MESSAGE"],
                   [[_clip(test_label(t), 80), t["status"] + (" (known flaky)" if t.get("known_flaky") else ""),
                     _clip(t.get("message"))] for t in tests.new_failures or ()])
    lines += _block("flaky", ["TEST", "WHY"], [[_clip(test_label(t), 80), _clip(t.get("reason"))]
                                              for t in tests.flaky_tests or ()])
    lines += _block("fixed", ["TEST"], [[_clip(test_label(t), 100)] for t in tests.fixed or ()])
    lines += _block("newly skipped", ["TEST"], [[_clip(test_label(t), 100)] for t in tests.newly_skipped or ()])
    lines += _block("added tests", ["TEST", "STATUS"], [[_clip(test_label(t), 100), t["status"]]
                                                       for t in tests.added or ()])
    lines += _block("removed tests", ["TEST", "STATUS"], [[_clip(test_label(t), 100), t["status"]]
                                                         for t in tests.removed or ()])
    return lines


def _patch_blocks(patch: PatchCoverage) -> list[str]:
    def shown(f: PatchFile) -> str:
        more = len(f.uncovered) - 30
        return _clip(", ".join(map(str, f.uncovered[:30])) + (f" (+{more})" if more > 0 else ""), 100)

    return (_block("patch coverage: changed lines not covered",
                   ["FILE", "CHANGED", "EXECUTABLE", "COVERED", "PATCH", "UNCOVERED LINES"],
                   [[_clip(f.file, 80), f.changed_lines, f.executable, f.covered, pct(f.rate), shown(f)]
                    for f in patch.files if f.missed])
            + _block("changed files not measured (not in the coverage report)", ["FILE", "STATUS", "CHANGED", "WHY"],
                     [[_clip(f.file, 80), f.status, f.changed_lines, _clip(f.reason, 60)] for f in patch.not_measured]))


def _trend_line(t: ComparisonTrend | None) -> str | None:
    if t is None:
        return None
    from aqe_ci.render.trend import sparkline

    values = [p.value for p in t.points]
    if not values:
        return None
    return (f"trend: {t.label} on {term_text(t.branch, limit=60)}, last {len(values)} runs: {sparkline(values)}  "
            f"{num(values[0])} → {num(values[-1])}; this run {num(t.head_value)}")
