"""UnitTest++'s ``XmlTestReporter`` → ``test_results``.

Root ``<unittest-results tests failedtests failures time>``; a ``<test suite name time>`` per test
(seconds), failed when it holds ``<failure message="file(line) : text"/>`` elements (every one is
kept in the details, the first gives the message, file and line). Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, emit, local, source_line
from aqe_ci.ingest.tests.junit import seconds

_WHERE = re.compile(r"(.+?)\((\d+)\) ?: ?(.*)", re.S)


class UnitTestPPParser(ReportParser):
    format = "unittest++"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] == "unittest-results"

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        check_root(path, ("unittest-results",), "UnitTest++ XML")
        writer.set_dialect("unittest++", "UnitTest++")
        suites: set[str] = set()
        root_time = None
        for _, el in safexml.iterparse(path, events=("end",), tag=("test", "unittest-results"), prolog_checked=True):
            if el.tag == "unittest-results":
                root_time = seconds(el.get("time"))
                continue
            t = _test(el)
            suites.add(t.suite)
            emit(writer, t)
            safexml.free_finished(el)
        writer.add_suite(count=len(suites))
        writer.add_duration(root_time)


def _test(el: Any) -> Test:
    suite = el.get("suite") or ""
    t = Test(suite, suite, el.get("name") or "")
    t.duration = seconds(el.get("time"))
    messages = [c.get("message") or "" for c in el if local(c.tag) == "failure"]
    if messages:
        t.status = "failed"
        t.details = "\n".join(messages)
        m = _WHERE.fullmatch(messages[0])
        if m is not None:
            t.file, t.line, t.message = m.group(1), source_line(m.group(2)), m.group(3) or None
        else:
            t.message = messages[0] or None
    return t
