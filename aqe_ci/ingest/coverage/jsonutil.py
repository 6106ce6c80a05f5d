"""Streaming JSON helpers for the coverage formats (ijson, C backend when available)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

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


def ijson_backend() -> Any:
    import ijson

    for name in ("yajl2_c", "yajl2_cffi"):
        try:
            return ijson.get_backend(name)
        except Exception:  # noqa: BLE001 - fall back to the pure-Python backend
            continue
    return ijson


@contextmanager
def json_errors() -> Iterator[None]:
    """ijson / decoding failures → one-line ReportError."""
    import ijson

    try:
        yield
    except ijson.JSONError as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else "unexpected end of input"
        if "integer overflow" in msg:
            msg = "a number is out of range (integer overflow)"
        raise ReportError(f"malformed JSON: {msg[:200]}") from None
    except UnicodeDecodeError:
        raise ReportError("not UTF-8 JSON") from None


def check_text(f: BinaryIO) -> bytes:
    """Reject binary garbage before ijson sees it (NUL bytes in the first 64 KiB); returns that head."""
    head = f.read(65536)
    f.seek(0)
    if b"\x00" in head:
        raise ReportError("binary data, not JSON")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte character cut at the chunk end is fine
            raise ReportError("not UTF-8 JSON") from None
    return head


def as_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        try:
            value = int(str(value))
        except ValueError:
            raise ReportError(f"{what} {str(value)[:40]!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ReportError(f"{what} is not a finite number")
    return int(value)
