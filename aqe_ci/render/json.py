"""The JSON rendering of a comparison (shape in docs/compare.md, layout in :mod:`aqe_ci.model.jsonlayout`).

Takes the typed :class:`~aqe_ci.model.comparison.Comparison`, or its JSON form (a saved report).
"""

from __future__ import annotations

from collections.abc import Iterator

from aqe_ci.model.comparison import Comparison
from aqe_ci.model.jsonlayout import dumps, iter_dumps
from aqe_ci.model.jsontypes import JsonValue


def render_json(result: Comparison | JsonValue) -> str:
    return dumps(result.as_json() if isinstance(result, Comparison) else result)


def iter_json(result: Comparison | JsonValue, chunk_chars: int = 1 << 20) -> Iterator[str]:
    """The text of :func:`render_json` in chunks that end at line boundaries (bounded memory)."""
    return iter_dumps(result.as_json() if isinstance(result, Comparison) else result, chunk_chars)
