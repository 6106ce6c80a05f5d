"""The plain-text rendering for CI logs and terminals: numbers, baseline, then the changes as tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aqe_ci.model.keys import SEVERITIES
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


def _patch_blocks(patch: Mapping[str, Any]) -> list[str]:
    def shown(f: Mapping[str, Any]) -> str:
        more = f["uncovered_count"] - 30
        return _clip(", ".join(map(str, f["uncovered_lines"][:30])) + (f" (+{more})" if more > 0 else ""), 100)

    return (_block("patch coverage: changed lines not covered",
                   ["FILE", "CHANGED", "EXECUTABLE", "COVERED", "PATCH", "UNCOVERED LINES"],
                   [[_clip(f["file"], 80), f["changed_lines"], f["executable"], f["covered"], pct(f["rate"]), shown(f)]
                    for f in patch.get("files") or [] if f["missed"]])
            + _block("changed files not measured (not in the coverage report)", ["FILE", "STATUS", "CHANGED", "WHY"],
                     [[_clip(f["file"], 80), f["status"], f["changed_lines"], _clip(f["reason"], 60)]
                      for f in patch.get("not_measured") or []]))


def _trend_line(t: Mapping[str, Any] | None) -> str | None:
    if not t:
        return None
    from aqe_ci.render.trend import sparkline

    values = [p["value"] for p in t["points"]]
    if not values:
        return None
    return (f"trend: {t['label']} on {term_text(t['branch'], limit=60)}, last {len(values)} runs: {sparkline(values)}  "
            f"{num(values[0])} → {num(values[-1])}; this run {num(t['head']['value'])}")


def _metric_rows(cov: Mapping[str, Any] | None, tests: Mapping[str, Any] | None,
                 sec: Mapping[str, Any] | None) -> list[list[Any]]:
    rows: list[list[Any]] = []
    if cov:
        for label, key in (("line coverage", "line_rate"), ("branch coverage", "branch_rate")):
            m = cov[key]
            if m["before"] is not None or m["after"] is not None:
                rows.append([label, pct(m["before"]), pct(m["after"]), pp(m["change"])])
        patch = cov.get("patch")
        if patch:
            head = (f"{pct(patch['rate'])} ({patch['covered']}/{patch['executable']})" if patch.get("rate") is not None
                    else "n/a")
            rows.append(["patch coverage", "—", head, "—"])
    if tests:
        rows.append(["tests", num(tests["before"]), num(tests["after"]), signed(tests["change"])])
        for k in ("passed", "failed", "errors", "skipped", "flaky"):
            m = tests[k]
            rows.append([f"  {k}", num(m["before"]), num(m["after"]), signed(m["change"])])
        d = tests["duration"]
        rows.append(["  duration (s)", num(d["before"]), num(d["after"]), signed(d["change"])])
    if sec:
        rows.append(["security findings", num(sec["before"]), num(sec["after"]), signed(sec["change"])])
        for s in SEVERITIES:
            m = sec["by_severity"][s]
            rows.append([f"  {s}", num(m["before"]), num(m["after"]), signed(m["change"])])
    return rows


def _notes(c: Mapping[str, Any]) -> list[str]:
    lines = [f"note: {term_text((c.get(name) or {})['note'])}" for name in ("coverage", "tests", "security")
             if (c.get(name) or {}).get("note")]
    patch = (c.get("coverage") or {}).get("patch") or {}
    if patch.get("note"):
        lines.append(f"note: patch coverage: {term_text(patch['note'])}")
    trend = _trend_line(c.get("trend"))
    if trend:
        lines.append(trend)
    return lines


def render_table(result: Mapping[str, Any], gates: Sequence[Mapping[str, Any]] | None = None) -> str:
    c = result.get("comparison", result)
    gates = gates if gates is not None else result.get("gates")
    h, b = c["head"], c["baseline"]
    t_ = term_text  # stored values (branches, reasons) are untrusted text: one inert line each
    lines = [f"head:     {h['key']}  commit {t_((h.get('commit') or '—')[:12])}  branch {t_(h.get('branch') or '—')}"]
    if b.get("key"):
        lines.append(f"baseline: {b['key']}  commit {t_((b.get('commit') or '—')[:12])}  "
                     f"branch {t_(b.get('branch') or '—')}  ({age(b.get('age_seconds'))})")
        lines.append(f"          {b['method']}: {t_(b['reason'])}")
        if b.get("base_tip"):
            t = b["base_tip"]
            lines.append(f"          note: {t_(t['note'])}; newest run there: {t['key']} "
                         f"({t_((t.get('commit') or '')[:12])})")
    else:
        lines.append(f"baseline: none — {t_(b.get('reason'))}")
    cov, tests, sec = c.get("coverage"), c.get("tests"), c.get("security")
    rows = _metric_rows(cov, tests, sec)
    if rows:
        lines += ["", table(["METRIC", "BASELINE", "HEAD", "CHANGE"], rows)]
    lines += _notes(c)
    patch = (cov or {}).get("patch") or {}
    if tests:
        lines += _block("new failures", ["TEST", "STATUS", "MESSAGE"],
                        [[_clip(test_label(t), 80), t["status"] + (" (known flaky)" if t.get("known_flaky") else ""),
                          _clip(t.get("message"))] for t in tests.get("new_failures") or []])
        lines += _block("flaky", ["TEST", "WHY"], [[_clip(test_label(t), 80), _clip(t.get("reason"))]
                                                   for t in tests.get("flaky_tests") or []])
        lines += _block("fixed", ["TEST"], [[_clip(test_label(t), 100)] for t in tests.get("fixed") or []])
        lines += _block("newly skipped", ["TEST"], [[_clip(test_label(t), 100)]
                                                    for t in tests.get("newly_skipped") or []])
        lines += _block("added tests", ["TEST", "STATUS"], [[_clip(test_label(t), 100), t["status"]]
                                                            for t in tests.get("added") or []])
        lines += _block("removed tests", ["TEST", "STATUS"], [[_clip(test_label(t), 100), t["status"]]
                                                              for t in tests.get("removed") or []])
    if patch:
        lines += _patch_blocks(patch)
    if cov and cov.get("files"):
        f = cov["files"]
        lines += _block("coverage by file", ["FILE", "BASELINE", "HEAD", "CHANGE", "NEWLY UNCOVERED"],
                        [[_clip(r["file"], 80), pct(r["line_rate"]["before"]), pct(r["line_rate"]["after"]),
                          pp(r["line_rate"]["change"]), r.get("newly_uncovered_count", "")] for r in f["changed"]])
        lines += _block("files added", ["FILE", "COVERAGE"], [[_clip(r["file"], 80), pct(r["line_rate"]["after"])]
                                                              for r in f["added"]])
        lines += _block("files removed", ["FILE"], [[_clip(r["file"], 80)] for r in f["removed"]])
    if sec:
        for label, key in (("new findings", "new"), ("fixed findings", "fixed")):
            items = sec.get(key)
            if isinstance(items, list):
                lines += _block(label, ["SEVERITY", "RULE", "TITLE", "LOCATION"],
                                [[i["severity"], _clip(i.get("rule_id"), 40), _clip(i.get("title"), 60),
                                  _clip(i.get("path") or i.get("package"), 60)] for i in items])
    if gates:
        lines += ["", table(["GATE", "RESULT", "DETAIL"], [[g["gate"], g["status"], g["message"]] for g in gates])]
    return "\n".join(lines)
