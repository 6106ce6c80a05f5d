"""TAP (Test Anything Protocol 12/13/14: bats, node-tap, Perl's prove and Test::More, …) → ``test_results``.

Streamed line by line (memory: one test's diagnostics, capped). Every ``ok``/``not ok`` line is a
test: ``not ok`` → failed, ``# SKIP`` → skipped, ``# TODO`` → skipped (an expected failure, or a
passing to-do), else passed; its name is the description (``test N`` without one; a repeated
description gets `` [2]``, `` [3]`` so no two assertions merge). YAML diagnostics (``---`` … ``...``)
and ``#`` comments after a failing test are its failure details (YAML ``message:`` its message,
``duration_ms:`` / ``# time=`` its duration). Subtests (indented, ``# Subtest: name``) nest: their
tests' suite is the path of subtest names; a subtest's own closing line is not a test unless it
failed while none of its tests did. The plan is checked: tests missing from it (a crash, ``Bail
out!``), tests beyond it and a missing plan each give one error test, so a run that stopped early
never reads as a success; test lines after a closing plan make the file invalid. ``prove -v``
output is read per test file (``t/foo.t .. `` headers name the suite). Mappings:
docs/formats/tests.md.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.stream.opener import open_report
from aqe_ci.ingest.tests.common import Test, emit, suite_path
from aqe_ci.ingest.tests.writer import CappedText, utf8_size

_RESULT = re.compile(r"(not )?ok(?!\w)[ \t]*(\d+)?[ \t]*(?:-[ \t]*)?(.*)")
_PLAN = re.compile(r"1\.\.(\d+)[ \t]*(?:#[ \t]*(.*))?")
_DIRECTIVE = re.compile(r"(SKIP\S*|TODO)\b[ \t]*(.*)", re.I | re.S)
_TIME = re.compile(r"time=([\d.]+)(ms|s)?\s*$")
_YAML_MS = re.compile(r"^\s*duration_ms:\s*([\d.]+)\s*$", re.M)
_YAML_MESSAGE = re.compile(r"^\s*message:\s*(.+?)\s*$", re.M)
_HEADER = re.compile(r"(\S[^\s]*?\.\w+|\S*/\S*)[ \t]\.{2,}[ \t]?(.*)")
_HEAD_TAP = re.compile(rb"^[ \t]*(?:TAP version 1[34][ \t]*\r?$|1\.\.\d+|(?:not )?ok(?![\w])|# Subtest)", re.M)
_HEAD_RESULT = re.compile(rb"^[ \t]*(?:not )?ok(?![\w])", re.M)
_PROVE_END = ("All tests successful", "Files=", "Result: ", "Test Summary Report", "Dubious, test returned",
              "Failed ", "No subtests run", "Parse errors:")
MAX_LINE_BYTES = 16 << 20


class TapParser(ReportParser):
    format = "tap"
    doc_type = "test_results"
    priority = 60

    @classmethod
    def detect(cls, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        first = text.split(b"\n", 1)[0].rstrip(b"\r")
        if re.match(rb"TAP version 1[34][ \t]*$", first):
            return True
        if _HEADER.fullmatch(first.decode("utf-8", "replace")) and not first.startswith(b"#"):
            return bool(_HEAD_RESULT.search(text) or b"All tests successful" in text or b"\nResult: " in text)
        if not _HEAD_TAP.match(first):
            return False
        return len(_HEAD_TAP.findall(text[:16384])) >= 2 and bool(_HEAD_RESULT.search(text) or _PLAN.match(
            first.decode("ascii", "replace")))

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        writer.set_dialect("tap", None)
        run = _TapRun(writer)
        with open_report(path, "text") as f:
            lineno = 0
            while raw := f.readline(MAX_LINE_BYTES + 1):
                lineno += 1
                if len(raw) > MAX_LINE_BYTES:
                    raise ReportError(f"a line is longer than {MAX_LINE_BYTES} bytes", line=lineno)
                try:
                    line = raw.decode("utf-8").rstrip("\r\n")
                except UnicodeDecodeError:
                    raise ReportError("not UTF-8 text", line=lineno) from None
                run.line(line.lstrip("\ufeff") if lineno == 1 else line, lineno)
        run.finish()


class _Level:
    """One nesting level: the stream itself (indent 0) or a subtest."""

    __slots__ = ("indent", "name", "plan", "plan_closed", "results", "failed", "skip_all", "bail")

    def __init__(self, indent: int, name: str) -> None:
        self.indent = indent
        self.name = name
        self.plan: int | None = None
        self.plan_closed = False  # the plan came after test lines: nothing may follow
        self.results = 0
        self.failed = False
        self.skip_all = False
        self.bail: str | None = None


class _TapRun:
    def __init__(self, writer: Any) -> None:
        self.writer = writer
        self.cap = max(writer.limits.max_blob_bytes, writer.limits.inline_text_bytes)
        self.section = ""  # prove's test file
        self.levels = [_Level(0, "")]
        self.closed: _Level | None = None  # a subtest that just ended: its closing line follows
        self.pending_name = ""
        self.test: Test | None = None  # the last test, open for its diagnostics
        self.diag: list[str] = []
        self.diag_size = 0
        self.dropped = 0
        self.yaml_indent: int | None = None
        self.names: dict[tuple[str, str], int] = {}
        self.duration = 0.0
        self.total_time: float | None = None
        self.saw_tap = False
        self.bailed = False
        self.prove: bool | None = None  # prove's output (test file headers), decided by the first line
        self.result_indent: int | None = None  # the last test line's: a YAML block may follow it
        self.comment: str | None = None  # the first comment line after a failing test

    # -- lines ----------------------------------------------------------------------------------
    def line(self, line: str, lineno: int) -> None:
        if "\r" in line:  # prove's progress overwrites itself with carriage returns
            line = line.rsplit("\r", 1)[-1]
        body = line.lstrip(" \t")
        indent = len(line) - len(body)
        if self.yaml_indent is not None:
            self._yaml_line(body, indent)
            return
        if not body:
            return
        if self.prove is None:
            self.prove = bool(_HEADER.fullmatch(body)) and not _RESULT.fullmatch(body) and body[0] != "#"
        if self.prove and indent == 0 and self._prove_line(body):
            return
        if self.bailed:
            return  # nothing after "Bail out!" is part of this run
        if body.startswith("#"):
            self._comment(body, indent)
            return
        m = _RESULT.fullmatch(body)
        if m is not None:
            self._result(m, indent, lineno)
            return
        plan = _PLAN.fullmatch(body)
        if plan is not None:
            self._plan(plan, indent, lineno)
        elif body.startswith("Bail out!"):
            self._bail(body[len("Bail out!"):].strip())
        elif body == "---" and self.result_indent is not None and indent > self.result_indent:
            self.yaml_indent = indent
        elif body.startswith(("TAP version", "pragma ")):
            self.saw_tap = True
        # anything else is not TAP: ignored, as the protocol says

    def _prove_line(self, body: str) -> bool:
        """prove's own lines: a test file's header (a new section; the same file again is its
        verdict) and its end-of-run summary."""
        header = _HEADER.fullmatch(body) if body[0] != "#" else None
        if header is not None and not _RESULT.fullmatch(body):
            if header.group(1) != self.section:
                self.finish_section()
                self.section = header.group(1)
                self.bailed = False
            verdict = header.group(2).strip()
            if verdict and not self.saw_tap:
                self._verdict(verdict)
            return True
        return body.startswith(_PROVE_END) or (body == "ok" and self._planned_all())

    def _planned_all(self) -> bool:
        top = self.levels[0]
        return top.plan is not None and top.results >= top.plan

    def _verdict(self, verdict: str) -> None:
        """A non-verbose prove header (``t/a.t .. ok``): the file's verdict is its only test."""
        if verdict[0].isdigit():
            return  # progress ("1/3"): the verdict follows
        t = Test(self.section, "", self.section)
        if verdict.startswith("skipped"):
            t.status, t.message = "skipped", verdict.partition(":")[2].strip() or None
        elif verdict != "ok":
            t.status, t.message = "failed", verdict
        self.levels[0].results = -1  # the section is decided: no plan check
        self._emit(t)

    # -- results ---------------------------------------------------------------------------------
    def _result(self, m: re.Match[str], indent: int, lineno: int) -> None:
        self.saw_tap = True
        self._flush()
        level = self._enter(indent)
        closing = self.closed is not None and self.closed.indent > indent
        closed, self.closed = self.closed, None
        if level.plan_closed and not closing:
            raise ReportError("TAP: a test line after the plan that closed the test run", line=lineno)
        level.results += 1
        failed = m.group(1) is not None
        desc, directive, reason, seconds = _split(m.group(3))
        status = "failed" if failed else "passed"
        if directive.startswith("SKIP"):
            status = "skipped"
        elif directive == "TODO":
            status = "skipped" if failed else "passed"
        self.result_indent = indent
        if closing and closed is not None:
            if status == "failed" and not closed.failed:
                self._subtest_failed(desc or closed.name, seconds)
            level.failed = level.failed or status == "failed"
            return
        name = desc or f"test {m.group(2) or level.results}"
        t = Test(self._suite(), "", self._unique(name), status)
        t.duration = seconds
        if directive:
            t.message = reason or directive.lower()
        level.failed = level.failed or status == "failed"
        self.test = t

    def _subtest_failed(self, name: str, seconds: float | None) -> None:
        t = Test(self._suite(), "", self._unique(name), "failed")
        t.message = "the subtest failed (its plan, or an error outside its tests)"
        t.duration = seconds
        self.test = t

    def _plan(self, m: re.Match[str], indent: int, lineno: int) -> None:
        self.saw_tap = True
        self._flush()
        level = self._enter(indent)
        self.closed = self.result_indent = None
        if level.plan is not None:
            raise ReportError("TAP: a second plan", line=lineno)
        level.plan = int(m.group(1)) if len(m.group(1)) < 10 else 10**9
        level.plan_closed = level.results > 0
        directive = _DIRECTIVE.match(m.group(2) or "")
        level.skip_all = level.plan == 0 and directive is not None

    def _bail(self, reason: str) -> None:
        self._flush()
        self.levels[0].bail = reason or "(no reason given)"
        self.bailed = True

    def _comment(self, body: str, indent: int) -> None:
        text = body[1:].strip()
        if text.startswith("Subtest"):
            self._flush()
            name = text.partition(":")[2].strip()
            if indent > self.levels[-1].indent and not self.pending_name:
                self.pending_name = name  # TAP 14's place: the comment opens the level it is in
                self._enter(indent)
                return
            self._enter(indent)  # Test::More's and node-tap's: it announces the next level
            self.pending_name = name
            return
        if indent == 0 and len(self.levels) == 1:
            t = _TIME.fullmatch(text)
            if t is not None and self.levels[0].plan is not None:
                self.total_time = _seconds(t.group(1), t.group(2))
        if self.test is not None and self.test.status == "failed":
            if self.comment is None and text:
                self.comment = text
            self._diag(text)

    # -- levels ------------------------------------------------------------------------------------
    def _enter(self, indent: int) -> _Level:
        """The level a line at ``indent`` belongs to: deeper levels end, a deeper line opens one."""
        while len(self.levels) > 1 and self.levels[-1].indent > indent:
            self.closed = self.levels.pop()
            self._check_plan(self.closed)
            self.levels[-1].failed = self.levels[-1].failed or self.closed.failed
        if indent > self.levels[-1].indent:
            self.levels.append(_Level(indent, self.pending_name))
            self.pending_name = ""
            self.closed = None
        return self.levels[-1]

    def _check_plan(self, level: _Level) -> None:
        """Tests the plan announced but the run did not reach (or went past): one error test."""
        self._flush()
        if level.results < 0 or level.skip_all:
            return
        reason = None
        if level.plan is None:
            if level.results or level.bail or level.indent == 0:
                reason = ("no TAP plan: the test run may have stopped early" if not level.bail
                          else f"Bail out! {level.bail}")
        elif level.results < level.plan:
            reason = f"{level.plan - level.results} of {level.plan} planned tests did not run"
            if level.bail:
                reason += f" (Bail out! {level.bail})"
        elif level.results > level.plan:
            reason = f"{level.results} tests ran, the plan announces {level.plan}"
        if reason is not None:
            names = [*(lv.name for lv in self.levels if lv is not level), level.name]
            t = Test(suite_path([self.section, *names]), "", "(plan)", "error")
            t.message = reason
            self._emit(t)
            level.failed = True

    def _suite(self) -> str:
        return suite_path([self.section, *(lv.name for lv in self.levels)])

    def _unique(self, name: str) -> str:
        key = (self._suite(), name)
        n = self.names.get(key, 0) + 1
        self.names[key] = n
        return name if n == 1 else f"{name} [{n}]"

    # -- diagnostics and emitting ---------------------------------------------------------------
    def _yaml_line(self, body: str, indent: int) -> None:
        if body == "..." and indent <= (self.yaml_indent or 0):
            self.yaml_indent = None
            self._yaml_done()
            return
        prefix = " " * max(0, indent - (self.yaml_indent or 0))
        self._diag(prefix + body)

    def _yaml_done(self) -> None:
        t = self.test
        if t is None:  # a subtest's closing line's block: nothing to keep
            self.diag, self.diag_size, self.dropped = [], 0, 0
            return
        text = "\n".join(self.diag)
        ms = _YAML_MS.search(text)
        if ms is not None and t.duration is None:
            t.duration = _seconds(ms.group(1), "ms")
        if t.status == "failed" and t.message is None:
            t.message = _yaml_message(self.diag) or t.name
        if t.status != "failed":
            self.diag, self.diag_size, self.dropped = [], 0, 0

    def _diag(self, text: str) -> None:
        if self.diag_size < self.cap:
            self.diag.append(text)
            self.diag_size += len(text) + 1
        else:
            self.dropped += utf8_size(text) + 1

    def _flush(self) -> None:
        """Emit the open test, with its diagnostics."""
        t, self.test = self.test, None
        if t is None:
            return
        if self.yaml_indent is not None:
            self.yaml_indent = None
            self._yaml_done()
        if t.status == "failed" and self.diag:
            text = "\n".join(self.diag)
            t.details = CappedText(text, self.dropped) if self.dropped else text
            if t.message is None:
                t.message = self.comment
        self.diag, self.diag_size, self.dropped, self.comment = [], 0, 0, None
        self._emit(t)

    def _emit(self, t: Test) -> None:
        if t.duration is not None:
            self.duration += t.duration
        emit(self.writer, t)

    def finish_section(self) -> None:
        self._flush()
        self.closed = None
        while len(self.levels) > 1:
            self._enter(self.levels[-2].indent)
        self.closed = None
        if self.saw_tap:
            self._check_plan(self.levels[0])
        self.levels = [_Level(0, "")]
        self.names.clear()
        self.saw_tap = False

    def finish(self) -> None:
        had = self.saw_tap or self.section
        self.finish_section()
        if not had:
            raise ReportError("no TAP test lines, plan or version: not a TAP stream")
        self.writer.add_suite()
        self.writer.add_duration(self.total_time if self.total_time is not None else self.duration)


def _yaml_message(lines: list[str]) -> str | None:
    """The ``message:`` of a YAML diagnostic block (the first line of a ``|``/``>`` block scalar)."""
    for i, line in enumerate(lines):
        m = _YAML_MESSAGE.match(line)
        if m is None:
            continue
        value = m.group(1)
        if value[:1] in ("|", ">") and len(value) <= 2:
            return next((x.strip() for x in lines[i + 1:] if x.strip()), None)
        return value.strip("'\"") or None
    return None


def _split(rest: str) -> tuple[str, str, str, float | None]:
    """(description, directive SKIP/TODO, its reason, seconds) of a test line's text after the number."""
    cut = _unescaped_hash(rest)
    desc = rest if cut < 0 else rest[:cut]
    desc = desc.strip().replace("\\#", "#")
    tail = "" if cut < 0 else rest[cut + 1:].strip()
    directive = reason = ""
    seconds = None
    d = _DIRECTIVE.match(tail)
    if d is not None:
        directive = "SKIP" if d.group(1).upper().startswith("SKIP") else "TODO"
        reason = d.group(2).strip()
    else:
        t = _TIME.search(tail)
        if t is not None:
            seconds = _seconds(t.group(1), t.group(2))
    return desc, directive, reason, seconds


def _unescaped_hash(text: str) -> int:
    i = text.find("#")
    while i > 0 and text[i - 1] == "\\":
        i = text.find("#", i + 1)
    return i


def _seconds(value: str, unit: str | None) -> float | None:
    try:
        x = float(value)
    except ValueError:
        return None
    if x != x or x < 0 or x == float("inf"):
        return None
    return x / 1000 if unit in (None, "ms") else x
