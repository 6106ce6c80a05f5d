"""JUnit XML and its dialects → ``test_results`` (see docs/formats/tests.md for every mapping).

One streaming pass with lxml ``iterparse`` (through :mod:`aqe_ci.ingest.safexml`), ``end`` events for
``testcase`` and ``testsuite`` only. Each finished ``<testcase>`` is turned into a test item and
removed from the tree; each finished ``<testsuite>`` contributes its count, its captured output and
(for top-level suites) its time, then is removed too — memory stays bounded by one test case plus
one suite's own output.
"""

from __future__ import annotations

import math
import re
from json.encoder import encode_basestring as _js  # type: ignore[attr-defined]  # C-accelerated
from pathlib import Path
from typing import Any

from aqe_ci.ingest import safexml
from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, read_head
from aqe_ci.ingest.xmlhead import root_start

ROOTS = ("testsuites", "testsuite")
MESSAGE_CHARS = 2000

# (pattern over the first 64 KiB, dialect, producer); first match wins.
DIALECTS: tuple[tuple[re.Pattern[bytes], str, str], ...] = tuple(
    (re.compile(p, re.S), d, prod) for p, d, prod in (
        (rb"<testsuites[^>]*name=\"pytest tests\"|<testsuite[^>]*name=\"pytest\"", "pytest", "pytest"),
        (rb"<testsuites[^>]*name=\"jest tests\"", "jest-junit", "jest"),
        (rb"<testsuites[^>]*name=\"vitest tests\"", "vitest", "vitest"),
        (rb"<testsuites[^>]*name=\"Mocha Tests\"|<testsuite[^>]*name=\"Root Suite\"", "mocha-junit-reporter", "mocha"),
        (rb"<testsuites[^>]*name=\"nextest-run\"", "cargo-nextest", "cargo-nextest"),
        (rb"<testsuites id=\"\" name=\"\"", "playwright", "playwright"),
        (rb"maven-surefire-plugin|surefire-test-report", "surefire", "maven-surefire"),
        (rb"<property name=\"go.version\"[^>]*>.*?<testsuite[^>]*\bid=\"", "go-junit-report", "go-junit-report"),
        (rb"<testsuite[^>]*\bid=\"\d+\"[^>]*>\s*<properties>\s*<property name=\"go.version\"", "go-junit-report",
         "go-junit-report"),
        (rb"<property name=\"go.version\"", "gotestsum", "gotestsum"),
        (rb"Generated test\.log|<testcase[^>]*status=\"run\"[^>]*duration=", "bazel", "bazel"),
        (rb"<property name=\"filters\"|hostname=\"tbd\"", "catch2", "catch2"),
        (rb"<testsuite[^>]*\bassertions=\"[^>]*\bfile=\"|<testsuite[^>]*\bfile=\"[^>]*\bassertions=\"", "phpunit",
         "phpunit"),
        (rb"<testsuite[^>]*\bfile=\"[^\"]*\.(?:spec|test)\.[jt]sx?\"", "mocha", "mocha"),
        (rb"<testcase[^>]*status=\"(?:run|notrun)\"", "gtest-like", None),
    )
)

_STATUS_ATTR = {
    "notrun": "skipped", "disabled": "skipped", "skipped": "skipped", "skip": "skipped", "ignored": "skipped",
    "pending": "skipped", "todo": "skipped",
    "failed": "failed", "fail": "failed", "failure": "failed",
    "error": "error", "errored": "error", "broken": "error",
    "passed": "passed", "pass": "passed", "success": "passed", "run": "passed", "ok": "passed",
}
_RETRY_TAGS = {"flakyFailure": "failed", "flakyError": "error", "rerunFailure": "failed", "rerunError": "error"}
_DECIMAL_COMMA = re.compile(r"\d+,(?:\d{1,2}|\d{4,})")


def seconds(value: str | None) -> float | None:
    """A duration attribute in seconds; ``None`` when missing or not a number (``<<computed>>``)."""
    if value is None:
        return None
    try:
        x = float(value)
    except ValueError:
        s = value.strip()
        s = s.replace(",", ".") if _DECIMAL_COMMA.fullmatch(s) else s.replace(",", "").replace("_", "")
        try:
            x = float(s)
        except ValueError:
            return None
    if not math.isfinite(x) or x < 0:
        return None
    return x


def integer(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if n >= 0 else None


def first_line(text: str | None) -> str | None:
    if not text:
        return None
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:MESSAGE_CHARS]
    return None


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[1]


def dialect_of(head: bytes) -> tuple[str | None, str | None]:
    for pattern, dialect, producer in DIALECTS:
        if pattern.search(head):
            return dialect, producer
    return None, None


class JUnitParser(ReportParser):
    format = "junit"
    doc_type = "test_results"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] in ROOTS

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        safexml.check_prolog(path)  # hostile files get the DTD/ENTITY verdict whatever their root
        head = read_head(path)
        root = root_start(head)
        if root is None or root[0] not in ROOTS:
            found = f"<{root[0]}>" if root else "no XML root element"
            raise ReportError(f"not JUnit XML: expected a <testsuites> or <testsuite> root, found {found}")
        dialect, producer = dialect_of(head)
        writer.set_dialect(dialect, producer)
        _JUnitRun(writer, subtests=dialect == "pytest", namespaced=b"xmlns=" in root[1]).run(path)


class _JUnitRun:
    """The state of one file's pass (kept off the parser so parsers stay stateless)."""

    def __init__(self, writer: Any, *, subtests: bool, namespaced: bool) -> None:
        self.writer = writer
        self.namespaced = namespaced
        self.suite_json = '""'
        self.add_test = writer.add_test
        self.text = writer.text
        if subtests:
            writer.set_repeat_mode("subtests")
        self.suite_el: Any = None
        self.suite_name = ""
        self.suite_file: str | None = None
        self.top_time = 0.0
        self.top_time_seen = False
        self.case_time = 0.0
        self.root_time: float | None = None

    def run(self, path: Path) -> None:
        tags = ("{*}testcase", "{*}testsuite") if self.namespaced else ("testcase", "testsuite")
        testcase = self.testcase
        pending = 0
        for _, el in safexml.iterparse(path, events=("end",), tag=tags):
            tag = el.tag
            if tag == "testcase" or (tag[0] == "{" and _local(tag) == "testcase"):
                parent = el.getparent()
                testcase(el, parent)
                el.clear(keep_tail=False)
                pending += 1
                if pending >= 512 and parent is not None:  # a huge suite: drop finished cases in batches
                    while el.getprevious() is not None:
                        del parent[0]
                    pending = 0
            else:
                pending = 0
                parent = el.getparent()
                self.testsuite(el, parent)
                if parent is not None:
                    el.clear()
                    parent.remove(el)
        self.writer.add_duration(self.file_duration())

    def file_duration(self) -> float:
        if self.root_time is not None:
            return self.root_time
        if self.top_time_seen:
            return self.top_time
        return self.case_time

    # -- suites ----------------------------------------------------------------------------------
    def _suite_of(self, parent: Any) -> None:
        self.suite_el = parent
        if parent is None or _local(parent.tag) != "testsuite":
            self.suite_name = ""
            self.suite_json = '""'
            self.suite_file = None
            if parent is not None and self.root_time is None and parent.getparent() is None:
                self.root_time = seconds(parent.get("time"))
            return
        self.suite_name = parent.get("name") or ""
        self.suite_json = _js(self.suite_name)
        self.suite_file = parent.get("file") or parent.get("filepath")

    def testsuite(self, el: Any, parent: Any) -> None:
        self.writer.add_suite()
        a = el.attrib
        if parent is None or _local(parent.tag) != "testsuite":
            t = seconds(a.get("time"))
            if t is not None:
                self.top_time += t
                self.top_time_seen = True
            if parent is not None and self.root_time is None and parent.getparent() is None:
                self.root_time = seconds(parent.get("time"))
        out = err = None
        for c in el:
            name = _local(c.tag)
            if name == "system-out":
                out = _join(out, c.text)
            elif name == "system-err":
                err = _join(err, c.text)
        if out or err:
            self.writer.add_suite_output(suite=a.get("name") or "", file=a.get("file"), stdout=out, stderr=err)
        if el is self.suite_el:
            self.suite_el = None

    # -- test cases ------------------------------------------------------------------------------
    def testcase(self, el: Any, parent: Any) -> None:
        if parent is not self.suite_el or self.suite_el is None:
            self._suite_of(parent)
        a = el.attrib
        duration = seconds(a.get("time"))
        if duration is not None:
            self.case_time += duration
        classname = a.get("classname") or a.get("class") or ""
        name = a.get("name") or ""
        test: dict[str, Any] = {
            "suite": self.suite_name, "classname": classname, "name": name, "status": "passed",
            "duration": duration,
        }
        f = a.get("file")
        if f:
            test["file"] = f
        line = a.get("line")
        if line is not None:
            n = integer(line)
            if n is not None:
                test["line"] = n
        if len(el) == 0:
            status_attr = a.get("status") or a.get("result")
            if status_attr is not None:
                st = _STATUS_ATTR.get(status_attr.strip().lower())
                if st in ("skipped", "failed", "error"):
                    test["status"] = st
                    if st != "skipped":
                        self.add_test(test, self._failure(test, None, None, None))
                        return
                    self.add_test(test)
                    return
            # hot path: most test cases pass with no children; encode with a template
            enc = ('{"suite":' + self.suite_json + ',"classname":' + _js(classname) + ',"name":' + _js(name)
                   + ',"status":"passed","duration":' + ("null" if duration is None else repr(duration)))
            if f:
                enc += ',"file":' + _js(f)
            if "line" in test:
                enc += ',"line":' + str(test["line"])
            self.add_test(test, None, enc + "}")
            return
        self._complex(el, a, test)

    def _complex(self, el: Any, a: Any, test: dict[str, Any]) -> None:
        failure_el = error_el = skipped_el = None
        extra_failures: list[Any] = []
        retries: list[dict[str, Any]] = []
        out = err = None
        props: dict[str, str] | None = None
        for c in el:
            name = _local(c.tag)
            if name == "failure":
                if failure_el is None:
                    failure_el = c
                else:
                    extra_failures.append(c)
            elif name == "error":
                if error_el is None:
                    error_el = c
                else:
                    extra_failures.append(c)
            elif name == "skipped":
                skipped_el = c
            elif name == "system-out":
                out = _join(out, c.text)
            elif name == "system-err":
                err = _join(err, c.text)
            elif name in _RETRY_TAGS:
                st = _RETRY_TAGS[name]
                attempt: dict[str, Any] = {"status": st}
                d = seconds(c.get("time"))
                if d is not None:
                    attempt["duration"] = d
                msg = c.get("message") or first_line(_retry_trace(c))
                if msg is not None:
                    attempt["message"] = msg[:MESSAGE_CHARS]
                if c.get("type") is not None:
                    attempt["type"] = c.get("type")
                retries.append(attempt)
            elif name == "properties":
                for p in c:
                    if _local(p.tag) == "property" and p.get("name") is not None:
                        if props is None:
                            props = {}
                        props[p.get("name")] = p.get("value") if p.get("value") is not None else (p.text or "")
        decisive = error_el if error_el is not None else failure_el
        failure = None
        if decisive is not None:
            status = "error" if decisive is error_el else "failed"
            test["status"] = status
            message = decisive.get("message")
            body = decisive.text
            if extra_failures or (error_el is not None and failure_el is not None):
                parts = [body or decisive.get("message") or ""]
                for other in ([failure_el] if error_el is not None and failure_el is not None else []) + extra_failures:
                    parts.append(other.text or other.get("message") or "")
                body = "\n\n".join(p for p in parts if p)
            if message is None:
                message = first_line(body)
            test["message"] = message[:MESSAGE_CHARS] if message is not None else None
            failure = self._failure(test, message, decisive.get("type"), body)
        elif skipped_el is not None:
            test["status"] = "skipped"
            msg = skipped_el.get("message") or first_line(skipped_el.text)
            if msg is not None:
                test["message"] = msg[:MESSAGE_CHARS]
        else:
            status_attr = a.get("status") or a.get("result")
            st = _STATUS_ATTR.get(status_attr.strip().lower()) if status_attr else None
            if retries:  # flakyFailure/flakyError (or reruns without a final failure): passed at last
                test["status"] = "flaky"
            elif st in ("skipped", "failed", "error"):
                test["status"] = st
                if st != "skipped":
                    failure = self._failure(test, None, None, None)
        if retries:
            test["retries"] = retries
        if out:
            t = self.text(out, "out")
            if t is not None:
                test["stdout"] = t
        if err:
            t = self.text(err, "err")
            if t is not None:
                test["stderr"] = t
        if props:
            test["properties"] = props
        self.add_test(test, failure)

    def _failure(self, test: dict[str, Any], message: str | None, type_: str | None,
                 body: str | None) -> dict[str, Any]:
        failure: dict[str, Any] = {
            "suite": test["suite"], "classname": test["classname"], "name": test["name"],
            "status": test["status"], "duration": test["duration"],
            "message": message[:MESSAGE_CHARS] if message is not None else None,
        }
        if "file" in test:
            failure["file"] = test["file"]
        if "line" in test:
            failure["line"] = test["line"]
        if type_:
            failure["type"] = type_
        if body:
            details = self.text(body, "trace")
            if details is not None:
                failure["details"] = details
        return failure


def _retry_trace(el: Any) -> str | None:
    for c in el:
        if _local(c.tag) == "stackTrace":
            return c.text
    return el.text


def _join(a: str | None, b: str | None) -> str | None:
    if not b:
        return a
    return b if not a else a + "\n" + b
