"""Check (libcheck, C) XML (``srunner_set_xml`` / ``CK_XML_LOG_FILE_NAME``) → ``test_results``.

Root ``<testsuites xmlns="http://check.sourceforge.net/ns">`` (a JUnit root name in Check's
namespace: detected before JUnit), ``<suite><title>`` and its ``<test result="success|failure|
error">`` with ``<fn>file.c:LINE</fn>``, ``<id>`` (the test function), ``<iteration>`` (loop
tests: ``id[N]`` for iterations other than 0), ``<duration>`` (seconds), ``<description>`` (the
TCase) and ``<message>``. Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, child_text, emit, source_line
from aqe_ci.ingest.tests.junit import seconds

NAMESPACE = "http://check.sourceforge.net/ns"
_STATUS = {"success": "passed", "failure": "failed", "error": "error"}


class CheckParser(ReportParser):
    format = "check"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] == "testsuites" and NAMESPACE.encode() in root[1]

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        check_root(path, ("testsuites",), "Check XML")
        writer.set_dialect("check", "Check")
        ns = "{" + NAMESPACE + "}"
        suite_el: Any = None
        suite = ""
        for _, el in safexml.iterparse(path, events=("end",), tag=(ns + "test", ns + "suite", ns + "duration"),
                                       prolog_checked=True):
            parent = el.getparent()
            if el.tag == ns + "test":
                if parent is not suite_el:  # the suite's first test: its <title> is still there
                    suite_el = parent
                    suite = (child_text(parent, "title") or "").strip() if parent is not None else ""
                emit(writer, _test(el, suite))
                safexml.free_finished(el)
            elif el.tag == ns + "suite":
                writer.add_suite()
                safexml.free_finished(el)
            elif parent is not None and parent.getparent() is None:  # the run's own <duration>
                writer.add_duration(seconds(el.text))


def _test(el: Any, suite: str) -> Test:
    name = (child_text(el, "id") or "").strip()
    iteration = (child_text(el, "iteration") or "").strip()
    if iteration and iteration != "0":
        name = f"{name}[{iteration}]"
    t = Test(suite, (child_text(el, "description") or "").strip(), name)
    result = (el.get("result") or "").strip().lower()
    t.status = _STATUS.get(result, "error")
    t.duration = seconds(child_text(el, "duration"))
    fn = (child_text(el, "fn") or "").strip()
    file, sep, line = fn.rpartition(":")
    if sep and file:
        where = (child_text(el, "path") or "").strip()
        t.file = file if where in ("", ".") else f"{where.rstrip('/')}/{file}"
        t.line = source_line(line)
    message = (child_text(el, "message") or "").strip()
    if t.status != "passed":
        t.message = message or None
        t.details = f"{fn}: {message}" if fn and message else message or None
    return t
