"""Qt Test (QTestLib) XML (``-o file.xml,xml`` / ``-xml``) → ``test_results``.

Root ``<TestCase name="tst_Class">``; each ``<TestFunction>`` holds ``<Incident type=...>`` (pass,
fail, xfail, xpass, skip, and the blacklisted bpass/bfail/bxpass/bxfail) and ``<Message
type=...>`` (skip, qfatal, qwarn, qdebug, info, …), each with an optional ``<DataTag>``. One test
per function, or per data row of a data-driven function (``function(tag)``): fail/xpass → failed,
a ``qfatal`` message → error, skip (Qt 6 incident, Qt 5 message) → skipped, blacklisted results →
skipped ("blacklisted"), pass/xfail → passed. ``<Duration msecs>`` of a function goes to its test
when it has one row. Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, child_text, emit, local, source_line
from aqe_ci.ingest.tests.junit import seconds

_INCIDENT = {"pass": "passed", "xfail": "passed", "fail": "failed", "xpass": "failed", "skip": "skipped",
             "bpass": "blacklisted", "bfail": "blacklisted", "bxpass": "blacklisted", "bxfail": "blacklisted"}
_RANK = {"passed": 0, "blacklisted": 1, "skipped": 2, "failed": 3, "error": 4}
_OUT = ("qdebug", "info", "qinfo", "system")
_ERR = ("qwarn", "warn", "qcritical")


class QTestParser(ReportParser):
    format = "qtestlib"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] == "TestCase" and (b"<TestFunction" in head or b"<QtVersion" in head)

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        check_root(path, ("TestCase",), "Qt Test XML")
        writer.set_dialect("qtestlib", "Qt Test")
        case = ""
        for event, el in safexml.iterparse(path, events=("start", "end"), tag=("TestCase", "TestFunction", "Duration"),
                                           prolog_checked=True):
            if event == "start":
                if el.tag == "TestCase":
                    case = el.get("name") or ""
                continue
            parent = el.getparent()
            if el.tag == "TestFunction":
                for t in _function(el, case):
                    emit(writer, t)
                safexml.free_finished(el)
            elif el.tag == "Duration" and parent is not None and parent.tag == "TestCase":
                writer.add_duration(_msecs(el.get("msecs")))
        writer.add_suite()


class _Row:
    __slots__ = ("status", "message", "details", "file", "line", "out", "err")

    def __init__(self) -> None:
        self.status = "passed"
        self.message: str | None = None
        self.details: list[str] = []
        self.file: str | None = None
        self.line: int | None = None
        self.out: list[str] = []
        self.err: list[str] = []

    def verdict(self, status: str, el: Any, text: str) -> None:
        """The worst result of the row decides; its first message is kept."""
        if _RANK[status] <= _RANK[self.status]:
            return
        self.status = status
        self.message = text.strip().splitlines()[0] if text.strip() else None
        self.file = el.get("file") or None
        self.line = source_line(el.get("line")) or None


def _function(el: Any, case: str) -> list[Test]:
    name = el.get("name") or ""
    rows: dict[str | None, _Row] = {}
    duration = None
    for c in el:
        tag = local(c.tag)
        if tag == "Duration":
            duration = _msecs(c.get("msecs"))
        elif tag in ("Incident", "Message"):
            _record(rows, c, tag)
    if len(rows) > 1 and None in rows and rows[None].status == "passed":
        del rows[None]  # the function's own pass next to its data rows
    if not rows:
        rows[None] = _Row()
    tests = []
    for data_tag, row in rows.items():
        t = Test(case, case, name if data_tag is None else f"{name}({data_tag})", row.status)
        if row.status == "blacklisted":
            t.status, row.message = "skipped", f"blacklisted{': ' + row.message if row.message else ''}"
        t.message, t.file, t.line = row.message, row.file, row.line
        t.details = "\n".join(row.details) or None
        t.stdout, t.stderr = "\n".join(row.out) or None, "\n".join(row.err) or None
        t.duration = duration if len(rows) == 1 else None
        tests.append(t)
    return tests


def _record(rows: dict[str | None, _Row], c: Any, tag: str) -> None:
    kind = (c.get("type") or "").strip().lower()
    data_tag = child_text(c, "DataTag")
    row = rows.get(data_tag)
    if row is None:
        row = rows[data_tag] = _Row()
    text = child_text(c, "Description") or ""
    if tag == "Incident":
        status = _INCIDENT.get(kind, "failed")
    elif kind == "skip":
        status = "skipped"
    elif kind == "qfatal":
        status = "error"
    else:
        (row.err if kind in _ERR else row.out).append(text.strip())
        return
    row.verdict(status, c, text)
    if status != "passed" and text.strip():
        where = f"{c.get('file')}:{c.get('line')}: " if c.get("file") else ""
        row.details.append(where + text.strip())


def _msecs(value: str | None) -> float | None:
    ms = seconds(value)
    return None if ms is None else ms / 1000
