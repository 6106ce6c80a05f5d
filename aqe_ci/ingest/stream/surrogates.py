"""Lone surrogate escapes in JSON (``"\\ud800"``) replaced by ``\\ufffd`` while a report is read.

JSON allows any ``\\uXXXX`` escape, so a report can spell a UTF-16 surrogate that has no partner.
Python decodes it into a string that cannot be encoded as UTF-8: stored, it would break every later
read (``get``, ``compare``, the gates) — a report could turn a failed gate into a crash. The filter
rewrites each such escape as ``\\ufffd`` (the replacement character) in the bytes, before any
decoder (the json module, the C scanners) sees them: the same length, so positions and line
numbers stay those of the file. A valid pair (``\\ud83d\\ude00``) and an escaped backslash followed
by ``ud800`` text are left alone. ``replaced`` counts what was rewritten.

Streaming: a block that holds no ``\\ud``/``\\uD`` at all passes unchanged (found with
:func:`find_escape`, whose C twin ``aqe_ci.ingest.stream._stream_c`` runs at memchr speed); an
escape, a pair or a run of backslashes at a block's end is held back until the next block decides
it, and :meth:`SurrogateFilter.read` hands blocks over without copying them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import BinaryIO

from aqe_ci import accel
from aqe_ci.ingest.stream.rewind import RewindOnly

_CANDIDATE = re.compile(rb"\\u[dD][0-9a-fA-F]{3}")
_ESCAPE_START = re.compile(rb"\\u[dD]")
_HIGH = re.compile(rb"\\u[dD][89abAB][0-9a-fA-F]{2}")
_LOW = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_REPLACEMENT = b"\\ufffd"
#: the bytes of a block's end that may hold an undecided escape pair
_HOLD = 12
BLOCK = 1 << 20
ACCEL = "aqe_ci.ingest.stream._stream_c"


def find_escape(data: bytes, start: int = 0) -> int:
    """The first ``\\ud``/``\\uD`` in ``data`` at or after ``start``, or -1 (the reference of the C
    ``find_escape``)."""
    m = _ESCAPE_START.search(data, start)
    return -1 if m is None else m.start()


def finder() -> Callable[[bytes, int], int]:
    """The C ``find_escape`` when it is built (and not disabled), else the Python twin."""
    fast = accel.load(ACCEL)
    return find_escape if fast is None else fast.find_escape


def _cut(data: bytes) -> int:
    """Where a block that more bytes follow may end: before the first backslash of its last
    :data:`_HOLD` bytes (with the backslash run it belongs to, and the high half of a pair whose
    low half starts there), so no escape, pair or run is split between two blocks."""
    n = len(data)
    t = data.find(b"\\", max(0, n - _HOLD))
    if t < 0:
        return n
    if t >= 6 and _LOW.match(data, t) and _HIGH.match(data, t - 6):
        t -= 6
    while t > 0 and data[t - 1] == 0x5C:
        t -= 1
    return t


def replace_lone(data: bytes, final: bool = True,
                 find: Callable[[bytes, int], int] = find_escape) -> tuple[bytes, int, int]:
    """(``data[:cut]`` with its lone surrogate escapes replaced, how many, cut). Without
    ``final``, ``data[cut:]`` is undecided and must come first in the next call."""
    cut = len(data) if final else _cut(data)
    first = find(data, 0)
    if first < 0 or first >= cut:
        return (data if cut == len(data) else data[:cut]), 0, cut
    out: list[bytes] = []
    last = count = paired = 0
    for m in _CANDIDATE.finditer(data, first):
        s = m.start()
        if s >= cut:
            break
        if s < paired or _escaped_backslash(data, s):
            continue
        value = int(data[s + 2:s + 6], 16)
        if 0xD800 <= value <= 0xDBFF and _LOW.match(data, s + 6):
            paired = s + 12  # a valid pair: its low half is not lone
            continue
        if 0xD800 <= value <= 0xDFFF:
            out.append(data[last:s])
            out.append(_REPLACEMENT)
            last = s + 6
            count += 1
    if not count:
        return (data if cut == len(data) else data[:cut]), 0, cut
    out.append(data[last:cut])
    return b"".join(out), count, cut


def _escaped_backslash(data: bytes, s: int) -> bool:
    """True when the backslash at ``s`` is itself escaped (an odd run of backslashes before it)."""
    j = s
    while j > 0 and data[j - 1] == 0x5C:
        j -= 1
    return (s - j) % 2 == 1


class SurrogateFilter(RewindOnly):
    """A binary stream of a JSON report with its lone surrogate escapes replaced (module
    docstring). :meth:`read` may return fewer bytes than asked (a raw stream's read). Supports
    ``seek(0)``."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__(raw)
        self._start = raw.tell()
        self._find = finder()
        self.replaced = 0
        self._reset()

    def _reset(self) -> None:
        self._raw.seek(self._start)
        self._pending = b""
        self._out = b""
        self._off = 0
        self._eof = False
        self._pos = 0
        self._pass_replaced = 0

    def _more(self) -> None:
        block = self._raw.read(BLOCK)
        self._eof = not block
        data = self._pending + block if self._pending else block
        done, n, cut = replace_lone(data, final=self._eof, find=self._find)
        self._pending = data[cut:] if cut < len(data) else b""
        if n:
            self._pass_replaced += n
            self.replaced = max(self.replaced, self._pass_replaced)
        self._out = self._out[self._off:] + done if self._off < len(self._out) else done
        self._off = 0

    def read(self, size: int | None = -1) -> bytes:
        if size is not None and size > BLOCK:  # a reader growing its window: give it all it asks
            chunks = []
            while size > 0 and (piece := self._read_some(size)):
                chunks.append(piece)
                size -= len(piece)
            return b"".join(chunks)
        return self._read_some(size)

    def _read_some(self, size: int | None) -> bytes:
        while self._off >= len(self._out) and not self._eof:
            self._more()
        if size is None or size < 0:
            chunks = [self._out[self._off:]]
            self._out, self._off = b"", 0
            while not self._eof:
                self._more()
                chunks.append(self._out)
                self._out, self._off = b"", 0
            data = b"".join(chunks)
        elif self._off == 0 and len(self._out) <= size:
            data, self._out = self._out, b""  # the whole block, not copied
        else:
            data = self._out[self._off:self._off + size]
            self._off += len(data)
        self._pos += len(data)
        return data

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
