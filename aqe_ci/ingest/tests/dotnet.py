""".NET test reports → ``test_results``: NUnit 2 and 3, xUnit.net v1/v2, TRX (MSTest / VSTest).

All stream with :func:`aqe_ci.ingest.stream.safexml.iterparse` and remove finished elements as they go.
Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import HEAD_BYTES, ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.junit import MESSAGE_CHARS, first_line, seconds

if TYPE_CHECKING:
    from aqe_ci.ingest.tests.writer import TestResultsWriter

_TIMESPAN = re.compile(r"(?:(\d{1,9})\.)?(\d{1,12}):(\d{1,12}):(\d{1,12}(?:\.\d+)?)")


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[1]


def _child(el: Any, name: str) -> Any:
    for c in el:
        if _local(c.tag) == name:
            return c
    return None


def _child_text(el: Any, *path: str) -> str | None:
    for name in path:
        if el is None:
            return None
        el = _child(el, name)
    return el.text if el is not None else None


def _split_name(full: str) -> tuple[str, str]:
    """``Ns.Class.Method(args)`` → (``Ns.Class``, ``Method(args)``); no dot → ("", full)."""
    paren = full.find("(")
    head = full if paren < 0 else full[:paren]
    dot = head.rfind(".")
    if dot < 0:
        return "", full
    return full[:dot], full[dot + 1:]


def _check_root(path: Path, roots: tuple[str, ...], what: str) -> tuple[bytes, tuple[str, bytes]]:
    """Check the prolog (the later ``iterparse`` passes skip it), then the root: (head, root)."""
    head = safexml.check_prolog(path)[:HEAD_BYTES]
    root = root_start(head)
    if root is None or root[0] not in roots:
        found = f"<{root[0]}>" if root else "no XML root element"
        raise ReportError(f"not {what}: expected <{'> or <'.join(roots)}> root, found {found}")
    return head, root


def _emit(writer: TestResultsWriter, *, suite: str, classname: str, name: str, status: str, duration: float | None,
          message: str | None, ftype: str | None, details: str | None, stdout: str | None = None,
          stderr: str | None = None, props: dict[str, str] | None = None) -> None:
    test: dict[str, Any] = {"suite": suite, "classname": classname, "name": name, "status": status,
                            "duration": duration}
    if message is not None:
        message = message.strip()[:MESSAGE_CHARS] or None
    if message is None and status in ("failed", "error", "skipped"):
        message = first_line(details)
    if message is not None:
        test["message"] = message
    for key, value, kind in (("stdout", stdout, "out"), ("stderr", stderr, "err")):
        t = writer.text(value, kind)
        if t is not None:
            test[key] = t
    if props:
        test["properties"] = props
    failure: dict[str, Any] | None = None
    if status in ("failed", "error"):
        failure = {"suite": suite, "classname": classname, "name": name, "status": status,
                   "duration": duration, "message": message}
        if ftype:
            failure["type"] = ftype
        d = writer.text(details, "trace")
        if d is not None:
            failure["details"] = d
    writer.add_test(test, failure)


# ------------------------------------------------------------------------------------------------
# NUnit

_HAS_CASES = "aqe-has-cases"  # marks a <test-suite> that directly holds test cases (suites count)
_NUNIT2_STATUS = {"success": "passed", "failure": "failed", "error": "error", "ignored": "skipped",
                  "skipped": "skipped", "inconclusive": "skipped", "notrunnable": "skipped", "cancelled": "error",
                  "notrun": "skipped"}


class NUnitParser(ReportParser):
    """NUnit 2 (``<test-results>``) and NUnit 3 (``<test-run>``), incl. a bare ``<test-suite>`` root."""

    format = "nunit"
    doc_type = "test_results"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        if root is None:
            return False
        if root[0] in ("test-results", "test-run"):
            return True
        # a bare NUnit <test-suite> (no namespace prefix, NUnit's type attribute); Allure 1 uses <ns2:test-suite>
        return (root[0] == "test-suite" and root[1].startswith(b"<test-suite") and b"type=" in root[1]
                and b"<test-case" in head)

    def parse(self, path: Path, writer: TestResultsWriter, source: SourceInfo) -> None:
        head, root = _check_root(path, ("test-results", "test-run", "test-suite"), "NUnit XML")
        v3 = root[0] == "test-run" or b"fullname=" in head[:4096]
        writer.set_dialect("nunit3" if v3 else "nunit2", "NUnit")
        top_time: float | None = None
        for _, el in safexml.iterparse(path, events=("end",), tag=("test-case", "test-suite", "test-run",
                                                                     "test-results"), prolog_checked=True):
            tag = el.tag
            if tag == "test-case":
                suite_el = _enclosing_suite(el)
                suite = (suite_el.get("fullname") or suite_el.get("name") or "") if suite_el is not None else ""
                if suite_el is not None:
                    suite_el.set(_HAS_CASES, "1")
                self._case(el, writer, suite, v3)
                el.clear()
                parent = el.getparent()
                if parent is not None:
                    parent.remove(el)
            elif tag == "test-suite":
                if el.get(_HAS_CASES):
                    writer.add_suite()
                parent = el.getparent()
                grand = parent.getparent() if parent is not None else None
                if top_time is None and (parent is None or _local(parent.tag) in ("test-run", "test-results")
                                         or (grand is None and _local(parent.tag) == "results")):
                    top_time = seconds(el.get("duration") if v3 else el.get("time"))
            elif tag in ("test-run", "test-results"):
                t = seconds(el.get("duration"))
                if t is not None:
                    top_time = t
        writer.add_duration(top_time)

    @staticmethod
    def _case(el: Any, writer: TestResultsWriter, suite: str, v3: bool) -> None:
        full = el.get("fullname") or el.get("name") or ""
        status: str | None
        if v3:
            classname = el.get("classname") or _split_name(full)[0]
            name = el.get("name") or _split_name(full)[1]
            result = (el.get("result") or "").lower()
            if result == "failed":  # label Error/Invalid/Cancelled too: NUnit's own "failed" total counts them
                status = "failed"
            elif result in ("skipped", "inconclusive"):
                status = "skipped"
            else:
                status = "passed"
            duration = seconds(el.get("duration"))
        else:
            classname, name = _split_name(full)
            result = (el.get("result") or "").lower()
            status = _NUNIT2_STATUS.get(result)
            if status is None:
                executed = (el.get("executed") or "true").lower() == "true"
                failed = (el.get("success") or "").lower() == "false" or _child(el, "failure") is not None
                status = "skipped" if not executed else ("failed" if failed else "passed")
            duration = seconds(el.get("time"))
        failure = _child(el, "failure")
        reason = _child(el, "reason")
        message = _child_text(failure, "message") if failure is not None else _child_text(reason, "message")
        details = _child_text(failure, "stack-trace") if failure is not None else None
        if status in ("failed", "error") and details is None:
            details = message
        output = _child_text(el, "output")
        props = None
        p = _child(el, "properties")
        if p is not None:
            props = {x.get("name"): x.get("value") or "" for x in p if _local(x.tag) == "property" and x.get("name")}
        _emit(writer, suite=suite, classname=classname, name=name, status=status, duration=duration,
              message=message, ftype=None, details=details, stdout=output, props=props or None)


def _enclosing_suite(el: Any) -> Any:
    p = el.getparent()
    while p is not None and _local(p.tag) != "test-suite":
        p = p.getparent()
    return p


# ------------------------------------------------------------------------------------------------
# xUnit.net

_XUNIT_STATUS = {"pass": "passed", "fail": "failed", "skip": "skipped", "notrun": "skipped"}


class XUnitParser(ReportParser):
    """xUnit.net v2 (``<assemblies>/<assembly>/<collection>/<test>``) and v1 (``<assembly>/<class>/<test>``)."""

    format = "xunit"
    doc_type = "test_results"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        if root is None:
            return False
        if root[0] == "assemblies":
            return True
        return root[0] == "assembly" and (b"<collection" in head or b"<class" in head or b"test-framework" in head
                                          or b"<test " in head)

    def parse(self, path: Path, writer: TestResultsWriter, source: SourceInfo) -> None:
        _check_root(path, ("assemblies", "assembly"), "xUnit.net XML")
        dialect = None
        total = 0.0
        for _, el in safexml.iterparse(path, events=("end",), tag=("test", "collection", "class", "assembly"),
                                       prolog_checked=True):
            tag = el.tag
            if tag == "test":
                parent = el.getparent()
                if dialect is None and parent is not None:
                    dialect = "xunit.net-v2" if parent.tag == "collection" else "xunit.net-v1"
                    writer.set_dialect(dialect, "xUnit.net")
                suite = parent.get("name") or "" if parent is not None else ""
                self._test(el, writer, suite)
                el.clear()
                if parent is not None:
                    parent.remove(el)
            elif tag in ("collection", "class"):
                writer.add_suite()
                el.clear()
            elif tag == "assembly":
                t = seconds(el.get("time"))
                if t is not None:
                    total += t
        writer.add_duration(total)

    @staticmethod
    def _test(el: Any, writer: TestResultsWriter, suite: str) -> None:
        name = el.get("name") or ""
        classname = el.get("type") or _split_name(name)[0]
        status = _XUNIT_STATUS.get((el.get("result") or "").lower(), "passed")
        failure = _child(el, "failure")
        message = details = ftype = None
        if failure is not None:
            message = _child_text(failure, "message")
            details = _child_text(failure, "stack-trace") or message
            ftype = failure.get("exception-type")
        elif status == "skipped":
            message = _child_text(el, "reason")
        traits = _child(el, "traits")
        props = None
        if traits is not None:
            props = {t.get("name"): t.get("value") or "" for t in traits if t.get("name")}
        _emit(writer, suite=suite, classname=classname, name=name, status=status,
              duration=seconds(el.get("time")), message=message, ftype=ftype, details=details,
              stdout=_child_text(el, "output"), props=props or None)


# ------------------------------------------------------------------------------------------------
# TRX

_TRX_STATUS = {"passed": "passed", "passedbutrunaborted": "passed", "warning": "passed",
               "failed": "failed", "error": "error", "timeout": "error", "aborted": "skipped",
               "notexecuted": "skipped", "notrunnable": "skipped", "inconclusive": "skipped",
               "pending": "skipped", "disconnected": "error", "inprogress": "skipped", "completed": "passed"}


def timespan(value: str | None) -> float | None:
    """TRX ``duration`` ``[d.]hh:mm:ss.fffffff`` → seconds (None when missing/invalid)."""
    if not value:
        return None
    m = _TIMESPAN.fullmatch(value.strip())
    if not m:
        return seconds(value)
    days, h, mi, s = m.groups()
    return int(days or 0) * 86400 + int(h) * 3600 + int(mi) * 60 + float(s)


class TrxParser(ReportParser):
    """Visual Studio / ``dotnet test`` TRX (MSTest, xUnit and NUnit adapters), data-driven InnerResults."""

    format = "trx"
    doc_type = "test_results"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] == "TestRun" and b"TeamTest" in root[1]

    def parse(self, path: Path, writer: TestResultsWriter, source: SourceInfo) -> None:
        _check_root(path, ("TestRun",), "TRX")
        writer.set_dialect("trx", "VSTest")
        classes = self._definitions(path)
        writer.add_suite()
        total = 0.0
        for _, el in safexml.iterparse(path, events=("end",), tag="{*}UnitTestResult", prolog_checked=True):
            parent = el.getparent()
            if parent is not None and _local(parent.tag) == "InnerResults":
                continue  # handled with (and removed by) its outer result
            inner = _child(el, "InnerResults")
            results = [r for r in inner if _local(r.tag) == "UnitTestResult"] if inner is not None else [el]
            for r in results:
                d = self._result(r, writer, classes)
                if d:
                    total += d
            el.clear()
            if parent is not None:
                parent.remove(el)
        writer.add_duration(total)

    @staticmethod
    def _definitions(path: Path) -> dict[str, str]:
        """testId → class name, from ``<TestDefinitions>`` (after the results in most files)."""
        classes: dict[str, str] = {}
        for _, el in safexml.iterparse(path, events=("end",), tag="{*}UnitTest", prolog_checked=True):
            method = _child(el, "TestMethod")
            if method is not None and el.get("id"):
                cls = (method.get("className") or "").split(",", 1)[0].strip()
                classes[el.get("id")] = cls
            el.clear()
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)
        return classes

    @staticmethod
    def _result(el: Any, writer: TestResultsWriter, classes: dict[str, str]) -> float | None:
        name = el.get("testName") or ""
        classname = classes.get(el.get("testId") or "", "")
        status = _TRX_STATUS.get((el.get("outcome") or "").lower(), "skipped")
        out = _child(el, "Output")
        message = details = stdout = stderr = None
        if out is not None:
            err = _child(out, "ErrorInfo")
            if err is not None:
                message = _child_text(err, "Message")
                details = _child_text(err, "StackTrace")
                if message and details:
                    details = message.rstrip() + "\n" + details
                elif message:
                    details = message
            stdout = _child_text(out, "StdOut")
            stderr = _child_text(out, "StdErr")
        duration = timespan(el.get("duration"))
        _emit(writer, suite=classname, classname=classname, name=name, status=status,
              duration=duration, message=message, ftype=None, details=details, stdout=stdout, stderr=stderr)
        return duration
