"""Inline SVG line charts for the HTML report: one point per run, each a link to the run's page.

No script and no style attributes (the page's Content-Security-Policy allows neither): colours come
from the stylesheet's ``s0``…``s3`` classes. Values are numbers; labels are escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from aqe_ci.model.history import Trend

W, H = 640, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 28


@dataclass(frozen=True)
class Series:
    metric: str
    label: str


#: per type: the series its chart draws (the first is the one every run has)
CHART_SERIES: dict[str, tuple[Series, ...]] = {
    "coverage": (Series("line_rate", "line %"), Series("branch_rate", "branch %")),
    "test_results": (Series("failed", "failed"), Series("errors", "errors"), Series("flaky", "flaky"),
                     Series("skipped", "skipped")),
    "security": (Series("total", "total"), Series("critical", "critical"), Series("high", "high")),
}
CHART_TITLES = {"coverage": "Coverage", "test_results": "Tests", "security": "Security findings"}


def _fmt(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def _y_range(values: Sequence[float], percent: bool) -> tuple[float, float]:
    lo, hi = min(values), max(values)
    pad = max((hi - lo) * 0.1, 0.5 if percent else 1.0)
    lo, hi = lo - pad, hi + pad
    if percent:
        lo, hi = max(0.0, lo), min(100.0, hi)
    else:
        lo = max(0.0, lo)
    return lo, hi


def line_chart(trend: Trend, *, link_prefix: str = "runs/") -> str:
    """The chart of ``trend`` (oldest point left); an empty-state paragraph when it has no points."""
    series = CHART_SERIES[trend.type]
    pts = trend.points
    used = [s for s in series if any(p.values.get(s.metric) is not None for p in pts)]
    if not pts or not used:
        return f'<p class="muted" id="chart-{trend.type}">No {escape(CHART_TITLES[trend.type].lower())} runs.</p>'
    # secondary series that are zero on every run (no errors, no critical findings) stay out of the chart
    used = [used[0], *[s for s in used[1:] if any(p.values.get(s.metric) for p in pts)]]
    values = [float(p.values[s.metric]) for s in used for p in pts if p.values.get(s.metric) is not None]
    percent = trend.type == "coverage"
    lo, hi = _y_range(values, percent)
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x(i: int) -> float:
        return LEFT + (plot_w / 2 if len(pts) == 1 else plot_w * i / (len(pts) - 1))

    def y(v: float) -> float:
        return TOP + plot_h * (1 - (v - lo) / ((hi - lo) or 1))

    out = [f'<svg class="chart" id="chart-{trend.type}" viewBox="0 0 {W} {H}" role="img" '
           f'aria-label="{escape(CHART_TITLES[trend.type])} trend, {len(pts)} runs">']
    for tick in (lo, (lo + hi) / 2, hi):
        ty = y(tick)
        out.append(f'<line class="grid" x1="{LEFT}" y1="{ty:.1f}" x2="{W - RIGHT}" y2="{ty:.1f}"/>')
        out.append(f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{_fmt(round(tick, 1))}</text>')
    out.append(f'<text x="{LEFT}" y="{H - 8}">{escape(pts[0].created_at[:10])}</text>')
    out.append(f'<text x="{W - RIGHT}" y="{H - 8}" text-anchor="end">{escape(pts[-1].created_at[:10])}</text>')
    for si, s in enumerate(used):
        coords = [(x(i), y(float(p.values[s.metric]))) for i, p in enumerate(pts) if p.values.get(s.metric) is not None]
        if len(coords) > 1:
            out.append(f'<polyline class="s{si}" points="{" ".join(f"{a:.1f},{b:.1f}" for a, b in coords)}"/>')
        for i, p in enumerate(pts):
            v = p.values.get(s.metric)
            if v is None:
                continue
            tip = f"{p.key} · {(p.commit or '')[:12]} · {p.branch or '—'} · {p.created_at[:16]} · {s.label} {_fmt(v)}"
            out.append(f'<a href="{escape(link_prefix + p.key + ".html")}"><circle class="pt s{si}" '
                       f'data-key="{escape(p.key)}" cx="{x(i):.1f}" cy="{y(float(v)):.1f}" r="{4 if si == 0 else 3}">'
                       f"<title>{escape(tip)}</title></circle></a>")
    out.append("</svg>")
    legend = " ".join(f'<span class="s{i}">● {escape(s.label)}</span>' for i, s in enumerate(used))
    return "\n".join(out) + f'\n<div class="legend">{legend}</div>'
