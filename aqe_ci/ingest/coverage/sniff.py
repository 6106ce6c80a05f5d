"""Cheap content sniffing shared by the coverage detectors (no parsing, first 64 KiB only)."""

from __future__ import annotations

import re

_WS = b" \t\r\n"
_TAG = re.compile(rb"<([A-Za-z_][-A-Za-z0-9_.:]*)([^<>]*)>?")


def text_head(head: bytes) -> bytes:
    """Drop a UTF-8 BOM and leading whitespace."""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip(_WS)


def xml_root(head: bytes) -> tuple[str, bytes, int] | None:
    """(name, attribute text, offset) of the root element's start tag, or None if not XML-like.

    Skips the XML declaration, comments, processing instructions and a DOCTYPE; anything else
    before the first element means "not XML".
    """
    h = text_head(head)
    pos, n = 0, len(h)
    while pos < n:
        while pos < n and h[pos] in _WS:
            pos += 1
        if pos >= n:
            return None
        if h.startswith(b"<?", pos):
            term = b"?>"
        elif h.startswith(b"<!--", pos):
            term = b"-->"
        elif h.startswith(b"<!", pos):
            term = b">"
        else:
            m = _TAG.match(h, pos)
            if m is None:
                return None
            local = m.group(1).split(b":")[-1].decode("ascii")
            return local, m.group(2), m.end()
        end = h.find(term, pos + 2)
        if end < 0:
            return None
        pos = end + len(term)
    return None


def attr(attrs: bytes, name: bytes) -> bytes | None:
    m = re.search(rb"(?:^|[\s])" + re.escape(name) + rb"\s*=\s*(\"[^\"]*\"|'[^']*')", attrs)
    return m.group(1)[1:-1] if m else None
