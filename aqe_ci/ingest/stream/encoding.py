"""Which encoding a report is in, and a streaming UTF-16/UTF-32 → UTF-8 transcoder.

Windows and .NET tools write UTF-16 (PowerShell's ``>`` redirection, some TRX and NUnit writers),
rarely UTF-32. Every parser reads UTF-8 (or an ASCII-compatible encoding expat knows), so such a
file is transcoded while it is read: chunk by chunk through an incremental decoder, memory bounded
by one chunk. Lone (unpaired) surrogates in the input become U+FFFD and are counted. The XML
declaration's ``encoding=`` is rewritten to ``UTF-8`` so the XML parsers read what they get; line
breaks are kept, so line numbers in error messages are those of the file.
"""

from __future__ import annotations

import codecs
import re
from typing import BinaryIO

from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.stream.rewind import RewindOnly

#: (byte-order mark, codec), longest first: the UTF-32 LE mark starts with the UTF-16 LE one
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
)
_LONE = re.compile("[\ud800-\udfff]")
_XML_DECL_ENCODING = re.compile(r"""(<\?xml[^>]*?\bencoding\s*=\s*)(["'])[^"']*\2""")
CHUNK = 1 << 18


def _ascii(b: int) -> bool:
    return 0x09 <= b < 0x7F


def sniff(head: bytes) -> tuple[str, int] | None:
    """(codec, BOM length) of a UTF-16/UTF-32 report, None for UTF-8 and ASCII-compatible ones.

    A byte-order mark decides; without one, the zero bytes around the first ASCII character do
    (XML 1.0 appendix F, RFC 4627 section 3): ``<\\0?\\0`` is UTF-16 LE, ``\\0\\0\\0{`` UTF-32 BE.
    """
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec, len(bom)
    if len(head) < 4:
        return None
    b0, b1, b2, b3 = head[0], head[1], head[2], head[3]
    if b0 == b1 == b2 == 0 and _ascii(b3):
        return "utf-32-be", 0
    if _ascii(b0) and b1 == b2 == b3 == 0:
        return "utf-32-le", 0
    if b0 == 0 and b2 == 0 and _ascii(b1) and _ascii(b3):
        return "utf-16-be", 0
    if b1 == 0 and b3 == 0 and _ascii(b0) and _ascii(b2):
        return "utf-16-le", 0
    return None


def utf8_head(head: bytes) -> bytes:
    """The first bytes of a report as UTF-8 (for detection): transcoded when :func:`sniff` says
    UTF-16/UTF-32, else as they are. A character cut at the end is dropped."""
    found = sniff(head)
    if found is None:
        return head
    codec, skip = found
    decoder = codecs.getincrementaldecoder(codec)(errors="surrogatepass")
    try:
        text = decoder.decode(head[skip:], final=False)
    except UnicodeDecodeError:
        return head
    return _LONE.sub("\ufffd", _fix_declaration(text)).encode("utf-8")


def _fix_declaration(text: str) -> str:
    """``<?xml ... encoding="UTF-16"?>`` → ``encoding="UTF-8"`` (the bytes are UTF-8 now)."""
    if not text.startswith("<?xml"):
        return text
    end = text.find("?>", 0, 1024)
    if end < 0:
        return text
    decl = _XML_DECL_ENCODING.sub(lambda m: f"{m.group(1)}{m.group(2)}UTF-8{m.group(2)}", text[:end])
    return decl + text[end:]


class Transcoder(RewindOnly):
    """A binary stream of UTF-8 read from a UTF-16/UTF-32 one (see the module docstring).

    ``replaced`` counts the lone surrogates turned into U+FFFD so far. Supports ``seek(0)`` (the
    coverage.py reader reads a file in several passes).
    """

    what = "a transcoded report"

    def __init__(self, raw: BinaryIO, codec: str, bom: int) -> None:
        super().__init__(raw)
        self._codec = codec
        self._bom = bom
        self.replaced = 0
        self._reset()

    def _reset(self) -> None:
        self._raw.seek(self._bom)
        self._decoder = codecs.getincrementaldecoder(self._codec)(errors="surrogatepass")
        self._out = b""
        self._off = 0
        self._first = True
        self._eof = False
        self._pos = 0
        self._pass_replaced = 0

    def _more(self) -> None:
        raw = self._raw.read(CHUNK)
        try:
            text = self._decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as exc:
            raise ReportError(f"not valid {self._codec.upper()} text ({exc.reason})") from None
        if not raw:
            self._eof = True
        if self._first and text:
            self._first = False
            text = _fix_declaration(text)
        if _LONE.search(text):
            text, n = _LONE.subn("\ufffd", text)
            self._pass_replaced += n
            self.replaced = max(self.replaced, self._pass_replaced)
        self._out = self._out[self._off:] + text.encode("utf-8")
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
