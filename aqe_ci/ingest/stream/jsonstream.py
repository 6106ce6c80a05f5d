"""A pull-style streaming JSON reader over the C decoder of :mod:`json`.

Large reports (SARIF with 20,000+ results) are read element by element: the caller walks the
outer structure (``iter_object`` / ``iter_array``) and decodes only the elements it wants with
``value()`` — each one by ``json.JSONDecoder.raw_decode`` (C speed) on a sliding text window.
Memory is bounded by the largest single element decoded (capped by ``max_value_chars``), never
by the file. This is faster than an event-level ijson walk (see docs/benchmarks/ingest-security.md)
and still lets the parser see run-level keys (``tool``, ``originalUriBaseIds``) in file order.

Hardening: the input must be UTF-8 (an optional BOM is skipped); ``NaN``/``Infinity`` are
rejected; nesting is capped; every error is a :class:`ReportError` with a line number.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from aqe_ci.ingest.base import ReportError

CHUNK_BYTES = 1 << 20
MAX_VALUE_CHARS = 32 << 20
MAX_DEPTH = 200
#: decode only with at least this much text ahead of the position (or the end of the file): an
#: element cut by the window's end makes the C decoder raise JSONDecodeError, whose constructor
#: counts the newlines of the whole window — milliseconds per chunk boundary
LOOKAHEAD = 256 << 10

# both match the empty string, so ``match`` never returns None (the asserts below say so to mypy)
_WS = re.compile(r"[ \t\n\r]*")
_WS_COMMA = re.compile(r"[ \t\n\r]*(,)?[ \t\n\r]*")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
#: the C scanner ``raw_decode`` wraps, called directly (one Python frame less per element); every
#: JSONDecoder sets it in ``__init__``, typeshed does not declare it
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _value_problem(exc: ValueError) -> str:
    if "integer string conversion" in str(exc):  # Python's 4,300-digit limit
        return "a number with thousands of digits is out of range"
    return str(exc)


def object_keys(js: JsonStream, what: str) -> Iterator[str]:
    """The top-level keys of a document that must be one JSON object (``what``: "a coverage.py
    JSON report"), each with its value next in ``js``; the end of the document is checked after
    the last one (a caller that stops early skips that check)."""
    if js.peek() != "{":
        raise js.error(f"{what} must be a JSON object")
    yield from js.iter_object()
    js.end()


def top_level_value(f: BinaryIO, key: str, what: str) -> Any:
    """The value of the first top-level ``key`` of the JSON object in ``f`` (None when absent), read
    from the start of ``f``; the walk stops there."""
    js = JsonStream(f)
    for k in object_keys(js, what):
        if k == key:
            return check_depth(js.value())
        js.skip()
    return None


def check_depth(value: Any, limit: int = MAX_DEPTH) -> Any:
    """``value`` (a decoded JSON value) when it nests at most ``limit`` levels, else ReportError:
    a decoded element is held to the depth the stream's own walk allows."""
    stack = [(value, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        v, depth = pop()
        if depth > limit:
            raise ReportError(f"invalid JSON: nesting too deep (over {limit} levels)")
        kids = v.values() if type(v) is dict else v if type(v) is list else ()
        for k in kids:
            if type(k) is dict or type(k) is list:
                push((k, depth + 1))
    return value


class JsonStream:
    """Walk one JSON document from a binary file without loading it."""

    def __init__(self, f: BinaryIO, *, chunk_bytes: int = CHUNK_BYTES,
                 max_value_chars: int = MAX_VALUE_CHARS) -> None:
        self._f = f
        self._chunk = chunk_bytes
        self._max = max_value_chars
        self._dec = codecs.getincrementaldecoder("utf-8")("strict")
        self.buf = ""
        self.pos = 0
        self.eof = False
        self._newlines_read = 0  # newlines in every byte read so far (bytes.count is fast)
        self._first = True
        self._depth = 0
        self._tick = 0  # bumped by every consumption, to notice values the caller left unread
        #: optional ``hook(buf, pos) -> (value, end) | None`` that ``iter_values`` tries first on
        #: each element (SARIF's C scanner): it returns None for anything it does not handle
        #: completely (the element is then decoded as usual), never a value for partial text
        self.element_hook: Any = None

    # -- buffer ------------------------------------------------------------------------------
    def _fill(self, want: int | None = None) -> bool:
        """Append at least one chunk (or ``want`` bytes) to the window; False at end of file."""
        if self.eof:
            return False
        raw = self._f.read(max(self._chunk, want or 0))
        self._newlines_read += raw.count(b"\n")
        try:
            text = self._dec.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise ReportError(f"not valid UTF-8 text ({exc.reason})", line=self.line()) from None
        if self._first:
            self._first = False
            if text.startswith("\ufeff"):
                text = text[1:]
        if not raw:
            self.eof = True
        if "\x00" in text:
            raise ReportError("binary data (NUL bytes) in a JSON report", line=self.line())
        if self.pos:
            self.buf = self.buf[self.pos:] + text
            self.pos = 0
        else:
            self.buf += text
        return bool(raw) or bool(text)

    def line(self) -> int:
        """The 1-based line of the current position (only computed for error messages)."""
        return self._newlines_read - self.buf.count("\n", self.pos) + 1

    def error(self, reason: str) -> ReportError:
        return ReportError(reason, line=self.line())

    def _skip_ws(self) -> None:
        while True:
            m = _WS.match(self.buf, self.pos)
            assert m is not None
            self.pos = m.end()
            if self.pos < len(self.buf) or not self._fill():
                return

    def peek(self) -> str:
        """The next non-blank character ('' at the end of the input)."""
        self._skip_ws()
        return self.buf[self.pos] if self.pos < len(self.buf) else ""

    def _expect(self, ch: str) -> None:
        got = self.peek()
        if got != ch:
            raise self.error(f"invalid JSON: expected {ch!r}, found {got!r}" if got
                             else f"invalid JSON: expected {ch!r}, the file ends (truncated?)")
        self.pos += 1

    def _separator(self, close: str) -> bool:
        """After an element: consume ',' (True: another follows) or the closing bracket (False)."""
        while True:
            m = _WS_COMMA.match(self.buf, self.pos)
            assert m is not None
            end = m.end()
            if end >= len(self.buf) and not self.eof:
                self._fill()
                continue
            self.pos = end
            if m.group(1):
                return True
            if end < len(self.buf) and self.buf[end] == close:
                self.pos = end + 1
                return False
            got = self.buf[end] if end < len(self.buf) else ""
            raise self.error(f"invalid JSON: expected ',' or {close!r}, found {got!r}" if got
                             else "invalid JSON: the file ends inside a container (truncated?)")

    # -- values ------------------------------------------------------------------------------
    def value(self) -> Any:
        """Decode the next complete value (an element of what the caller is walking)."""
        self._tick += 1
        first = self.peek()
        if not first:
            raise self.error("invalid JSON: a value is missing, the file ends (truncated?)")
        if len(self.buf) - self.pos < LOOKAHEAD and not self.eof:
            self._fill()
        while True:
            try:
                obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                incomplete = (exc.pos >= len(self.buf) - 16 or exc.msg.startswith("Unterminated string"))
                if incomplete and not self.eof:
                    self._grow()
                    continue
                self.pos = min(exc.pos, len(self.buf))
                raise self.error(f"invalid JSON: {exc.msg}") from None
            except ValueError as exc:
                raise self.error(f"invalid JSON: {_value_problem(exc)}") from None
            except RecursionError:
                raise self.error("invalid JSON: nesting too deep") from None
            if end >= len(self.buf) and not self.eof and (first in "-0123456789"):
                self._grow()  # a number might continue in the next chunk
                continue
            self.pos = end
            return obj

    def _grow(self) -> None:
        pending = len(self.buf) - self.pos
        if pending > self._max:
            raise self.error(f"a single JSON element is larger than {self._max} characters")
        self._fill(want=pending)  # doubles the window: decoding retries stay linear overall

    def skip(self) -> None:
        """Discard the next value; big containers are walked so memory stays bounded."""
        ch = self.peek()
        if ch in "{[":
            if len(self.buf) - self.pos < LOOKAHEAD and not self.eof:
                self._fill()
            try:  # fast path: the whole value is already in the window (memory bounded by it)
                _obj, end = _DECODER.raw_decode(self.buf, self.pos)
            except (ValueError, RecursionError):
                pass
            else:
                self._tick += 1
                self.pos = end
                return
        if ch == "{":
            for _ in self.iter_object():
                self.skip()
        elif ch == "[":
            for _ in self.iter_array():
                self.skip()
        else:
            self.value()

    def small_value(self, limit: int, big: Any) -> Any:
        """The next value decoded when its text is at most ``limit`` characters, else skipped
        (``big`` is returned): a look at a document's top level that never builds a big value."""
        ch = self.peek()
        if ch not in ("{", "["):
            return self.value()
        if len(self.buf) - self.pos < min(limit, LOOKAHEAD) and not self.eof:
            self._fill()
        start = self.pos
        try:
            obj, end = _DECODER.raw_decode(self.buf, start)
        except (ValueError, RecursionError):
            end = -1
        if end < 0:
            self.skip()  # not complete in the window (or invalid: skip reports it)
            return big
        self._tick += 1
        self.pos = end
        return obj if end - start <= limit else big

    def iter_object(self) -> Iterator[str]:
        """Yield each key of the next object; the caller consumes (or skips) each value."""
        self._expect("{")
        self._tick += 1
        self._enter()
        try:
            if self.peek() == "}":
                self.pos += 1
                return
            while True:
                if self.peek() != '"':
                    raise self.error("invalid JSON: expected an object key")
                key = self.value()
                self._expect(":")
                before = self._tick
                yield key
                if self._tick == before:
                    self.skip()
                if not self._separator("}"):
                    return
        finally:
            self._depth -= 1

    def iter_array(self) -> Iterator[int]:
        """Yield the index of each element of the next array; the caller consumes each element."""
        self._expect("[")
        self._tick += 1
        self._enter()
        try:
            if self.peek() == "]":
                self.pos += 1
                return
            i = 0
            while True:
                before = self._tick
                yield i
                if self._tick == before:
                    self.skip()
                i += 1
                if not self._separator("]"):
                    return
        finally:
            self._depth -= 1

    def iter_values(self) -> Iterator[Any]:
        """Yield each element of the next array, decoded (the fast path for big arrays)."""
        self._expect("[")
        self._tick += 1
        if self.peek() == "]":
            self.pos += 1
            return
        scan = _SCAN
        sep = _WS_COMMA.match
        while True:
            if len(self.buf) - self.pos < LOOKAHEAD and not self.eof:
                self._fill()
            hook = self.element_hook
            got = None if hook is None else hook(self.buf, self.pos)
            if got is not None:
                obj, self.pos = got
            else:
                # fast path: the element is complete in the window and is not a number at its end
                try:
                    obj, end = scan(self.buf, self.pos)
                except (StopIteration, ValueError, RecursionError):
                    obj = self.value()  # decodes again and reports the error with its line
                else:
                    if end >= len(self.buf) and not self.eof:
                        obj = self.value()
                    else:
                        self.pos = end
            yield obj
            m = sep(self.buf, self.pos)  # the common case inline: ',' with blanks, more text after
            assert m is not None
            if m.group(1) and m.end() < len(self.buf):
                self.pos = m.end()
                continue
            if not self._separator("]"):
                return
            if self.pos >= len(self.buf) or self.buf[self.pos] in " \t\r\n":
                self._skip_ws()

    def _enter(self) -> None:
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise self.error("invalid JSON: nesting too deep")

    def end(self) -> None:
        """The document must end here (only blanks may follow)."""
        if self.peek():
            raise self.error("invalid JSON: extra data after the document")
