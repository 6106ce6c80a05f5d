"""Markdown for PR/MR comments, sized to the forge's limit.

Layout (docs/compare.md): hidden marker, headline (coverage with its change, tests with their
change, new security findings by severity), a small numbers table, the gate results, the baseline
line, then collapsible detail sections. Every untrusted string goes through
:func:`aqe_ci.render.escape.md_text`.

Budget: marker, headline and baseline line are always kept. Detail sections are placed in a fixed
priority order (new failures, new findings, coverage by file, flaky, fixed, …); one that does not fit
whole is cut to the rows that fit — whole rows only, with a "… N more" line — and one that cannot
fit even one row is dropped whole and named in a closing note.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.model.keys import SEVERITIES
from aqe_ci.render.common import age, count, num, pct, pp, severity_counts, signed, test_label
from aqe_ci.render.escape import md_text

DEFAULT_MAX_CHARS = 65_536
MIN_MAX_CHARS = 2_000
DEFAULT_MAX_ROWS = 100  # rows per detail table before the budget applies (None: no cap)
COMMENT_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
SEVERITY_ICON = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


def marker(comment_id: str = "default") -> str:
    if not COMMENT_ID_RE.match(comment_id):
        raise UsageError(f"invalid comment id {comment_id!r}", hint="use 1-64 characters from A-Z a-z 0-9 . _ -")
    return f"<!-- aqe-artifacts:comment id={comment_id} -->"


@dataclass
class Section:
    priority: int  # higher is kept first
    name: str  # short, trusted: used in the "omitted" note
    summary: str  # trusted text (counts), the <summary> line
    headers: Sequence[str]
    rows: list[list[str]] = field(default_factory=list)  # escaped cells
    align: Sequence[str] = ()
    total: int | None = None  # rows the full table has (rows may hold only the first ones)

    def render(self, limit: int | None = None) -> str:
        """The section with its first ``limit`` rows (all by default) and a "… N more" line."""
        shown = self.rows if limit is None else self.rows[:limit]
        more = (len(self.rows) if self.total is None else self.total) - len(shown)
        aligns = list(self.align) or ["---"] * len(self.headers)
        lines = [f"<details><summary>{self.summary}</summary>", "",
                 "| " + " | ".join(self.headers) + " |", "|" + "|".join(aligns) + "|"]
        lines.extend("| " + " | ".join(r) + " |" for r in shown)
        if more:
            lines += ["", f"… {more} more not shown"]
        lines += ["", "</details>", ""]
        return "\n".join(lines)


def _sha(v: str | None) -> str:
    return f"`{v[:12]}`" if v and re.fullmatch(r"[0-9a-fA-F]{4,64}", v) else md_text(v or "—", limit=64)


def _key(v: str | None) -> str:
    return f"`{v}`" if v and re.fullmatch(r"[A-Za-z0-9._-]{1,128}", v) else md_text(v or "—", limit=128)


def baseline_line(c: Mapping[str, Any]) -> str:
    b = c.get("baseline") or {}
    if not b.get("key"):
        return f"**Baseline:** none — {md_text(b.get('reason') or 'no baseline', limit=500)}"
    bits = [f"**Baseline:** {_key(b['key'])}", f"commit {_sha(b.get('commit'))}"]
    if b.get("branch"):
        bits.append(f"branch {md_text(b['branch'], limit=100)}")
    bits.append(age(b.get("age_seconds")))
    line = " · ".join(bits) + f" — {md_text(b.get('reason'), limit=400)}"
    tip = b.get("base_tip")
    if tip:
        line += (f" (note: {md_text(b.get('base_branch'), limit=100)} has moved on since; its newest run is "
                 f"{_key(tip.get('key'))} at {_sha(tip.get('commit'))})")
    return line


def headline(c: Mapping[str, Any]) -> list[str]:
    parts: list[str] = []
    cov, tests, sec = c.get("coverage"), c.get("tests"), c.get("security")
    if cov is not None:
        ch = cov["line_rate"]["change"]
        parts.append(f"**Coverage** {pct(cov['line_rate']['after'])}" + (f" ({pp(ch)})" if ch is not None else ""))
        patch = cov.get("patch") or {}
        if patch.get("rate") is not None:
            parts.append(f"**Patch** {pct(patch['rate'])} ({patch['covered']}/{patch['executable']} changed lines)")
    if tests is not None:
        run = tests.get("after")
        failed = (tests["failed"]["after"] or 0) + (tests["errors"]["after"] or 0)
        ch = tests.get("change")
        text = f"**Tests** {num(run)}" + (f" ({signed(ch)})" if ch is not None else "")
        text += f": {num(tests['passed']['after'])} passed, {failed} failed"
        nf = count(tests.get("new_failures"))
        if tests.get("new_failures") is not None and c.get("baseline", {}).get("key"):
            text += f", {nf} new failure{'s' if nf != 1 else ''}"
            if tests.get("new_failures_flaky"):
                text += f" ({tests['new_failures_flaky']} known flaky)"
        parts.append(text)
    if sec is not None:
        if "new_by_severity" in sec and c.get("baseline", {}).get("key"):
            parts.append(f"**Security** new: {severity_counts(sec['new_by_severity'])}")
        elif sec.get("after") is not None:
            parts.append(f"**Security** {severity_counts({s: sec['by_severity'][s]['after'] for s in SEVERITIES})}")
    return [" · ".join(parts) if parts else "_Nothing to compare._"]


def numbers_table(c: Mapping[str, Any]) -> list[str]:
    rows: list[tuple[str, str, str, str]] = []
    cov, tests, sec = c.get("coverage"), c.get("tests"), c.get("security")
    if cov is not None:
        for label, key in (("Line coverage", "line_rate"), ("Branch coverage", "branch_rate")):
            m = cov[key]
            if m["before"] is not None or m["after"] is not None:
                rows.append((label, pct(m["before"]), pct(m["after"]), pp(m["change"])))
        patch = cov.get("patch")
        if patch:
            head = (f"{pct(patch['rate'])} ({patch['covered']}/{patch['executable']} lines)"
                    if patch.get("rate") is not None else "n/a")
            rows.append(("Patch coverage", "—", head, "—"))
    if tests is not None:
        rows.append(("Tests", num(tests["before"]), num(tests["after"]), signed(tests["change"])))
        for key in ("passed", "failed", "errors", "skipped", "flaky"):
            m = tests[key]
            if m["before"] or m["after"]:
                rows.append((key.capitalize(), num(m["before"]), num(m["after"]), signed(m["change"])))
        d = tests["duration"]
        rows.append(("Duration (s)", num(d["before"]), num(d["after"]), signed(d["change"])))
    if sec is not None:
        for s in SEVERITIES:
            m = sec["by_severity"][s]
            if m["before"] or m["after"]:
                rows.append((f"Security {s}", num(m["before"]), num(m["after"]), signed(m["change"])))
    if not rows:
        return []
    out = ["| | Baseline | Head | Change |", "|---|---:|---:|---:|"]
    out += [f"| {a} | {b} | {h} | {d} |" for a, b, h, d in rows]
    return out


def gates_line(gates: Sequence[Mapping[str, Any]] | None) -> str | None:
    if not gates:
        return None
    icon = {"passed": "✅", "failed": "❌", "skipped": "⏭️"}
    bits = [f"{icon[g['status']]} {md_text(g['gate'], limit=80)} ({md_text(g['message'], limit=120)})" for g in gates]
    return "**Gates:** " + " · ".join(bits)


def _test_rows(items: Sequence[Mapping[str, Any]], *, message: bool = False, reason: bool = False) -> list[list[str]]:
    rows = []
    for t in items:
        status = md_text(t.get("status"), limit=20) + (" (known flaky 🔁)" if t.get("known_flaky") else "")
        row = [md_text(test_label(t), limit=200), status]
        if message:
            text = t.get("message") or t.get("details") or ""
            if t.get("known_flaky"):
                text = f"known flaky: {t['known_flaky']} — {text}"
            row.append(md_text(text, limit=300))
        if reason:
            row.append(md_text(t.get("reason"), limit=200))
        rows.append(row)
    return rows


def _finding_rows(items: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for f in items:
        loc = f.get("path") or f.get("package") or ""
        if f.get("path") and f.get("line") is not None:
            loc = f"{loc}:{f['line']}"
        rows.append([f"{SEVERITY_ICON[f['severity']]} {f['severity']}", md_text(f.get("rule_id"), limit=80),
                     md_text(f.get("title"), limit=200), md_text(loc, limit=200)])
    return rows


def _file_rows(items: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    rows = []
    for r in items:
        lines = r.get("newly_uncovered") or []
        n = r.get("newly_uncovered_count", len(lines))
        shown = ", ".join(str(x) for x in lines[:10]) + (f" (+{n - 10})" if n > 10 else "")
        rows.append([md_text(r["file"], limit=200), pct(r["line_rate"]["before"]), pct(r["line_rate"]["after"]),
                     pp(r["line_rate"]["change"]), signed(r["lines_missed"]["change"]), shown])
    return rows


def _lines(lines: Sequence[int], n: int, shown: int = 20) -> str:
    """``3-5, 9, 12`` (runs of consecutive lines joined), the first ``shown`` lines, ``(+N)`` for the rest."""
    runs: list[str] = []
    head = list(lines[:shown])
    i = 0
    while i < len(head):
        j = i
        while j + 1 < len(head) and head[j + 1] == head[j] + 1:
            j += 1
        runs.append(str(head[i]) if i == j else f"{head[i]}-{head[j]}")
        i = j + 1
    return ", ".join(runs) + (f" (+{n - len(head)})" if n > len(head) else "")


def _patch_sections(patch: Mapping[str, Any], cap: int | None) -> list[Section]:
    """The files with changed lines not covered (priority 85) and the changed files not measured (33)."""
    out = []
    missed = [f for f in patch.get("files") or [] if f["missed"]]
    if missed:
        n = patch["missed"]
        rows = [[md_text(f["file"], limit=200), str(f["changed_lines"]), str(f["executable"]), str(f["covered"]),
                 pct(f["rate"]), _lines(f["uncovered_lines"], f["uncovered_count"])] for f in missed[:cap]]
        out.append(Section(85, "patch coverage", f"🩹 Patch coverage: {n} changed line{'s' if n != 1 else ''} not "
                           f"covered in {len(missed)} file{'s' if len(missed) != 1 else ''}",
                           ("File", "Changed", "Executable", "Covered", "Patch", "Uncovered changed lines"), rows,
                           ("---", "---:", "---:", "---:", "---:", "---"), len(missed)))
    nm = patch.get("not_measured") or []
    if nm:
        rows = [[md_text(f["file"], limit=200), md_text(f["status"], limit=20), str(f["changed_lines"]),
                 md_text(f["reason"], limit=200)] for f in nm[:cap]]
        out.append(Section(33, "files not measured", f"🗂️ Changed files not measured ({len(nm)}: outside the "
                           "coverage report, not 0%)", ("File", "Status", "Changed lines", "Why"), rows,
                           ("---", "---", "---:", "---"), len(nm)))
    return out


def trend_section(c: Mapping[str, Any]) -> str | None:
    """The Mermaid chart of the base branch's last runs with this run's point, or None."""
    from aqe_ci.render.trend import mermaid_xychart

    t = c.get("trend")
    if not t:
        return None
    pts = [((p.get("commit") or p["key"])[:7], p["value"]) for p in t["points"] if p.get("value") is not None]
    head = t["head"]
    if not pts or head.get("value") is None:
        return None
    this = f"PR #{head['pr']}" if head.get("pr") else "this run"
    chart = mermaid_xychart(f"{t['label']} on {t['branch']}", [x for x, _ in pts] + [this],
                            [v for _, v in pts] + [head["value"]], t["label"], percent=t["type"] == "coverage")
    runs = "run" if len(pts) == 1 else f"{len(pts)} runs"
    summary = f"📈 {md_text(t['label'], limit=60)} on {md_text(t['branch'], limit=100)}: the last {runs} and {this}"
    return f"<details open><summary>{summary}</summary>\n\n{chart}\n\n</details>\n"


def sections(c: Mapping[str, Any], cap: int | None = None) -> list[Section]:
    """Detail sections, highest priority first; only the first ``cap`` rows of each are escaped."""
    out: list[Section] = []

    def lim(xs: Sequence[Any]) -> Sequence[Any]:
        return xs if cap is None else xs[:cap]
    tests, cov, sec = c.get("tests"), c.get("coverage"), c.get("security")
    l4 = ("---", "---", "---", "---")

    def add(priority: int, name: str, summary: str, headers: Sequence[str], rows: list[list[str]],
            align: Sequence[str] = (), total: int | None = None) -> None:
        if rows:
            out.append(Section(priority, name, summary, headers, list(lim(rows)), align, total))

    if tests:
        nf = tests.get("new_failures") or []
        flaky_note = f", {tests['new_failures_flaky']} of known-flaky tests" if tests.get("new_failures_flaky") else ""
        add(90, "new failures", f"❌ New failures ({len(nf)}{flaky_note})", ("Test", "Status", "Message"),
            _test_rows(lim(nf), message=True), total=len(nf))
    out.extend(_patch_sections((cov or {}).get("patch") or {}, cap))
    if sec and isinstance(sec.get("new"), list):
        add(80, "new findings", f"🛡️ New security findings ({len(sec['new'])}: "
            f"{severity_counts(sec.get('new_by_severity'))})", ("Severity", "Rule", "Title", "Location"),
            _finding_rows(lim(sec["new"])), l4, total=len(sec["new"]))
    if cov and cov.get("files"):
        ch = cov["files"]["changed"]
        add(70, "coverage by file", f"📉 Coverage by file: {len(ch)} changed, {cov.get('newly_uncovered_lines', 0)} "
            "lines newly uncovered", ("File", "Baseline", "Head", "Change", "Missed Δ", "Newly uncovered lines"),
            _file_rows(lim(ch)), ("---", "---:", "---:", "---:", "---:", "---"), total=len(ch))
    if tests:
        fl = tests.get("flaky_tests") or []
        add(60, "flaky tests", f"🔁 Flaky tests ({len(fl)})", ("Test", "Status", "Why"), _test_rows(lim(fl), reason=True),
            total=len(fl))
        fx = tests.get("fixed") or []
        add(50, "fixed tests", f"✅ Fixed tests ({len(fx)})", ("Test", "Status"), _test_rows(lim(fx)), total=len(fx))
    if sec and sec.get("fixed"):
        add(45, "fixed findings", f"✅ Fixed security findings ({len(sec['fixed'])})",
            ("Severity", "Rule", "Title", "Location"), _finding_rows(lim(sec["fixed"])), l4,
            total=len(sec["fixed"]))
    if tests:
        ns = tests.get("newly_skipped") or []
        add(40, "newly skipped", f"⏭️ Newly skipped tests ({len(ns)})", ("Test", "Status"), _test_rows(lim(ns)), total=len(ns))
    if cov and cov.get("files"):
        files = cov["files"]
        rows = [[md_text(r["file"], limit=200), "added", pct(r["line_rate"]["after"])] for r in lim(files["added"])]
        rows += [[md_text(r["file"], limit=200), "removed", pct(r["line_rate"]["before"])] for r in lim(files["removed"])]
        add(35, "files added/removed", f"📁 Files added ({len(files['added'])}) / removed ({len(files['removed'])})",
            ("File", "Change", "Coverage"), rows, total=len(files["added"]) + len(files["removed"]))
    if tests:
        ad, rm = tests.get("added") or [], tests.get("removed") or []
        rows = [[md_text(test_label(t), limit=200), "added", md_text(t.get("status"), limit=20)] for t in lim(ad)]
        rows += [[md_text(test_label(t), limit=200), "removed", md_text(t.get("status"), limit=20)] for t in lim(rm)]
        add(30, "added/removed tests", f"➕ Tests added ({len(ad)}) / removed ({len(rm)})",
            ("Test", "Change", "Status"), rows, total=len(ad) + len(rm))
        sf = tests.get("still_failing")
        if isinstance(sf, list):
            add(25, "still failing", f"⚠️ Still failing ({len(sf)})", ("Test", "Status", "Message"),
                _test_rows(lim(sf), message=True), total=len(sf))
    return sorted(out, key=lambda s: -s.priority)


def _fit(total_rows: int, room: int, render: Callable[[int | None], str]) -> str | None:
    full = render(None)
    if len(full) <= room:
        return full
    lo, hi, best = 1, total_rows - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        text = render(mid)
        if len(text) <= room:
            best, lo = text, mid + 1
        else:
            hi = mid - 1
    return best


TREND_PRIORITY = 65  # the trend chart goes after coverage by file, before flaky tests


def _place_raw(text: str, room: int, placed: list[str], omitted: list[str]) -> tuple[None, int]:
    """Place a section that is kept whole or not at all (the trend chart)."""
    if len(text) <= room:
        placed.append(text)
        return None, room - len(text) - 1
    omitted.append("trend chart")
    return None, room


def render_markdown(result: Mapping[str, Any], *, max_chars: int = DEFAULT_MAX_CHARS, comment_id: str = "default",
                    title: str = "aqe-artifacts: quality report",
                    gates: Sequence[Mapping[str, Any]] | None = None,
                    max_rows: int | None = DEFAULT_MAX_ROWS) -> str:
    """The PR/MR comment body, at most ``max_chars`` characters, at most ``max_rows`` rows per table."""
    if max_chars < MIN_MAX_CHARS:
        raise UsageError(f"--max-chars {max_chars} is too small", hint=f"use at least {MIN_MAX_CHARS}")
    c = result.get("comparison", result)
    gates = gates if gates is not None else result.get("gates")
    head: list[str] = [marker(comment_id), f"### {md_text(title, limit=100)}", ""]
    head += headline(c)
    head.append("")
    table = numbers_table(c)
    if table:
        head += [*table, ""]
    g = gates_line(gates)
    if g:
        head += [g, ""]
    head += [baseline_line(c), ""]
    fixed = "\n".join(head) + "\n"
    reserve = 400  # the omitted-sections note
    room = max_chars - len(fixed) - reserve
    placed: list[str] = []
    omitted: list[str] = []
    chart = trend_section(c)
    for s in sections(c, max_rows):
        if chart is not None and s.priority < TREND_PRIORITY:
            chart, room = _place_raw(chart, room, placed, omitted)
        cap = len(s.rows) if max_rows is None else min(len(s.rows), max_rows)

        def render(limit: int | None, s: Section = s, cap: int = cap) -> str:
            return s.render(cap if limit is None else min(limit, cap))

        text = _fit(cap, room, render) if room > 0 else None
        if text is None:
            omitted.append(s.name)
            continue
        placed.append(text)
        room -= len(text) + 1
    if chart is not None:
        chart, room = _place_raw(chart, room, placed, omitted)
    body = fixed + "\n".join(placed)
    if omitted:
        body += f"\n_Omitted to fit the {max_chars:,}-character comment limit: {', '.join(omitted)}._\n"
    return body
