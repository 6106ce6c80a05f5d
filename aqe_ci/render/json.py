"""The JSON rendering (shape documented in docs/compare.md).

Objects are indented two spaces per level; arrays of scalars stay on one line and each element of
an array of objects is one compact line. That keeps a 100,000-item comparison readable, diffable
and fast (every line is encoded by the C encoder; ``json.dumps(indent=2)`` falls back to the pure
Python one).
"""

from __future__ import annotations

import json
from typing import Any

_compact = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode


def _render(obj: Any, depth: int, out: list[str]) -> None:
    pad = "  " * (depth + 1)
    if isinstance(obj, dict) and obj:
        out.append("{\n")
        last = len(obj) - 1
        for i, (k, v) in enumerate(obj.items()):
            out.append(f"{pad}{_compact(str(k))}: ")
            _render(v, depth + 1, out)
            out.append(",\n" if i < last else "\n")
        out.append("  " * depth + "}")
    elif isinstance(obj, list) and obj and any(isinstance(x, dict | list) for x in obj):
        out.append("[\n")
        out.append(",\n".join(pad + _compact(x) for x in obj))
        out.append("\n" + "  " * depth + "]")
    else:
        out.append(_compact(obj))


def render_json(result: dict[str, Any]) -> str:
    out: list[str] = []
    _render(result, 0, out)
    return "".join(out)
