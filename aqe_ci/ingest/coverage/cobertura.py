"""Cobertura XML (coverage.py, istanbul, coverlet, gcovr, simplecov-cobertura, MATLAB, Java Cobertura).

Streams ``<class>`` elements with lxml iterparse (tag filter), reads their ``lines/line`` attributes
in bulk with compiled XPath (no per-line Python element objects), hands each class to the writer
and frees it at once, so memory stays flat whatever the report size. Lines under
``methods/method/lines`` repeat the class lines and are not counted again.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.coverage.cobertura_common import emit_class, int_value, method_covered, root_details
from aqe_ci.ingest.coverage.sniff import attr, xml_root
from aqe_ci.ingest.stream import safexml


@cache
def _xpaths() -> dict[str, Any]:
    from lxml import etree

    def xp(expr: str) -> Any:
        return etree.XPath(expr, smart_strings=False)

    return {
        "number": xp("lines/line/@number"),
        "hits": xp("lines/line/@hits"),
        "cc": xp("lines/line/@condition-coverage"),
        "cc_number": xp("lines/line/@condition-coverage/../@number"),
        "lines": xp("lines/line"),
        "methods": xp("methods/method"),
    }


class CoberturaParser(ReportParser):
    format: ClassVar[str] = "cobertura"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = xml_root(head)
        if root is None or root[0] != "coverage":
            return False
        attrs = root[1]
        if attr(attrs, b"clover") is not None or b"<project" in head:
            return False  # Clover also uses <coverage>, with <project> children
        return (attr(attrs, b"line-rate") is not None or attr(attrs, b"lines-valid") is not None
                or b"<packages" in head)

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        from aqe_ci.ingest.coverage.cobertura_fast import Decline, FastCobertura

        try:
            FastCobertura(writer).run(path)
            return
        except Decline:
            # the fast reader met a shape it cannot vouch for: start over with the reference parser
            writer.rollback_source()
            writer.begin_source(source)
        self.parse_lxml(path, writer)

    def parse_lxml(self, path: Path, writer: Any) -> None:
        """The reference reader: lxml iterparse per ``<class>`` (used when the fast reader declines)."""
        x = _xpaths()
        saw_root = False
        branch_mode = False
        for event, el in safexml.iterparse(path, events=("start", "end"), tag=("coverage", "package", "class"),
                                           allow_external_doctype=True):
            tag = el.tag
            if tag == "coverage":
                if event == "start":
                    if saw_root or el.getparent() is not None:
                        raise ReportError("<coverage> is not the root element", line=el.sourceline)
                    saw_root = True
                    branch_mode = root_details(writer, el.get)
            elif event == "end":  # a finished class or package: read it, then free it and its earlier siblings
                if tag == "class":
                    if not saw_root:
                        break
                    self._class(el, writer, x, branch_mode)
                safexml.free_finished(el)
        if not saw_root:
            raise ReportError("not a Cobertura report: the root element is not <coverage>")

    def _class(self, el: Any, writer: Any, x: dict[str, Any], branch_mode: bool) -> None:
        filename = el.get("filename")
        if not filename:
            raise ReportError("<class> without a filename attribute", line=el.sourceline)
        lines_el = el.find("lines")
        count = len(lines_el) if lines_el is not None else 0
        numbers = x["number"](el)
        hits_text = x["hits"](el)
        lines: list[int] | None = None
        hits: list[int] | None = None
        if len(numbers) == count and len(hits_text) == count:
            try:
                lines = list(map(int, numbers))
                hits = list(map(int, hits_text))
            except ValueError:
                lines = None
        if lines is None or hits is None:
            lines, hits = [], []
            for line_el in x["lines"](el):
                lines.append(int_value(line_el.get("number"), "number", line_el.sourceline))
                hits.append(int_value(line_el.get("hits"), "hits", line_el.sourceline))
        cc = x["cc"](el)
        cc_numbers = x["cc_number"](el) if cc else []
        if len(cc_numbers) != len(cc):
            raise ReportError(f"{filename}: a <line> with condition-coverage has no number", line=el.sourceline)
        functions = None
        methods = x["methods"](el)
        if methods:
            covered = sum(1 for m_el in methods
                          if method_covered(m_el.get("hits"), m_el.get("line-rate"), x["hits"](m_el)))
            functions = (len(methods), covered)
        emit_class(writer, filename, lines, hits, cc_numbers, cc, functions, branch_mode, el.sourceline)
