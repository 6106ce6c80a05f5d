"""Cobertura XML (coverage.py, istanbul, coverlet, gcovr, simplecov-cobertura, MATLAB, Java Cobertura).

Streams ``<class>`` elements with lxml iterparse (tag filter), reads their ``lines/line`` attributes
in bulk with compiled XPath (no per-line Python element objects), hands each class to the writer
and frees it at once, so memory stays flat whatever the report size. Lines under
``methods/method/lines`` repeat the class lines and are not counted again.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest import safexml
from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, too_many_digits
from aqe_ci.ingest.coverage.sniff import attr, xml_root
from aqe_ci.ingest.coverage_writer import MAX_HITS, percent_or_none

_CONDITION = re.compile(r"\(\s*(\d{1,30})\s*/\s*(\d{1,30})\s*\)")
#: one "(c/v)" per NUL-separated value, and only one: more or fewer sends us to the careful path
_CONDITION_ALL = re.compile(r"(?:^|\x00)[^\x00(]*\(\s*(\d+)\s*/\s*(\d+)\s*\)[^\x00(]*(?=\x00|$)")


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


def _int(text: str | None, what: str, line: int | None) -> int:
    if text is None:
        raise ReportError(f"<line> without a {what} attribute", line=line)
    try:
        return int(text)
    except ValueError as exc:
        if too_many_digits(exc):
            raise ReportError(f"<line> {what}: {'line number' if what == 'number' else what} is out of range",
                              line=line) from None
        try:
            f = float(text)
        except ValueError:
            raise ReportError(f"<line> {what}={text[:40]!r} is not a number", line=line) from None
        if f != f or f in (float("inf"), float("-inf")) or f != int(f):
            raise ReportError(f"<line> {what}={text[:40]!r} is not a whole number", line=line) from None
        return int(f)


def _is_positive(text: str | None) -> bool:
    if not text:
        return False
    try:
        return float(text) > 0
    except ValueError:
        return False


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
                lines.append(_int(line_el.get("number"), "number", line_el.sourceline))
                hits.append(_int(line_el.get("hits"), "hits", line_el.sourceline))
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


def root_details(writer: Any, get: Callable[[str], str | None]) -> bool:
    """``<coverage>``'s attributes (``get``) → the writer's source details; True in branch mode
    (``branches-valid`` > 0: classes without condition-coverage then report 0 branches, not none).
    """
    bv = get("branches-valid")
    branch_mode = bool(bv and bv.isdigit() and bv.strip("0"))
    version = (get("version") or "").strip()
    producer = None
    if version:
        producer = version if re.search(r"[A-Za-z]", version) else f"Cobertura writer version {version}"
    writer.set_source_details(
        producer=producer,
        reported_line_rate=percent_or_none(get("line-rate"), fraction=True),
        reported_branch_rate=percent_or_none(get("branch-rate"), fraction=True) if branch_mode else None)
    return branch_mode


def method_covered(hits: str | None, line_rate: str | None, line_hits: list[str]) -> bool:
    """A ``<method>`` counts as covered when its hits, any of its lines' hits or its line-rate is > 0."""
    return _is_positive(hits) or any(map(_is_positive, line_hits)) or _is_positive(line_rate)


def _branch(branches: dict[int, tuple[int, int]], ln: int, c: int, v: int, filename: str, line: int | None) -> None:
    if c > v:
        raise ReportError(f"{filename}: condition-coverage of line {ln} covers {c} of {v} branches", line=line)
    old = branches.get(ln)
    branches[ln] = (c, v) if old is None else (max(c, old[0]), max(v, old[1]))


def emit_class(writer: Any, filename: str, lines: list[int], hits: list[int], cc_numbers: list[str], cc: list[str],
               functions: tuple[int, int] | None, branch_mode: bool, line: int | None) -> None:
    """One ``<class>``'s extracted values → ``writer.add_file`` (shared by the lxml and the fast parser).

    ``lines``/``hits``: ``lines/line/@number``/``@hits`` as ints; ``cc``: the
    ``lines/line/@condition-coverage`` values and ``cc_numbers`` the numbers of those lines (strings,
    as XML gives them); ``functions``: ``(methods, covered methods)`` or None; ``line``: the class's
    source line for error messages.
    """
    if lines and min(lines) < 0:
        raise ReportError(f"{filename}: negative line number", line=line)
    if hits and (min(hits) < 0 or max(hits) > MAX_HITS):
        hits = [0 if h < 0 else min(h, MAX_HITS) for h in hits]
    branches = class_branches(filename, cc_numbers, cc, branch_mode, line)
    writer.add_file(filename, lines, hits, branches=branches, functions=functions, split=True, exact_ints=True)


def class_branches(filename: str, cc_numbers: list[str], cc: list[str], branch_mode: bool,
                   line: int | None) -> dict[int, tuple[int, int]] | None:
    """``{line: (covered, valid)}`` from the condition-coverage values (None: no branch data)."""
    branches: dict[int, tuple[int, int]] | None = {} if branch_mode else None
    if cc:
        if branches is None:
            branches = {}
        # fast path: every value has its "(c/v)", found by one regex pass over them all
        pairs = _CONDITION_ALL.findall("\x00".join(cc))
        if len(pairs) == len(cc) and all(map(str.isdigit, cc_numbers)) and max(map(len, cc_numbers)) <= 10 \
                and all(len(c) <= 30 and len(v) <= 30 for c, v in pairs):
            for num, (c_text, v_text) in zip(cc_numbers, pairs, strict=True):
                _branch(branches, int(num), int(c_text), int(v_text), filename, line)
        else:
            for num, text in zip(cc_numbers, cc, strict=True):
                m = _CONDITION.search(text)
                if m is None:
                    continue  # no "(covered/valid)": no usable branch figure
                _branch(branches, _int(num, "number", line), int(m.group(1)), int(m.group(2)), filename, line)
    return branches
