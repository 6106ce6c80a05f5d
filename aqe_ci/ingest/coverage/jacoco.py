"""JaCoCo XML (``jacoco:report``, Gradle ``jacocoTestReport``, aggregate and multi-module reports).

Files are the ``<sourcefile>`` elements: path = ``<package name>/<sourcefile name>`` (JaCoCo package
names already use ``/``). Per ``<line nr mi ci mb cb>``: executable when ``mi + ci > 0``, covered when
``ci > 0`` (hits are 1/0: JaCoCo records no execution counts), branches ``(cb, mb + cb)`` when
``mb + cb > 0``. Functions come from the sourcefile's ``METHOD`` counter. The report-level
``LINE``/``BRANCH`` counters are the producer's own totals, kept as the cross-check.

JaCoCo writes ``<!DOCTYPE report PUBLIC "-//JACOCO//DTD Report 1.1//EN" "report.dtd">``: that exact
shape (external id only, no internal subset) is tolerated and the DTD is never loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from aqe_ci.ingest.base import (
    LINE_OUT_OF_RANGE,
    MAX_LINE,
    ReportError,
    ReportParser,
    SourceInfo,
    too_many_digits,
)
from aqe_ci.ingest.coverage.sniff import attr, xml_root
from aqe_ci.ingest.coverage.writer import CoverageWriter, rate_or_null
from aqe_ci.ingest.stream import safexml


def _nonneg(el: Any, name: str) -> int:
    text = el.get(name)
    if text is None:
        return 0
    try:
        n = int(text)
    except ValueError:
        raise ReportError(f"<{el.tag}> {name}={text[:40]!r} is not a whole number", line=el.sourceline) from None
    if n < 0:
        raise ReportError(f"<{el.tag}> {name}={n} is negative", line=el.sourceline)
    return n


class JacocoParser(ReportParser):
    format: ClassVar[str] = "jacoco"
    doc_type: ClassVar[str] = "coverage"
    priority: ClassVar[int] = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = xml_root(head)
        if root is None or root[0] != "report":
            return False
        if b"-//JACOCO//DTD" in head[: root[2]]:
            return True
        rest = head[root[2]:]
        return (b"<sessioninfo" in rest or b'<counter type="' in rest or b"<sourcefile" in rest
                or (b"<package name=" in rest and attr(root[1], b"name") is not None))

    def parse(self, path: Path, writer: CoverageWriter, source: SourceInfo) -> None:
        saw_root = False
        package = ""
        for event, el in safexml.iterparse(path, events=("start", "end"),
                                           tag=("report", "package", "sourcefile", "class", "group"),
                                           allow_external_doctype=True):
            tag = el.tag
            if event == "start":
                if tag == "report" and not saw_root:
                    if el.getparent() is not None:
                        raise ReportError("<report> is not the root element", line=el.sourceline)
                    saw_root = True
                elif not saw_root:
                    raise ReportError("not a JaCoCo report: the root element is not <report>", line=el.sourceline)
                elif tag == "package":
                    package = el.get("name") or ""
                continue
            if tag == "sourcefile":
                self._sourcefile(el, package, writer)
                safexml.free_finished(el)
            elif tag in ("class", "package", "group"):
                safexml.free_finished(el)
            elif tag == "report" and el.getparent() is None:
                rates: dict[str, float | None] = {}
                for counter in el.iterchildren("counter"):
                    ctype = counter.get("type")
                    if ctype in ("LINE", "BRANCH"):
                        missed, covered = _nonneg(counter, "missed"), _nonneg(counter, "covered")
                        rates[ctype] = rate_or_null(covered, missed + covered)
                writer.set_source_details(producer="JaCoCo", reported_line_rate=rates.get("LINE"),
                                          reported_branch_rate=rates.get("BRANCH"))
        if not saw_root:
            raise ReportError("not a JaCoCo report: the root element is not <report>")

    @staticmethod
    def _sourcefile(el: Any, package: str, writer: CoverageWriter) -> None:
        name = el.get("name")
        if not name:
            raise ReportError("<sourcefile> without a name", line=el.sourceline)
        path = f"{package}/{name}" if package else name
        lines: list[int] = []
        hits: list[int] = []
        branches: dict[int, tuple[int, int]] = {}
        functions: tuple[int, int] | None = None
        for child in el:
            tag = child.tag
            if tag == "line":
                nr = child.get("nr")
                try:
                    ln = int(nr) if nr is not None else -1
                except ValueError as exc:
                    ln = MAX_LINE + 1 if too_many_digits(exc) else -1
                if ln > MAX_LINE:
                    raise ReportError(f"<line> nr: {LINE_OUT_OF_RANGE}", line=child.sourceline)
                if ln < 0:
                    raise ReportError(f"<line> nr={str(nr)[:40]!r} is not a line number", line=child.sourceline)
                mi, ci = _nonneg(child, "mi"), _nonneg(child, "ci")
                mb, cb = _nonneg(child, "mb"), _nonneg(child, "cb")
                if mi + ci > 0:
                    lines.append(ln)
                    hits.append(1 if ci > 0 else 0)
                if mb + cb > 0:
                    old = branches.get(ln)
                    branches[ln] = (cb, mb + cb) if old is None else (max(cb, old[0]), max(mb + cb, old[1]))
            elif tag == "counter" and child.get("type") == "METHOD":
                missed, covered = _nonneg(child, "missed"), _nonneg(child, "covered")
                functions = (missed + covered, covered)
        writer.add_file(path, lines, hits, branches=branches, functions=functions)
