"""CppUnit's ``XmlOutputter`` → ``test_results``.

Root ``<TestRun>`` (TRX shares the name, but always in the TeamTest namespace) with
``<FailedTests><FailedTest>`` (``<FailureType>`` ``Assertion`` → failed, ``Error`` → error;
``<Message>``, ``<Location><File>/<Line>``) and ``<SuccessfulTests><Test>``; a test's ``<Name>``
``Fixture::method`` gives classname and suite ``Fixture``, name ``method``. CppUnit writes no
durations. Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, child, child_text, emit, source_line
from aqe_ci.ingest.tests.junit import first_line


class CppUnitParser(ReportParser):
    format = "cppunit"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return (root is not None and root[0] == "TestRun" and b"TeamTest" not in root[1] and b"xmlns" not in root[1]
                and (b"<FailedTests" in head or b"<SuccessfulTests" in head or b"<Statistics" in head))

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        check_root(path, ("TestRun",), "CppUnit XML")
        writer.set_dialect("cppunit", "CppUnit")
        fixtures: set[str] = set()
        for _, el in safexml.iterparse(path, events=("end",), tag=("FailedTest", "Test"), prolog_checked=True):
            parent = el.getparent()
            if el.tag == "FailedTest" or (parent is not None and parent.tag == "SuccessfulTests"):
                t = _test(el)
                fixtures.add(t.suite)
                emit(writer, t)
            safexml.free_finished(el)
        writer.add_suite(count=len(fixtures))


def _test(el: Any) -> Test:
    full = (child_text(el, "Name") or "").strip()
    fixture, sep, method = full.rpartition("::")
    t = Test(fixture, fixture, method if sep else full)
    if el.tag != "FailedTest":
        return t
    kind = (child_text(el, "FailureType") or "").strip()
    t.status = "error" if kind.lower() == "error" else "failed"
    t.ftype = kind or None
    message = (child_text(el, "Message") or "").strip()
    location = child(el, "Location")
    where = ""
    if location is not None:
        t.file = (child_text(location, "File") or "").strip() or None
        t.line = source_line(child_text(location, "Line"))
        where = f"{t.file or '?'}:{t.line}" if t.line is not None else (t.file or "")
    t.details = "\n".join(x for x in (message, f"at {where}" if where else "") if x) or None
    t.message = first_line(message)
    return t
