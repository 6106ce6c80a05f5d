"""Hardened streaming XML: no DTDs, no entities, no network, no file reads, bounded elements.

Two hardened parsers, and no other XML parsing anywhere: the tree-based formats (NUnit, xUnit.net,
TRX, Cobertura, JaCoCo) use :func:`iterparse` (lxml) here; JUnit uses
:mod:`aqe_ci.ingest.stream.safeexpat` (the standard library's expat with callbacks, no tree — the fast
path). Both start with :func:`check_prolog`: a document type declaration in the prolog is rejected
before any parser sees the file, so XXE, external entities and entity bombs ("billion laughs")
never expand. Second line of defence: lxml runs with ``resolve_entities=False``,
``no_network=True``, ``load_dtd=False`` and ``huge_tree=False``; the expat parser refuses every DTD
construct in its handlers and never parses parameter entities. Coverage formats may opt in to
tolerate exactly one DOCTYPE that only names an external DTD by PUBLIC/SYSTEM id (JaCoCo and
Cobertura producers write one); that DTD is never loaded (see :func:`check_prolog`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.stream.opener import open_report

_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
PROLOG_SCAN = 1 << 20
_WS = b" \t\r\n"
_NAME = rb"[A-Za-z_:][-A-Za-z0-9_.:]*"
_QUOTED = rb"(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')"
#: ``<!DOCTYPE name>``, ``<!DOCTYPE name SYSTEM "uri">``, ``<!DOCTYPE name PUBLIC "id" "uri">`` and
#: nothing else: no internal subset (``[...]``), hence no ENTITY/ATTLIST declarations.
_EXTERNAL_ID_DOCTYPE = re.compile(
    rb"<!DOCTYPE[ \t\r\n]+" + _NAME
    + rb"(?:[ \t\r\n]+(?:SYSTEM[ \t\r\n]+" + _QUOTED + rb"|PUBLIC[ \t\r\n]+" + _QUOTED + rb"[ \t\r\n]+" + _QUOTED + rb"))?"
    + rb"[ \t\r\n]*>")


def _prolog_bytes(head: bytes) -> bytes:
    """The head as ASCII-compatible bytes: UTF-16 is transcoded so the scan cannot be dodged."""
    if head.startswith((b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00")):
        raise ReportError("UTF-32 XML is not supported")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:2] in (b"<\x00", b"\x00<"):
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            enc = "utf-16"
        else:
            enc = "utf-16-le" if head[:2] == b"<\x00" else "utf-16-be"
        return head.decode(enc, errors="ignore").encode("utf-8", errors="replace")
    if head.startswith(b"\xef\xbb\xbf"):
        return head[3:]
    return head


def check_prolog(path: Path, *, allow_external_doctype: bool = False) -> bytes:
    """Reject DTDs/entities in the prolog (the bytes before the root element, up to 1 MiB).

    Returns the bytes it read (the file's first :data:`PROLOG_SCAN`), so a parser can take its head
    from them instead of reading the file again.

    The prolog is tokenised (XML declaration, comments, processing instructions, DOCTYPE), so a
    ``<`` inside a comment cannot end the scan early. Any ``<!DOCTYPE`` or ``<!ENTITY`` is rejected,
    unless ``allow_external_doctype``: then exactly one DOCTYPE carrying only a name and
    PUBLIC/SYSTEM identifiers (JaCoCo's ``<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN"
    "report.dtd">``, Cobertura's ``coverage-04.dtd``) is tolerated. Its DTD is never loaded: lxml
    runs with ``load_dtd=False, no_network=True, resolve_entities=False``. An internal subset
    (``[``), any ENTITY declaration, a second DOCTYPE or other markup declarations stay rejected.
    """
    with open_report(path, "xml") as f:
        raw = f.read(PROLOG_SCAN)
    head = _prolog_bytes(raw)
    pos, n = 0, len(head)
    seen_doctype = False
    line, counted = 1, 0  # line number of ``pos``, newlines counted up to ``counted`` (linear scan)
    while True:
        while pos < n and head[pos] in _WS:
            pos += 1
        if pos >= n:
            if len(raw) >= PROLOG_SCAN:
                raise ReportError(f"no root element in the first {PROLOG_SCAN} bytes")
            return raw  # an empty or truncated document: the parser reports it
        line += head.count(b"\n", counted, pos)
        counted = pos
        if head.startswith(b"<?", pos):
            end = head.find(b"?>", pos + 2)
            if end < 0:
                return raw  # unterminated: lxml reports the syntax error
            pos = end + 2
        elif head.startswith(b"<!--", pos):
            end = head.find(b"-->", pos + 4)
            if end < 0:
                return raw
            pos = end + 3
        elif head[pos:pos + 9].upper() == b"<!DOCTYPE":
            m = _EXTERNAL_ID_DOCTYPE.match(head, pos)
            if not allow_external_doctype or seen_doctype or m is None or _ENTITY.search(head, pos, m.end() if m else n):
                raise ReportError("XML document type declarations (DTD/ENTITY) are not allowed", line=line)
            seen_doctype = True
            pos = m.end()
        elif head.startswith(b"<!", pos):
            raise ReportError("XML document type declarations (DTD/ENTITY) are not allowed", line=line)
        else:
            return raw  # the root element (or text lxml will reject)


def iterparse(path: Path, *, events: tuple[str, ...] = ("end",), tag: Any = None,
              allow_external_doctype: bool = False, prolog_checked: bool = False) -> Iterator[tuple[str, Any]]:
    """lxml iterparse with every dangerous feature off; parse errors become ReportError with the line.

    ``allow_external_doctype``: see :func:`check_prolog` (coverage formats whose producers write a
    PUBLIC/SYSTEM DOCTYPE); the DTD is still never loaded. ``prolog_checked``: the caller ran
    :func:`check_prolog` on this file already (the lxml settings above stay the second line).
    """
    from lxml import etree

    if not prolog_checked:
        check_prolog(path, allow_external_doctype=allow_external_doctype)
    kwargs: dict[str, Any] = {
        "events": events, "resolve_entities": False, "no_network": True, "load_dtd": False,
        "dtd_validation": False, "huge_tree": False, "remove_comments": True, "remove_pis": True,
        "recover": False,
    }
    if tag is not None:
        kwargs["tag"] = tag
    # we own the file handle, so it is closed even when the consumer stops early or raises
    with open_report(path, "xml") as source:
        context = etree.iterparse(source, **kwargs)
        try:
            yield from context
        except etree.XMLSyntaxError as exc:
            raise _malformed(exc) from None


def free_finished(el: Any) -> None:
    """Free a finished element of an :func:`iterparse` stream and its earlier siblings (already
    read): memory stays bounded by the open elements. A root element has nothing to free."""
    el.clear()
    parent = el.getparent()
    if parent is None:
        return
    prev = el.getprevious()
    while prev is not None:
        parent.remove(prev)
        prev = el.getprevious()


def _malformed(exc: Any) -> ReportError:
    """An lxml ``XMLSyntaxError`` as ``ReportError("malformed XML: …", line=N)``."""
    line = exc.position[0] if getattr(exc, "position", None) else None
    msg = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
    return ReportError(f"malformed XML: {msg}", line=line)


class WellFormed:
    """A callback-free libxml2 push parser: well-formedness only, hardened like :func:`iterparse`.

    ``feed`` chunks, then ``close``; a syntax error raises ``ReportError("malformed XML: …", line=N)``.
    The prolog is checked by :func:`check_prolog` on construction. With no parser-target callbacks
    libxml2 builds nothing, so this costs a fraction of an iterparse pass; callers extract data
    from the same bytes themselves (``aqe_ci.ingest.coverage.cobertura_fast``).
    """

    def __init__(self, path: Path, *, allow_external_doctype: bool = False) -> None:
        from lxml import etree

        check_prolog(path, allow_external_doctype=allow_external_doctype)

        class _Nothing:
            def close(self) -> None:
                return None

        self._etree = etree
        # lxml calls only the callbacks a target has (none here: no Python call per event);
        # lxml-stubs' ParserTarget protocol lists them all as required
        self._parser = etree.XMLParser(target=_Nothing(),  # type: ignore[arg-type]
                                       resolve_entities=False, no_network=True, load_dtd=False,
                                       dtd_validation=False, huge_tree=False, recover=False)

    def feed(self, data: bytes) -> None:
        try:
            self._parser.feed(data)
        except self._etree.XMLSyntaxError as exc:
            raise _malformed(exc) from None

    def close(self) -> None:
        try:
            self._parser.close()
        except self._etree.XMLSyntaxError as exc:
            raise _malformed(exc) from None
