"""JSON helpers of the coverage formats: the first key of a head, counts as integers (the
streaming itself is :mod:`aqe_ci.ingest.stream.jsonstream`)."""

from __future__ import annotations

import re
from typing import Any

from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.coverage.sniff import text_head

_KEY = re.compile(rb'\s*\{\s*"((?:[^"\\]|\\.){0,4096})"\s*:\s*')


def first_keys(head: bytes) -> tuple[bytes, bytes] | None:
    """(first top-level key, the bytes after its colon) of a JSON object head, else None."""
    h = text_head(head)
    m = _KEY.match(h)
    if m is None:
        return None
    return m.group(1), h[m.end():]


def as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = int(str(value))
        except ValueError:
            raise ReportError(f"{what} {str(value)[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ReportError(f"{what} is not a finite number")
    return int(value)
