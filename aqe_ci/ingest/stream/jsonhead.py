"""The top-level keys of a JSON report, whatever their order and spacing, for content detection.

A report re-saved with sorted keys (``jq -S``, a pretty-printer) still is the same report: JSON
detectors look at which keys the top-level object holds (and at small values such as
``SchemaVersion`` or ``descriptor.name``), not at what the file starts with.

:func:`json_keys` reads them from the head (the first 64 KiB): each top-level value that is
complete there is decoded (it is at most the head's size), a value cut by the head's end is
recorded by its kind only and ends the look. When the head ends inside the top-level object and no
detector claimed the file, the driver asks :func:`with_streamed_keys` for a second look: every
top-level key streamed from the whole file (values skipped without building them, small ones
decoded), bounded memory, only for such files.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from json.decoder import scanstring  # type: ignore[attr-defined]
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportError

#: decoded values of the streamed look are kept up to this many characters
SMALL_VALUE = 64 << 10
_WS = re.compile(r"[ \t\n\r]*")
_KINDS = {"{": "object", "[": "array", '"': "string", "t": "boolean", "f": "boolean", "n": "null"}


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


@dataclass(frozen=True)
class Partial:
    """A top-level value that was not decoded (cut by the head's end, or too big): its kind."""

    kind: str


@dataclass
class TopLevel:
    """What the top level of a JSON report holds. ``kind``: ``object``, ``array`` or another value
    kind; ``keys`` (objects): key → decoded value or :class:`Partial`; ``complete``: the whole top
    level was looked at (every key is known)."""

    kind: str
    keys: dict[str, Any] = field(default_factory=dict)
    complete: bool = False
    first: Any = None  # arrays: the first element when it is complete

    def has(self, key: str) -> bool:
        return key in self.keys

    def type_of(self, key: str) -> str | None:
        """The JSON kind of a key's value (``object``, ``array``, ``string``, ``number``,
        ``boolean``, ``null``), None when the key is not there."""
        if key not in self.keys:
            return None
        v = self.keys[key]
        if isinstance(v, Partial):
            return v.kind
        return _kind_of_value(v)

    def get(self, key: str) -> Any:
        """The decoded value, None when absent or not decoded."""
        v = self.keys.get(key)
        return None if isinstance(v, Partial) else v


class StreamedHead(bytes):
    """A head whose top-level keys were streamed from the whole file (:func:`with_streamed_keys`):
    the same bytes, and :func:`json_keys` answers from ``top``."""

    top: TopLevel


def _kind_of_value(v: Any) -> str:
    if isinstance(v, dict):
        return "object"
    if isinstance(v, list):
        return "array"
    if isinstance(v, str):
        return "string"
    if isinstance(v, bool):
        return "boolean"
    if v is None:
        return "null"
    return "number"


def _kind_at(text: str, pos: int) -> str:
    return _KINDS.get(text[pos:pos + 1], "number")


def _text(head: bytes) -> str:
    if b"\x00" in head[:4096]:
        return ""
    text = head.decode("utf-8", "ignore")
    return text[1:] if text.startswith("\ufeff") else text


def json_keys(head: bytes) -> TopLevel | None:
    """The top level of the JSON document ``head`` starts (None: not JSON-looking)."""
    if isinstance(head, StreamedHead):
        return head.top
    return _head_keys(bytes(head))


@lru_cache(maxsize=4)
def _head_keys(head: bytes) -> TopLevel | None:
    text = _text(head)
    pos = _WS.match(text).end()  # type: ignore[union-attr]
    ch = text[pos:pos + 1]
    if ch == "[":
        return _array_head(text, pos)
    if ch != "{":
        return None
    top = TopLevel("object")
    try:
        _object_keys(text, pos + 1, top)
    except (ValueError, IndexError, RecursionError):
        pass  # cut or invalid: what was read so far
    return top


def _array_head(text: str, pos: int) -> TopLevel:
    top = TopLevel("array")
    pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
    try:
        top.first, _ = _DECODER.raw_decode(text, pos)
    except (ValueError, RecursionError):
        top.first = Partial(_kind_at(text, pos)) if pos < len(text) else None
    return top


def _object_keys(text: str, pos: int, top: TopLevel) -> None:
    """Read ``"key": value`` pairs from ``pos`` (after the ``{``) into ``top``."""
    ws = _WS.match
    pos = ws(text, pos).end()  # type: ignore[union-attr]
    if text[pos] == "}":
        top.complete = True
        return
    while True:
        if text[pos] != '"':
            return
        key, pos = scanstring(text, pos + 1, True)
        pos = ws(text, pos).end()  # type: ignore[union-attr]
        if text[pos] != ":":
            return
        pos = ws(text, pos + 1).end()  # type: ignore[union-attr]
        try:
            value, pos = _DECODER.raw_decode(text, pos)
        except (ValueError, RecursionError):
            top.keys.setdefault(key, Partial(_kind_at(text, pos)))
            return
        top.keys.setdefault(key, value)
        pos = ws(text, pos).end()  # type: ignore[union-attr]
        if text[pos] == "}":
            top.complete = True
            return
        if text[pos] != ",":
            return
        pos = ws(text, pos + 1).end()  # type: ignore[union-attr]


def with_streamed_keys(path: Path, head: bytes) -> StreamedHead | None:
    """``head`` with every top-level key of the file (see the module docstring), or None when the
    head is not a JSON object cut before its end (nothing more to learn)."""
    top = json_keys(head)
    if top is None or top.kind != "object" or top.complete:
        return None
    streamed = stream_keys(path)
    if streamed is None:
        return None
    out = StreamedHead(head)
    out.top = streamed
    return out


def stream_keys(path: Path) -> TopLevel | None:
    """Every top-level key of the JSON object in ``path``: scalars and values of at most
    :data:`SMALL_VALUE` characters decoded, bigger ones skipped. Invalid JSON ends the look
    (the parser reports it); None when the file is not a JSON object."""
    from aqe_ci.ingest.stream.jsonstream import JsonStream
    from aqe_ci.ingest.stream.opener import open_report

    top = TopLevel("object")
    with open_report(path, "json") as f:
        js = JsonStream(f)
        try:
            if js.peek() != "{":
                return None
            for key in js.iter_object():
                ch = js.peek()
                top.keys.setdefault(key, js.small_value(SMALL_VALUE, Partial(_KINDS.get(ch, "number"))))
            top.complete = True
        except ReportError:
            pass
    return top
