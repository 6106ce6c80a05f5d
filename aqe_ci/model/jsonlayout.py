"""The JSON layout of comparisons (``aqe artifacts compare --format json``, docs/compare.md).

Objects are indented two spaces per level; arrays of scalars stay on one line and each element of
an array of objects is one compact line. That keeps a 100,000-item comparison readable, diffable
and fast (every line is encoded by the C encoder; ``json.dumps(indent=2)`` falls back to the pure
Python one), and lets :func:`iter_dumps` hand it out in chunks of whole lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

from aqe_ci.model.jsontypes import JsonValue

_compact: Callable[[object], str] = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
NL = "\n"  # pieces that start with a newline begin a new line: safe chunk boundaries


def _pieces(obj: JsonValue, depth: int) -> Iterator[str]:
    pad = "  " * (depth + 1)
    if isinstance(obj, dict) and obj:
        yield "{"
        first = True
        for k, v in obj.items():
            yield (NL if first else "," + NL) + f"{pad}{_compact(str(k))}: "
            first = False
            yield from _pieces(v, depth + 1)
        yield NL + "  " * depth + "}"
    elif isinstance(obj, list) and obj and any(isinstance(x, dict | list) for x in obj):
        yield "["
        first = True
        for x in obj:
            yield (NL if first else "," + NL) + pad + _compact(x)
            first = False
        yield NL + "  " * depth + "]"
    else:
        yield _compact(obj)


def dumps(value: JsonValue) -> str:
    return "".join(_pieces(value, 0))


def iter_dumps(value: JsonValue, chunk_chars: int = 1 << 20) -> Iterator[str]:
    """The text of :func:`dumps` in chunks that end at line boundaries (bounded memory)."""
    buf: list[str] = []
    size = 0
    for piece in _pieces(value, 0):
        if size >= chunk_chars and (piece.startswith(NL) or piece.startswith("," + NL)):
            yield "".join(buf)
            buf, size = [], 0
        buf.append(piece)
        size += len(piece)
    if buf:
        yield "".join(buf)
