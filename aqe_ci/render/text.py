"""Plain-text building blocks for terminal output (CI logs): aligned tables of inert text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aqe_ci.render.escape import term_text


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A plain aligned text table (no colours, readable in CI logs).

    Every cell is untrusted text made inert (:func:`aqe_ci.render.escape.term_text`): no escape
    sequences, no bidirectional overrides, line breaks folded to ``⏎``, so a row stays one line.
    """
    headers = [term_text(h) for h in headers]
    cells = [[term_text(v) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in cells:
        for i, v in enumerate(row):
            widths[i] = max(widths[i], len(v))
    lines = ["  ".join(h.ljust(widths[i]) for i, h in enumerate(headers)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in cells:
        lines.append("  ".join(v.ljust(widths[i]) for i, v in enumerate(row)).rstrip())
    return "\n".join(lines)
