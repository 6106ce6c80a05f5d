"""Hardened streaming XML on the standard library's expat (``pyexpat``): callbacks, no tree.

The fast path for formats whose parser builds its items straight from SAX-style events (JUnit).
Same guarantees as :mod:`aqe_ci.ingest.stream.safexml`, enforced in three layers:

1. :func:`aqe_ci.ingest.stream.safexml.check_prolog` rejects a ``<!DOCTYPE``/``<!ENTITY`` in the bytes
   before the root element (first 1 MiB) before expat sees the file;
2. the parser refuses any DTD construct at handler level: ``StartDoctypeDeclHandler``,
   ``EntityDeclHandler``, ``UnparsedEntityDeclHandler``, ``NotationDeclHandler``,
   ``ElementDeclHandler``, ``AttlistDeclHandler``, ``ExternalEntityRefHandler`` and
   ``SkippedEntityHandler`` all raise :class:`ReportError`, which stops expat at once — so a DTD
   hidden after a megabyte of comments is refused too, before any declaration takes effect;
3. parameter entities are never parsed (``XML_PARAM_ENTITY_PARSING_NEVER``) and no foreign DTD is
   used; expat itself never opens files or sockets (external entities are only ever loaded by an
   ``ExternalEntityRefHandler``, and ours raises). Undeclared entity references are expat errors.
   XInclude is not an expat feature: ``xi:include`` is an ordinary element to it.

The file is fed in 1 MiB chunks; memory is expat's buffer plus whatever the handlers keep.
Well-formedness errors become ``ReportError("malformed XML: …", line=N)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.parsers import expat

from aqe_ci.ingest.base import ReportError
from aqe_ci.ingest.stream.opener import open_report
from aqe_ci.ingest.stream.safexml import check_prolog

CHUNK = 1 << 18
#: namespace-aware parsers report ``"{uri} {local}"`` as ``"uri local"`` (a URI has no space)
NS_SEPARATOR = " "
DTD_REFUSED = "XML document type declarations (DTD/ENTITY) are not allowed"
_DTD_HANDLERS = (
    "StartDoctypeDeclHandler", "EntityDeclHandler", "UnparsedEntityDeclHandler", "NotationDeclHandler",
    "ElementDeclHandler", "AttlistDeclHandler", "ExternalEntityRefHandler", "SkippedEntityHandler",
)


def create_parser(*, namespaces: bool = True, text_buffer: int = 1 << 16) -> Any:
    """An expat parser with every DTD/entity door shut (see the module docstring).

    ``namespaces``: element and attribute names arrive as ``"uri local"`` (or ``"local"`` when in
    no namespace) and ``xmlns`` attributes are consumed; an unbound prefix is a well-formedness error.
    """
    p = expat.ParserCreate(None, NS_SEPARATOR) if namespaces else expat.ParserCreate()

    def refuse(*_: Any) -> Any:
        raise ReportError(DTD_REFUSED, line=p.CurrentLineNumber)

    for name in _DTD_HANDLERS:
        setattr(p, name, refuse)
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    p.UseForeignDTD(False)
    p.buffer_text = True
    p.buffer_size = text_buffer
    return p


def create_fast_parser(module: Any, run: Any, ids: set[int], dups: set[int], *, project_hosts: bool = False,
                       text_buffer: int = 1 << 16, inline_bytes: int = 0) -> Any:
    """The JUnit accelerator's parser (``aqe_ci.ingest.tests._junit_c.Scanner``): a namespace-aware stand-in for
    :func:`create_parser`'s (same expat, same handler and text-buffer behaviour) that writes plain
    passing test cases itself (see the C module's comment).

    Its DTD gate: a DOCTYPE's start is refused (:class:`ReportError` with the same line), and every
    other DTD construct can only follow one. The interpreter's expat C API gives no way to install
    the entity/notation/element/attlist handlers or to stop a parse inside a handler, so after the
    refusal expat may still tokenise the rest of the current chunk (at most :data:`CHUNK` bytes) while
    every event is ignored: nothing is fetched (no external-entity handler is installed, parameter
    entities are never parsed) and expat's own amplification limit bounds any expansion. The
    byte-level :func:`~aqe_ci.ingest.stream.safexml.check_prolog` before it is unchanged.
    """
    p = module.Scanner(run, ids, dups, project_hosts, text_buffer, inline_bytes)

    def refuse(*_: Any) -> Any:
        raise ReportError(DTD_REFUSED, line=p.CurrentLineNumber)

    p.StartDoctypeDeclHandler = refuse
    return p


def parse_file(parser: Any, path: Path, *, prolog_checked: bool = False) -> None:
    """Check the prolog (unless the caller did: ``prolog_checked``), then feed ``path`` to ``parser``
    in chunks; expat errors → ReportError."""
    if not prolog_checked:
        check_prolog(path)
    try:
        with open_report(path, "xml") as f:
            parse = parser.Parse
            while chunk := f.read(CHUNK):
                parse(chunk, False)
            parse(b"", True)
    except expat.ExpatError as exc:
        raise ReportError(f"malformed XML: {expat.ErrorString(exc.code)} (line {exc.lineno}, column "
                          f"{exc.offset + 1})", line=exc.lineno) from None
    except LookupError:  # the XML declaration names an encoding Python has no codec for
        raise ReportError("malformed XML: the XML declaration names an unknown encoding",
                          line=parser.CurrentLineNumber) from None
