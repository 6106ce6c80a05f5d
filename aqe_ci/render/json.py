"""The JSON rendering: the comparison dict as is (stable key order, documented in docs/compare.md)."""

from __future__ import annotations

import json
from typing import Any


def render_json(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=2, ensure_ascii=False)
