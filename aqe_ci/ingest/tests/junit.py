"""JUnit XML and its dialects → ``test_results`` (see docs/formats/tests.md for every mapping).

One streaming pass with the standard library's expat through :mod:`aqe_ci.ingest.stream.safeexpat` (DTDs
and entities refused, nothing fetched), callbacks only — no element tree is built. Each finished
``<testcase>`` is turned into a test item at once; each finished ``<testsuite>`` contributes its
count, its captured output and (for top-level suites) its time. Memory stays bounded by one test
case plus one suite's own output, and captured texts are kept only up to the blob cap.
"""

from __future__ import annotations

import math
import re
from json.encoder import encode_basestring as _js  # C-accelerated
from pathlib import Path
from typing import Any

from aqe_ci import accel
from aqe_ci.ingest.base import (
    HEAD_BYTES,
    LINE_OUT_OF_RANGE,
    MAX_LINE,
    ReportError,
    ReportParser,
    SourceInfo,
    too_many_digits,
)
from aqe_ci.ingest.stream import safeexpat, safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.writer import PREVIEW_CHARS, CappedText, utf8_size

ROOTS = ("testsuites", "testsuite")
#: the C twin of the streaming pass (``accel.load`` gives None when not built or disabled)
ACCEL = "aqe_ci.ingest.tests._junit_c"
MESSAGE_CHARS = 2000

# (pattern over the first 64 KiB, dialect, producer); first match wins.
DIALECTS: tuple[tuple[re.Pattern[bytes], str, str | None], ...] = tuple(
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
    "pending": "skipped", "todo": "skipped", "suppressed": "skipped", "notexecuted": "skipped",
    "failed": "failed", "fail": "failed", "failure": "failed",
    "error": "error", "errored": "error", "broken": "error",
    "passed": "passed", "pass": "passed", "success": "passed", "run": "passed", "ok": "passed",
    "completed": "passed",
}
#: the test case attributes dialects state a verdict in; every one present is read and the most
#: telling verdict wins (error > failed > skipped > passed): gtest's ``status="run"`` only says the
#: test ran, its ``result="skipped"`` says how
STATUS_ATTRS = ("status", "result", "outcome", "executed", "success")
_FLAG_STATUS = {"executed": {"false": "skipped", "no": "skipped", "0": "skipped", "true": "passed", "yes": "passed",
                             "1": "passed"},
                "success": {"false": "failed", "no": "failed", "0": "failed", "true": "passed", "yes": "passed",
                            "1": "passed"}}
_RANK = {"passed": 0, "skipped": 1, "failed": 2, "error": 3}
SUITE_SEPARATOR = " › "
_RETRY_TAGS = {"flakyFailure": "failed", "flakyError": "error", "rerunFailure": "failed", "rerunError": "error"}
_INF = math.inf
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


def attr_status(a: dict[str, str]) -> str | None:
    """The verdict of a test case's status attributes (:data:`STATUS_ATTRS`), None when none has a
    known value."""
    best = None
    for key in STATUS_ATTRS:
        value = a.get(key)
        if not value:
            continue
        v = value.strip().lower()
        st = _FLAG_STATUS[key].get(v) if key in _FLAG_STATUS else _STATUS_ATTR.get(v)
        if st is not None and (best is None or _RANK[st] > _RANK[best]):
            best = st
    return best


def line_attr(value: str, name: str) -> int | None:
    """A ``line`` attribute: a non-negative integer (else None: omitted); over
    :data:`~aqe_ci.ingest.base.MAX_LINE` (or thousands of digits) the report is invalid."""
    try:
        n = int(value.strip())
    except ValueError as exc:
        if not too_many_digits(exc):
            return None
        n = MAX_LINE + 1
    if n > MAX_LINE:
        raise ReportError(f"test case {name[:100]!r}: {LINE_OUT_OF_RANGE}")
    return n if n >= 0 else None


def first_line(text: str | None, limit: int = MESSAGE_CHARS) -> str | None:
    """The first non-blank line, stripped and cut to ``limit`` characters (None when there is none)."""
    if not text:
        return None
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line[:limit]
    return None


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
        # hostile files get the DTD/ENTITY verdict whatever their root; the head comes from the same read
        head = safexml.check_prolog(path)[:HEAD_BYTES]
        root = root_start(head)
        if root is None or root[0] not in ROOTS:
            found = f"<{root[0]}>" if root else "no XML root element"
            raise ReportError(f"not JUnit XML: expected a <testsuites> or <testsuite> root, found {found}")
        dialect, producer = dialect_of(head)
        writer.set_dialect(dialect, producer)
        _JUnitRun(writer, subtests=dialect == "pytest", namespaced=b"xmlns=" in root[1],
                  project_hosts=dialect == "playwright").run(path)


# Element kinds while streaming (see _JUnitRun.start).
_OTHER, _CASE, _SUITE, _RETRY, _PROPS = range(5)
_CASE_KIDS = frozenset(("failure", "error", "skipped", "system-out", "system-err", "properties", *_RETRY_TAGS))
_SUITE_KIDS = frozenset(("system-out", "system-err"))
#: children of a <testsuites> root that hold no tests but are JUnit (an empty report has them)
_ROOT_KIDS = frozenset(("properties", "system-out", "system-err", "testsuite", "testcase"))


class _El:
    """What the parser keeps of one open (or kept) element: never a tree, only what JUnit needs.

    ``text`` is lxml's ``.text`` (the character data before the first child element), captured
    only for the children a test case or suite reads; ``kids`` only for test cases, suites,
    retry elements and ``<properties>``, and only the children they read.
    """

    __slots__ = ("local", "attrs", "parent", "kind", "kids", "nkids", "parts", "kept", "dropped", "check", "text",
                 "path")
    parts: list[str] | None
    kept: int
    dropped: int
    check: int
    text: str | None

    def __init__(self, local: str, attrs: dict[str, str], parent: _El | None, kind: int) -> None:
        self.local = local
        self.attrs = attrs
        self.parent = parent
        self.kind = kind
        self.kids: list[_El] | None = None
        self.nkids = 0
        self.path: str | None = None  # a <testsuite>: its full name (see _JUnitRun.open_suite)
        # ``parts``/``kept``/``dropped``/``check``/``text``: set only on captured elements
        # (the only ones whose text is read)

    def get(self, key: str) -> str | None:
        return self.attrs.get(key)


#: the record of every element nothing is read from (``<properties>`` of a suite, ``<property>``,
#: unknown elements): not the root, not a ``<testsuite>``, no captured text, no kept children —
#: all a test element below it asks its parent (see ``_suite_of``)
_SKIP = _El("", {}, None, _OTHER)
_SKIP.parent = _SKIP


class _JUnitRun:
    """The state of one file's pass (kept off the parser so parsers stay stateless).

    One expat pass (:mod:`aqe_ci.ingest.stream.safeexpat`): start/end callbacks keep a stack of small
    :class:`_El` records; a finished ``<testcase>`` becomes a test item at once and is dropped, a
    finished ``<testsuite>`` contributes its count, output and time. Captured texts are kept up to
    the blob cap (plus what the first message line needs) and counted beyond it.
    """

    def __init__(self, writer: Any, *, subtests: bool, namespaced: bool, project_hosts: bool = False) -> None:
        self.project_hosts = project_hosts
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
        limits = writer.limits
        self.cap = max(limits.max_blob_bytes, limits.inline_text_bytes, PREVIEW_CHARS)
        self.stack: list[_El | None] = [None]  # the root element's parent
        self.paths: list[str] = []  # the full names of the open <testsuite> elements
        self.root: _El | None = None
        self.saw_tests = False  # a <testsuite> or <testcase> was seen (else the file is no JUnit)
        self.foreign: str | None = None  # the root's first child that JUnit does not have
        self.capture: _El | None = None
        self.parser: Any = None
        self.batch: list[tuple[dict[str, Any], str]] = []

    def run(self, path: Path) -> None:
        fast = accel.load(ACCEL) if hasattr(self.writer, "add_encoded_tests") else None
        if fast is None:
            self.parser = p = safeexpat.create_parser(namespaces=True)
        else:  # the same events, but plain passing test cases never reach Python (see _junit_c.c)
            ids, dups = self.writer.repeat_sets()
            self.parser = p = safeexpat.create_fast_parser(fast, self, ids, dups, project_hosts=self.project_hosts,
                                                           inline_bytes=self.writer.limits.inline_text_bytes)
        p.StartElementHandler = self.start
        p.EndElementHandler = self.end
        try:
            safeexpat.parse_file(p, path, prolog_checked=True)  # JUnitParser.parse checked it
            if fast is not None:
                p.finish()
        finally:
            self.parser = None  # the C parser refers to this run: no cycle left behind
        self.flush()
        if not self.saw_tests and self.foreign is not None and self.root is not None:
            raise ReportError(f"not JUnit XML: the <{self.root.local[:60]}> root holds <{self.foreign[:60]}> and no "
                              "<testsuite> or <testcase> (a format we do not read)")
        self.writer.add_duration(self.file_duration())

    def add_encoded(self, text: str, n: int, skipped: int = 0) -> None:
        """The accelerator's plain test cases (encoded, checked, identities recorded), in order."""
        self.flush()
        self.writer.add_encoded_tests(text, n, skipped)

    def flush(self) -> None:
        """Hand the batch of plain passing test cases to the writer (order is kept: every other
        test goes through :meth:`add` which flushes first)."""
        if self.batch:
            self.writer.add_tests(self.batch)
            self.batch = []

    def add(self, test: dict[str, Any], failure: dict[str, Any] | None = None) -> None:
        if self.batch:
            self.flush()
        self.add_test(test, failure)

    # -- streaming callbacks ---------------------------------------------------------------------
    def start(self, name: str, attrs: dict[str, str]) -> str | None:
        """expat's start handler. Returns a suite's full name (the C parser names its suites with
        it; pyexpat ignores the value)."""
        stack = self.stack
        parent = stack[-1]
        if name == "testcase":  # the hot path: a test case in no namespace
            if parent is not None:
                parent.nkids += 1
                if self.capture is parent:
                    self._stop_capture()
            stack.append(_El(name, attrs, parent, _CASE))
            self.saw_tests = True
            return None
        if " " in name:  # "uri local": only namespace-aware runs look at namespaced test elements
            local = name[name.rfind(" ") + 1:]
            wanted = self.namespaced
        else:
            local = name
            wanted = True
        kind = _OTHER
        if wanted and local == "testcase":
            kind = _CASE
            self.saw_tests = True
        elif wanted and local == "testsuite":
            kind = _SUITE
        if parent is None:  # the root element
            self.root = el = _El(local, attrs, None, kind)
            stack.append(el)
            return self.open_suite(el)
        parent.nkids += 1
        if self.capture is parent:  # lxml's .text ends at the first child element
            self._stop_capture()
        if kind == _OTHER:
            return self._other(local, attrs, parent)
        el = _El(local, attrs, parent, kind)
        stack.append(el)
        return self.open_suite(el)

    def _other(self, local: str, attrs: dict[str, str], parent: _El) -> str | None:
        """A child that is no test element: kept (with its text captured) only where it is read."""
        if parent is self.root and self.foreign is None and local not in _ROOT_KIDS:
            self.foreign = local
        kind = _OTHER
        pkind = parent.kind
        keep = False
        if pkind == _CASE:
            if local in _CASE_KIDS:
                keep = True
                if local in _RETRY_TAGS:
                    kind = _RETRY
                elif local == "properties":
                    kind = _PROPS
        elif pkind == _SUITE:
            keep = local in _SUITE_KIDS
        elif pkind == _RETRY:
            keep = local == "stackTrace"
        elif pkind == _PROPS:
            keep = local == "property"
        if not keep:  # nothing is read from it; a test element below only asks whether its
            # parent is a (possibly filtered-out) <testsuite> or the root — see _SKIP
            if local != "testsuite":
                self.stack.append(_SKIP)
                return None
            el = _El(local, attrs, parent, _OTHER)
            self.stack.append(el)
            return self.open_suite(el)
        el = _El(local, attrs, parent, kind)
        if parent.kids is None:
            parent.kids = []
        parent.kids.append(el)
        if kind != _PROPS:
            el.parts = []
            el.kept = 0
            el.dropped = 0
            el.check = self.cap
            self.capture = el
            self.parser.CharacterDataHandler = self.chars
        self.stack.append(el)
        return None

    def open_suite(self, el: _El) -> str | None:
        """A ``<testsuite>`` starts: its full name is the names of every open suite and its own,
        joined by `` › `` (the same nested suite under two parents is two suites)."""
        if el.local != "testsuite":
            return None
        self.saw_tests = True
        own = self._suite_name(el.attrs)
        outer = self.paths[-1] if self.paths else ""
        el.path = path = f"{outer}{SUITE_SEPARATOR}{own}" if outer and own else outer or own
        self.paths.append(path)
        return path

    def end(self, name: str) -> None:
        el = self.stack.pop()
        assert el is not None  # the root's parent (None) is never popped
        kind = el.kind
        if kind == _CASE:
            self.testcase(el, el.parent)
            el.kids = None  # kept children point back at it: free them now, not at the next collection
        elif kind == _SUITE:
            self.testsuite(el, el.parent)
            el.kids = None
        elif self.capture is el:
            self._stop_capture()
        if el.path is not None:
            self.paths.pop()

    def chars(self, data: str) -> None:
        el = self.capture
        if el is None:
            return
        if el.kept < el.check:
            el.parts.append(data)  # type: ignore[union-attr]
            el.kept += len(data)
        elif el.check < 0:  # settled: count what is not kept
            el.dropped += utf8_size(data)
        else:
            self._settle(el, data)

    def _settle(self, el: _El, data: str) -> None:
        """Past the cap: stop keeping once the kept prefix decides everything (see ``_settled``)."""
        joined = "".join(el.parts)  # type: ignore[arg-type]
        el.parts = [joined]
        if _settled(joined) or el.kept >= 16 * self.cap:
            el.check = -1
            el.dropped += utf8_size(data)
        else:  # e.g. a megabyte of blank lines first: keep going, look again at twice the size
            el.parts.append(data)
            el.kept += len(data)
            el.check = 2 * el.kept

    def _stop_capture(self) -> None:
        el = self.capture
        assert el is not None and el.parts is not None
        text = el.parts[0] if len(el.parts) == 1 else "".join(el.parts)
        el.text = CappedText(text, el.dropped) if el.dropped else text
        el.parts = None
        self.capture = None
        self.parser.CharacterDataHandler = None

    def file_duration(self) -> float:
        if self.root_time is not None:
            return self.root_time
        if self.top_time_seen:
            return self.top_time
        return self.case_time

    # -- captured texts --------------------------------------------------------------------------
    def _join(self, a: str | None, b: str | None, sep: str = "\n") -> str | None:
        """``a + sep + b`` for captured texts, keeping it a capped prefix (see :class:`CappedText`)."""
        if not b:
            return a
        if not a:
            return b
        dropped = getattr(a, "dropped_bytes", 0)
        if dropped:  # ``a`` already holds more than the cap: all of the rest is beyond it
            return CappedText(a, dropped + len(sep) + utf8_size(b) + getattr(b, "dropped_bytes", 0))
        joined = a + sep + b
        dropped = getattr(b, "dropped_bytes", 0)
        if len(joined) > self.cap:
            head = joined[: self.cap]
            if _settled(head):
                return CappedText(head, dropped + utf8_size(joined[self.cap:]))
        return CappedText(joined, dropped) if dropped else joined

    # -- suites ----------------------------------------------------------------------------------
    def _suite_name(self, attrs: Any) -> str:
        """Playwright writes one <testsuite> per project and file and names the project only in
        ``hostname``; the suite is ``[project] file`` then, as in the Playwright JSON reporter, so the
        same test in two projects is two tests, not one test retried."""
        name = attrs.get("name") or ""
        host = attrs.get("hostname") if self.project_hosts else None
        return f"[{host}] {name}" if host else name

    def _suite_of(self, parent: _El | None) -> None:
        self.suite_el = parent
        if parent is None or parent.local != "testsuite":
            self.suite_name = ""
            self.suite_json = '""'
            self.suite_file = None
            if parent is not None and self.root_time is None and parent.parent is None:
                self.root_time = seconds(parent.get("time"))
            return
        self.suite_name = parent.path or ""
        self.suite_json = _js(self.suite_name)
        self.suite_file = parent.get("file") or parent.get("filepath")

    def testsuite(self, el: _El, parent: _El | None) -> None:
        self.writer.add_suite()
        a = el.attrs
        if parent is None or parent.local != "testsuite":
            t = seconds(a.get("time"))
            if t is not None:
                self.top_time += t
                self.top_time_seen = True
            if parent is not None and self.root_time is None and parent.parent is None:
                self.root_time = seconds(parent.get("time"))
        out = err = None
        for c in el.kids or ():
            if c.local == "system-out":
                out = self._join(out, c.text)
            else:
                err = self._join(err, c.text)
        if out or err:
            self.writer.add_suite_output(suite=el.path or "", file=a.get("file"), stdout=out, stderr=err)
        if el is self.suite_el:
            self.suite_el = None

    # -- test cases ------------------------------------------------------------------------------
    def testcase(self, el: _El, parent: _El | None) -> None:
        if parent is not self.suite_el or self.suite_el is None:
            self._suite_of(parent)
        a = el.attrs
        # ``key in a`` before reading: cheaper than dict.get for the usually absent attributes
        t = a["time"] if "time" in a else None
        duration = None
        if t is not None:
            try:
                duration = float(t)
                if not 0 <= duration < _INF:
                    duration = seconds(t)
            except ValueError:
                duration = seconds(t)
            if duration is not None:
                self.case_time += duration
        classname = a.get("classname") or a.get("class") or ""
        name = a.get("name") or ""
        test: dict[str, Any] = {
            "suite": self.suite_name, "classname": classname, "name": name, "status": "passed",
            "duration": duration,
        }
        f = a["file"] if "file" in a else None
        if f:
            test["file"] = f
        if "line" in a:
            n = line_attr(a["line"], name)
            if n is not None:
                test["line"] = n
        if el.nkids:
            self._complex(el, a, test)
            return
        st = (attr_status(a) if "status" in a or "result" in a or "outcome" in a or "executed" in a
              or "success" in a else None)
        if st is not None and st != "passed":
            self._by_attributes(test, st)
        else:  # the hot path: most test cases pass with no children; a template, in batches
            enc = (f'{{"suite":{self.suite_json},"classname":{_js(classname)},"name":{_js(name)},'
                   f'"status":"passed","duration":{"null" if duration is None else repr(duration)}')
            if f:
                enc += ',"file":' + _js(f)
            if "line" in test:
                enc += ',"line":' + str(test["line"])
            batch = self.batch
            batch.append((test, enc + "}"))
            if len(batch) >= 512:
                self.flush()

    def _by_attributes(self, test: dict[str, Any], st: str) -> None:
        """A test case without children whose status attributes say skipped, failed or error."""
        test["status"] = st
        self.add(test, self._failure(test, None, None, None) if st != "skipped" else None)

    def _complex(self, el: _El, a: dict[str, str], test: dict[str, Any]) -> None:
        k = _Kids(self, el)
        decisive = k.error if k.error is not None else k.failure
        failure = None
        if decisive is not None:
            test["status"] = "error" if decisive is k.error else "failed"
            message = decisive.get("message")
            body = decisive.text
            others = ([k.failure] if k.error is not None and k.failure is not None else []) + k.extra
            if others:
                body = body or decisive.get("message") or ""
                for other in others:
                    body = self._join(body, other.text or other.get("message") or "", "\n\n")
            if message is None:
                message = first_line(body)
            test["message"] = message[:MESSAGE_CHARS] if message is not None else None
            failure = self._failure(test, message, decisive.get("type"), body)
        elif k.skipped is not None:
            test["status"] = "skipped"
            msg = k.skipped.get("message") or first_line(k.skipped.text)
            if msg is not None:
                test["message"] = msg[:MESSAGE_CHARS]
        elif k.retries:  # flakyFailure/flakyError (or reruns without a final failure): passed at last
            test["status"] = "flaky"
        else:
            st = attr_status(a)
            if st in ("skipped", "failed", "error"):
                test["status"] = st
                if st != "skipped":
                    failure = self._failure(test, None, None, None)
        if k.retries:
            test["retries"] = k.retries
        for key, value, kind in (("stdout", k.out, "out"), ("stderr", k.err, "err")):
            t = self.text(value, kind) if value else None
            if t is not None:
                test[key] = t
        if k.props:
            test["properties"] = k.props
        self.add(test, failure)

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


class _Kids:
    """What a test case's kept children say: the first ``<failure>``/``<error>``/``<skipped>``,
    further failures, retries, captured output and properties."""

    __slots__ = ("failure", "error", "skipped", "extra", "retries", "out", "err", "props")

    def __init__(self, run: _JUnitRun, el: _El) -> None:
        self.failure: _El | None = None
        self.error: _El | None = None
        self.skipped: _El | None = None
        self.extra: list[_El] = []
        self.retries: list[dict[str, Any]] = []
        self.out: str | None = None
        self.err: str | None = None
        self.props: dict[str, str] | None = None
        for c in el.kids or ():
            name = c.local
            if name == "failure" or name == "error":
                if getattr(self, name) is None:
                    setattr(self, name, c)
                else:
                    self.extra.append(c)
            elif name == "skipped":
                self.skipped = c
            elif name == "system-out":
                self.out = run._join(self.out, c.text)
            elif name == "system-err":
                self.err = run._join(self.err, c.text)
            elif name in _RETRY_TAGS:
                self.retries.append(_attempt(c))
            elif name == "properties":
                self._properties(c, run.cap)

    def _properties(self, c: _El, cap: int) -> None:
        for p in c.kids or ():
            key = p.get("name")
            if key is None:
                continue
            if self.props is None:
                self.props = {}
            value = p.get("value")
            if value is None:
                value = p.text or ""
                if getattr(value, "dropped_bytes", 0):
                    raise ReportError(f"test case property {key!r}: text over {cap} characters")
            self.props[key] = value


def _attempt(c: _El) -> dict[str, Any]:
    """A surefire ``rerunFailure``/``flakyFailure``/… element as an attempt of ``retries``."""
    attempt: dict[str, Any] = {"status": _RETRY_TAGS[c.local]}
    d = seconds(c.get("time"))
    if d is not None:
        attempt["duration"] = d
    msg = c.get("message") or first_line(_retry_trace(c))
    if msg is not None:
        attempt["message"] = msg[:MESSAGE_CHARS]
    if c.get("type") is not None:
        attempt["type"] = c.get("type")
    return attempt


def _settled(prefix: str) -> bool:
    """True when a kept prefix gives the same :func:`first_line` as any text it starts: its first
    non-blank line is complete, or already longer than the message cap."""
    for line in prefix.splitlines(True):
        if line.strip():
            return line.splitlines()[0] != line or len(line.strip()) >= MESSAGE_CHARS
    return False


def _retry_trace(el: _El) -> str | None:
    for c in el.kids or ():
        if c.local == "stackTrace":
            return c.text
    return el.text
