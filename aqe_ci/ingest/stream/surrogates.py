"""Lone surrogate escapes in JSON (``"\\ud800"``) replaced by ``\\ufffd`` while a report is read.

JSON allows any ``\\uXXXX`` escape, so a report can spell a UTF-16 surrogate that has no partner.
Python decodes it into a string that cannot be encoded as UTF-8: stored, it would break every later
read (``get``, ``compare``, the gates) — a report could turn a failed gate into a crash. The filter
rewrites each such escape as ``\\ufffd`` (the replacement character) in the bytes, before any
decoder (the json module, the C scanners) sees them: the same length, so positions and line
numbers stay those of the file. A valid pair (``\\ud83d\\ude00``) and an escaped backslash followed
by ``ud800`` text are left alone. ``replaced`` counts what was rewritten.

Streaming: the last bytes of each block (an escape, a pair, a run of backslashes) are held back
until the next block decides them; the cost on a file without ``\\ud``/``\\uD`` is one search per
block.
"""

from __future__ import annotations

import io
import re
from typing import BinaryIO

_CANDIDATE = re.compile(rb"\\u[dD][0-9a-fA-F]{3}")
_LOW = re.compile(rb"\\u[dD][c-fC-F][0-9a-fA-F]{2}")
_REPLACEMENT = b"\\ufffd"
#: bytes kept back at a block's end: a high surrogate escape and its partner
_HOLD = 12
BLOCK = 1 << 20


def replace_lone(data: bytes, final: bool = True, skip: int = 0) -> tuple[bytes, int, int, int]:
    """(rewritten bytes up to the cut, count, cut, skip) for ``data``.

    Without ``final`` the cut leaves the last bytes undecided (``data[cut:]`` must be handed in
    again, first, with the next block); ``skip`` is where a paired low surrogate escape already
    judged with the previous block ends, relative to ``data``.
    """
    cut = len(data)
    if not final:
        cut = max(0, cut - _HOLD)
        while cut > 0 and data[cut - 1] == 0x5C:  # a run of backslashes stays in one piece
            cut -= 1
    if b"\\ud" not in data and b"\\uD" not in data:
        return data[:cut], 0, cut, 0
    out: list[bytes] = []
    last = count = 0
    for m in _CANDIDATE.finditer(data):
        s = m.start()
        if s >= cut:
            break
        if s < skip or _escaped_backslash(data, s):
            continue
        value = int(data[s + 2:s + 6], 16)
        if 0xD800 <= value <= 0xDBFF and _LOW.match(data, s + 6):
            skip = s + 12  # a valid pair: its low half is not lone
            continue
        if 0xD800 <= value <= 0xDFFF:
            out.append(data[last:s])
            out.append(_REPLACEMENT)
            last = s + 6
            count += 1
    if not count:
        return data[:cut], 0, cut, max(0, skip - cut)
    cut = max(cut, last)  # a replaced escape that reached past the cut is done
    out.append(data[last:cut])
    return b"".join(out), count, cut, max(0, skip - cut)


def _escaped_backslash(data: bytes, s: int) -> bool:
    """True when the backslash at ``s`` is itself escaped (an odd run of backslashes before it)."""
    j = s
    while j > 0 and data[j - 1] == 0x5C:
        j -= 1
    return (s - j) % 2 == 1


class SurrogateFilter(io.RawIOBase):
    """A binary stream of a JSON report with its lone surrogate escapes replaced (module
    docstring). Supports ``seek(0)``."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self._raw = raw
        self._start = raw.tell()
        self.replaced = 0
        self._reset()

    def _reset(self) -> None:
        self._raw.seek(self._start)
        self._pending = b""
        self._out = b""
        self._off = 0
        self._skip = 0
        self._eof = False
        self._pos = 0
        self._pass_replaced = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR and offset == 0:
            return self._pos
        if whence != io.SEEK_SET or offset != 0:
            raise io.UnsupportedOperation("a filtered report can only be rewound")
        self._reset()
        return 0

    def _more(self) -> None:
        block = self._raw.read(BLOCK)
        self._eof = not block
        data = self._pending + block if self._pending else block
        done, n, cut, self._skip = replace_lone(data, final=self._eof, skip=self._skip)
        self._pending = data[cut:]
        if n:
            self._pass_replaced += n
            self.replaced = max(self.replaced, self._pass_replaced)
        self._out = self._out[self._off:] + done if self._off < len(self._out) else done
        self._off = 0

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        want = len(buffer)
        while len(self._out) - self._off < want and not self._eof:
            self._more()
        n = min(want, len(self._out) - self._off)
        buffer[:n] = memoryview(self._out)[self._off:self._off + n]
        self._off += n
        self._pos += n
        return n

    def close(self) -> None:
        try:
            self._raw.close()
        finally:
            super().close()
