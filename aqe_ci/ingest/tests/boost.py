"""Boost.Test XML → ``test_results``: the log (``--log_format=XML``, root ``<TestLog>``) and the
report (``--report_format=XML --report_level=detailed``, root ``<TestResult>``).

Log: a ``<TestCase>`` is skipped when ``skipped="yes"``, an error with an ``<Exception>`` or
``<FatalError>``, failed with an ``<Error>``, else passed; ``<TestingTime>`` is in microseconds;
``<Message>`` texts become its output, ``<Warning>`` texts its error output. Report: the
``result`` attribute (passed, failed, aborted → error, skipped). Suites nest: a test's suite is the
full path of its ``<TestSuite>`` names. Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, child, emit, local, source_line, suite_path
from aqe_ci.ingest.tests.junit import first_line

_REPORT_STATUS = {"passed": "passed", "failed": "failed", "aborted": "error", "skipped": "skipped"}
_FAILING = {"Error": "failed", "FatalError": "error", "Exception": "error"}


class BoostTestParser(ReportParser):
    format = "boost-test"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        if root is None:
            return False
        return root[0] == "TestLog" or (root[0] == "TestResult" and b"<TestSuite" in head)

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        _, root = check_root(path, ("TestLog", "TestResult"), "Boost.Test XML")
        log = root[0] == "TestLog"
        writer.set_dialect("boost-test-log" if log else "boost-test-report", "Boost.Test")
        run = _BoostRun(writer, log)
        for event, el in safexml.iterparse(path, events=("start", "end"), tag=("TestSuite", "TestCase"),
                                           prolog_checked=True):
            if event == "start":
                if el.tag == "TestSuite":
                    run.suites.append(el.get("name") or "")
                continue
            if el.tag == "TestCase":
                run.case(el)
            else:
                run.suite_end(el)
            safexml.free_finished(el)
        run.finish()


class _BoostRun:
    def __init__(self, writer: Any, log: bool) -> None:
        self.writer = writer
        self.log = log
        self.suites: list[str] = []
        self.cases = 0
        self.claimed = 0  # test cases the report's suites say they ran
        self.duration = 0.0

    def case(self, el: Any) -> None:
        self.cases += 1
        name = el.get("name") or ""
        t = Test(suite_path(self.suites), self.suites[-1] if self.suites else "", name)
        t.file = el.get("file") or None
        t.line = source_line(el.get("line"))
        if self.log:
            self._logged(el, t)
        else:
            t.status = _REPORT_STATUS.get((el.get("result") or "").strip().lower(), "failed")
            if t.status == "failed":
                t.message = f"{el.get('assertions_failed') or '?'} assertion(s) failed"
        emit(self.writer, t)

    def _logged(self, el: Any, t: Test) -> None:
        if (el.get("skipped") or "").lower() == "yes":
            t.status = "skipped"
            t.message = el.get("reason") or None
            return
        failures: list[tuple[str, str]] = []
        out: list[str] = []
        err: list[str] = []
        for c in el:
            tag = local(c.tag)
            if tag in _FAILING:
                if t.status == "passed" or _FAILING[tag] == "error":
                    t.status = _FAILING[tag]
                failures.append(_entry(c))
            elif tag == "Message":
                out.append(_text(c))
            elif tag == "Warning":
                err.append(_joined(_entry(c)))
            elif tag == "TestingTime":
                t.duration = _microseconds(c.text)
        if t.duration is not None:
            self.duration += t.duration
        if failures:
            t.details = "\n\n".join(map(_joined, failures))
            t.message = first_line(failures[0][1])
        t.stdout = "\n".join(out) or None
        t.stderr = "\n".join(err) or None

    def suite_end(self, el: Any) -> None:
        self.writer.add_suite()
        if self.suites:
            self.suites.pop()
        if not self.suites and not self.log:  # the master suite: what the report says it ran
            for key in ("test_cases_passed", "test_cases_failed", "test_cases_skipped", "test_cases_aborted"):
                value = (el.get(key) or "").strip()
                self.claimed += int(value) if value.isdigit() and len(value) < 10 else 0

    def finish(self) -> None:
        if not self.log and self.cases == 0 and self.claimed:
            raise ReportError(f"a Boost.Test report without its {self.claimed} test cases: write it with "
                              "--report_level=detailed")
        self.writer.add_duration(self.duration if self.log else None)


def _text(el: Any) -> str:
    """An entry's own text (CDATA) without the ``<Context>`` frames that may follow it."""
    return (el.text or "").strip()


def _where(el: Any) -> str:
    """``file(line)`` of a log entry ("" when it has no file)."""
    where = el.get("file") or ""
    if where and el.get("line"):
        where += f"({el.get('line')})"
    return where


def _entry(el: Any) -> tuple[str, str]:
    """(where, text) of a log entry; an exception's text ends with its last checkpoint."""
    text = _text(el)
    point = child(el, "LastCheckpoint")
    if point is not None:
        at = _where(point)
        note = (point.text or "").strip()
        text += "\nlast checkpoint: " + ": ".join(x for x in (at, note) if x)
    return _where(el), text


def _joined(entry: tuple[str, str]) -> str:
    where, text = entry
    return f"{where}: {text}" if where else text


def _microseconds(value: str | None) -> float | None:
    text = (value or "").strip()
    if not text.isdigit() or len(text) > 15:
        return None
    return int(text) / 1_000_000
