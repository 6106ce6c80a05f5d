"""Formatting helpers shared by the table and markdown renderings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aqe_ci.model.keys import SEVERITIES


def pct(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}%"


def pp(v: float | None) -> str:
    return "—" if v is None else f"{v:+.2f} pp"


def num(v: float | int | None) -> str:
    if v is None:
        return "—"
    return f"{v:.3f}".rstrip("0").rstrip(".") if isinstance(v, float) else str(v)


def signed(v: float | int | None, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        text = f"{v:+.2f}"
    else:
        text = f"{v:+d}"
    return text + unit


def age(seconds: int | None) -> str:
    if seconds is None:
        return "unknown age"
    s = abs(seconds)
    if s < 120:
        text = f"{s} s"
    elif s < 7200:
        text = f"{s // 60} min"
    elif s < 172800:
        text = f"{s // 3600} h"
    else:
        text = f"{s // 86400} days"
    return f"{text} {'older' if seconds >= 0 else 'newer'} than the head run"


def count(v: Any) -> int:
    if v is None:
        return 0
    return v if isinstance(v, int) else len(v)


def severity_counts(counts: Mapping[str, int | float | None] | None) -> str:
    if not counts:
        return "none"
    text = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts.get(s))
    return text or "none"


def test_label(t: Mapping[str, Any]) -> str:
    """``classname › name`` (suite when there is no classname)."""
    cls = t.get("classname") or t.get("suite") or ""
    name = t.get("name") or ""
    return f"{cls} › {name}" if cls and cls != name else name
