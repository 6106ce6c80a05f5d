"""Hardened streaming XML: no DTDs, no entities, no network, no file reads, bounded elements.

Two hardened parsers, and no other XML parsing anywhere: the tree-based formats (NUnit, xUnit.net,
TRX) use :func:`iterparse` (lxml) here; JUnit uses :mod:`aqe_ci.ingest.safeexpat` (the standard
library's expat with callbacks, no tree — the fast path). Both start with :func:`check_prolog`: a
document type declaration in the prolog is rejected before any parser sees the file, so XXE,
external entities and entity bombs ("billion laughs") never expand. Second line of defence: lxml
runs with ``resolve_entities=False``, ``no_network=True``, ``load_dtd=False`` and
``huge_tree=False``; the expat parser refuses every DTD construct in its handlers and never parses
parameter entities.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportError

_DOCTYPE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY = re.compile(rb"<!ENTITY", re.IGNORECASE)
_ROOT = re.compile(rb"<[A-Za-z_]")
PROLOG_SCAN = 1 << 20


def check_prolog(path: Path) -> None:
    """Reject DTDs/entities: scan the bytes before the root element (up to 1 MiB)."""
    with open(path, "rb") as f:
        head = f.read(PROLOG_SCAN)
    root = _ROOT.search(head)
    prolog = head[: root.start()] if root else head
    if _DOCTYPE.search(prolog) or _ENTITY.search(prolog):
        line = prolog[: (_DOCTYPE.search(prolog) or _ENTITY.search(prolog)).start()].count(b"\n") + 1  # type: ignore[union-attr]
        raise ReportError("XML document type declarations (DTD/ENTITY) are not allowed", line=line)


def iterparse(path: Path, *, events: tuple[str, ...] = ("end",), tag: Any = None) -> Iterator[tuple[str, Any]]:
    """lxml iterparse with every dangerous feature off; parse errors become ReportError with the line."""
    from lxml import etree

    check_prolog(path)
    kwargs: dict[str, Any] = dict(
        events=events, resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=True, remove_pis=True, recover=False,
    )
    if tag is not None:
        kwargs["tag"] = tag
    context = etree.iterparse(str(path), **kwargs)
    try:
        yield from context
    except etree.XMLSyntaxError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        msg = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        raise ReportError(f"malformed XML: {msg}", line=line) from None


def local_name(tag: Any) -> str:
    """``{ns}name`` → ``name`` (lxml comments/PIs have non-str tags → "")."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]
