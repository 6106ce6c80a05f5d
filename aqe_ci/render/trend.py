"""Trend renderings: a terminal table with a sparkline, CSV, markdown with a Mermaid chart.

:func:`mermaid_xychart` is also used by the PR/MR comment (``xychart-beta``, which GitHub and GitLab
render). Mermaid strings cannot escape a quote, so every label is reduced to a safe character set.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import Any

from aqe_ci.model.history import HEADLINE, Trend
from aqe_ci.render.common import num
from aqe_ci.render.escape import md_text, term_text
from aqe_ci.render.text import table

SPARKS = "▁▂▃▄▅▆▇█"
_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9 ._/#()%:+-]")
_CSV_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def sparkline(values: Sequence[float | int | None]) -> str:
    nums = [v for v in values if v is not None]
    if not nums:
        return ""
    lo, hi = min(nums), max(nums)
    span = hi - lo
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            out.append(SPARKS[int((v - lo) / span * (len(SPARKS) - 1)) if span else len(SPARKS) // 2])
    return "".join(out)


def _short(commit: str | None) -> str:
    return (commit or "")[:12]


TYPE_TITLES = {"coverage": "Coverage", "test_results": "Test results", "security": "Security findings"}


def _title(trend: Trend) -> str:
    where = f"on {trend.branch}" if trend.branch else "on all branches"
    return f"{TYPE_TITLES[trend.type]} trend {where}, last {trend.last} runs"


def render_table(trend: Trend) -> str:
    if not trend.points:
        return f"no {trend.type} runs{f' on {term_text(trend.branch)}' if trend.branch else ''}"
    metrics = trend.metrics
    headers = ["CREATED (UTC)", "KEY", "COMMIT", "BRANCH", *[m.upper() for m in metrics]]
    rows = [[p.created_at[:19].replace("T", " "), p.key, _short(p.commit), term_text(p.branch, limit=40),
             *[num(p.values.get(m)) for m in metrics]] for p in trend.points]
    s = trend.stats()
    head = term_text(_title(trend), limit=None)
    line = (f"{s['metric']}: {sparkline(trend.series(s['metric']))}  {num(s['first'])} → {num(s['last'])}"
            f" (change {num(s['change'])}, min {num(s['min'])}, max {num(s['max'])})")
    return "\n".join([head, table(headers, rows), "", line])


def _csv_cell(v: Any) -> Any:
    if isinstance(v, str) and v.startswith(_CSV_FORMULA):
        return "'" + v  # a spreadsheet must not run a branch name as a formula
    return "" if v is None else v


def render_csv(trend: Trend) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["created_at", "key", "commit", "branch", "pr", "parts", *trend.metrics])
    for p in trend.points:
        w.writerow([_csv_cell(x) for x in (p.created_at, p.key, p.commit, p.branch, p.pr, p.parts,
                                           *[p.values.get(m) for m in trend.metrics])])
    return buf.getvalue().rstrip("\n")


def mermaid_label(text: str, limit: int = 40) -> str:
    s = _LABEL_UNSAFE.sub("_", text)[:limit]
    return s or "_"


def _unique(labels: Iterable[str]) -> list[str]:
    """Category labels must differ (a repeated one would put two points on one x position)."""
    seen: dict[str, int] = {}
    out = []
    for x in labels:
        n = seen.get(x, 0) + 1
        seen[x] = n
        out.append(x if n == 1 else f"{x} ({n})")
    return out


def mermaid_xychart(title: str, labels: Sequence[str], values: Sequence[float | int], y_label: str, *,
                    percent: bool = False) -> str:
    """A fenced Mermaid ``xychart-beta`` line chart (``labels`` and ``values`` of one length)."""
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.1, 0.5 if percent else 1)
    y_min = max(0.0, lo - pad)
    y_max = min(100.0, hi + pad) if percent else hi + pad
    if percent:
        y_min, y_max = round(y_min, 1), round(y_max, 1)
    else:
        y_min, y_max = float(int(y_min)), float(int(y_max) + 1)
    xs = ", ".join(f'"{x}"' for x in _unique(mermaid_label(x, 16) for x in labels))
    ys = ", ".join(f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v) for v in values)
    return "\n".join(["```mermaid", "xychart-beta", f'    title "{mermaid_label(title, 80)}"',
                      f"    x-axis [{xs}]", f'    y-axis "{mermaid_label(y_label)}" {y_min:g} --> {y_max:g}',
                      f"    line [{ys}]", "```"])


def trend_chart(trend: Trend, *, extra: tuple[str, float | int] | None = None) -> str | None:
    """The headline metric of ``trend`` as a Mermaid chart; ``extra`` = (label, value) appended (the PR's point)."""
    name, label = HEADLINE[trend.type]
    pts: list[tuple[str, float | int]] = [(_short(p.commit)[:7] or p.key[-7:], p.values[name]) for p in trend.points
                                          if p.values.get(name) is not None]
    if extra is not None:
        pts.append(extra)
    if len(pts) < 2:
        return None
    where = f" on {trend.branch}" if trend.branch else ""
    return mermaid_xychart(f"{label}{where}", [x for x, _ in pts], [v for _, v in pts], label,
                           percent=trend.type == "coverage")


def render_markdown(trend: Trend) -> str:
    lines = [f"### {md_text(_title(trend), limit=200)}", ""]
    if not trend.points:
        return "\n".join([*lines, "_No runs._"])
    chart = trend_chart(trend)
    if chart:
        lines += [chart, ""]
    metrics = trend.metrics
    lines.append("| Created (UTC) | Key | Commit | Branch | " + " | ".join(metrics) + " |")
    lines.append("|---|---|---|---|" + "---:|" * len(metrics))
    for p in trend.points:
        commit = f"`{_short(p.commit)}`" if p.commit and re.fullmatch(r"[0-9a-f]{4,64}", p.commit) else \
            md_text(p.commit or "—", limit=40)
        lines.append(f"| {p.created_at[:16].replace('T', ' ')} | `{p.key}` | {commit} | "
                     f"{md_text(p.branch or '—', limit=60)} | " + " | ".join(num(p.values.get(m)) for m in metrics)
                     + " |")
    return "\n".join(lines)
