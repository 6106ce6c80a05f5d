"""Cheap look at the start of an XML file: the root element's name and start tag, for detectors."""

from __future__ import annotations

import re

_BOMS = (b"\xef\xbb\xbf",)
_SKIP = re.compile(rb"\s*(?:<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^\[>]*(?:\[.*?\]\s*)?>)", re.S)
_START = re.compile(rb"<([A-Za-z_][\w.:-]*)([^>]*)>?", re.S)


def root_start(head: bytes) -> tuple[str, bytes] | None:
    """(local name of the root element, raw bytes of its start tag) or None if not XML-looking.

    Only UTF-8/ASCII-compatible heads are understood (UTF-16 reports are rare and rejected with a
    clear message by the parsers' encoding check).
    """
    pos = 0
    for bom in _BOMS:
        if head.startswith(bom):
            pos = len(bom)
    while True:
        m = _SKIP.match(head, pos)
        if not m:
            break
        pos = m.end()
    while pos < len(head) and head[pos:pos + 1].isspace():
        pos += 1
    m = _START.match(head, pos)
    if not m:
        return None
    name = m.group(1).decode("ascii", "replace")
    return name.rsplit(":", 1)[-1], m.group(0)
