"""Playwright's JSON reporter (``--reporter=json``): every attempt of every test, so retries and
flaky tests survive (Playwright's JUnit output keeps only the final attempt).

Mapping (docs/compare.md relies on it for flaky detection):

* one test per (spec, project): ``suite`` = ``[project] file`` (just ``file`` without a project
  name), ``classname`` = ``file``, ``name`` = describe titles and the spec title joined by `` › ``
  (as Playwright's JUnit reporter names them), ``file``/``line`` = the spec's;
* status from Playwright's own verdict: ``expected`` → passed (or skipped when every attempt was
  skipped), ``flaky`` → flaky, ``skipped`` → skipped, ``unexpected`` → failed (``interrupted`` →
  error); ``retries`` = the earlier attempts; duration, message and output from the last attempt;
* a failed test's failure entry carries the error message (ANSI colour codes removed) and the stack.

Streams the top-level ``suites`` (one per spec file) with JsonStream: memory is bounded by one file's
suite (in any order of the top-level keys).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import LINE_OUT_OF_RANGE, MAX_LINE, ReportError, ReportParser, SourceInfo
from aqe_ci.ingest.stream.jsonhead import json_keys
from aqe_ci.ingest.stream.jsonstream import JsonStream, check_depth, object_keys
from aqe_ci.ingest.stream.opener import open_report
from aqe_ci.ingest.tests.junit import first_line

if TYPE_CHECKING:
    from aqe_ci.ingest.tests.writer import TestResultsWriter

MESSAGE_CHARS = 1000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ATTEMPT = {"passed": "passed", "failed": "failed", "timedOut": "failed", "skipped": "skipped",
            "interrupted": "error"}


def _plain(text: Any) -> str | None:
    return _ANSI.sub("", text) if isinstance(text, str) else None


def _first_line(text: str | None) -> str | None:
    return first_line(text, MESSAGE_CHARS)


def _output(chunks: Any) -> str | None:
    if not isinstance(chunks, list):
        return None
    texts = [c["text"] for c in chunks if isinstance(c, dict) and isinstance(c.get("text"), str)]
    return "".join(texts) or None


def _seconds(ms: Any) -> float | None:
    return round(float(ms) / 1000, 6) if isinstance(ms, int | float) and ms >= 0 else None


class PlaywrightJsonParser(ReportParser):
    format = "playwright-json"
    doc_type = "test_results"
    priority = 40

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        return (top is not None and top.kind == "object" and top.type_of("config") == "object"
                and b'"rootDir"' in head and (b'"projects"' in head or b'"configFile"' in head))

    def parse(self, path: Path, writer: TestResultsWriter, source: SourceInfo) -> None:
        writer.set_dialect("playwright", "playwright")
        seen = False
        with open_report(path, "json") as f:
            js = JsonStream(f)
            for key in object_keys(js, "a Playwright JSON report"):
                if key == "suites" and not seen and js.peek() == "[":
                    seen = True
                    for _ in js.iter_array():
                        suite = check_depth(js.value())
                        if not isinstance(suite, dict):
                            raise ReportError("not a Playwright JSON report: a suite is not an object")
                        writer.add_suite(count=1)
                        self._suite(writer, suite, file=str(suite.get("file") or suite.get("title") or ""),
                                    titles=[])
                elif key == "stats":
                    stats = check_depth(js.value())
                    if isinstance(stats, dict):
                        writer.add_duration(_seconds(stats.get("duration")))
                else:
                    js.skip()
        if not seen:
            raise ReportError("not a Playwright JSON report: no \"suites\" array")

    def _suite(self, writer: TestResultsWriter, suite: dict[str, Any], *, file: str, titles: list[str]) -> None:
        for spec in suite.get("specs") or []:
            if isinstance(spec, dict):
                self._spec(writer, spec, file=file, titles=titles)
        for child in suite.get("suites") or []:
            if isinstance(child, dict):
                self._suite(writer, child, file=file, titles=[*titles, str(child.get("title") or "")])

    def _spec(self, writer: TestResultsWriter, spec: dict[str, Any], *, file: str, titles: list[str]) -> None:
        name = " › ".join([*(t for t in titles if t), str(spec.get("title") or "")])
        spec_file = str(spec.get("file") or file)
        if isinstance(spec.get("line"), int) and spec["line"] > MAX_LINE:
            raise ReportError(f"spec {name[:100]!r}: {LINE_OUT_OF_RANGE}")
        for t in spec.get("tests") or []:
            if not isinstance(t, dict):
                continue
            project = t.get("projectName") or ""
            results = [r for r in t.get("results") or [] if isinstance(r, dict)]
            test: dict[str, Any] = {"suite": f"[{project}] {spec_file}" if project else spec_file,
                                    "classname": spec_file, "name": name, "file": spec_file}
            if isinstance(spec.get("line"), int) and spec["line"] >= 0:
                test["line"] = spec["line"]
            last = results[-1] if results else {}
            verdict = t.get("status")
            attempt = _ATTEMPT.get(str(last.get("status")), "failed") if last else "skipped"
            if verdict == "flaky":
                status = "flaky"
            elif verdict == "skipped" or (verdict == "expected" and attempt == "skipped"):
                status = "skipped"
            elif verdict == "expected":
                status = "passed"
            else:
                status = "error" if attempt == "error" else "failed"
            test["status"] = status
            test["duration"] = _seconds(last.get("duration"))
            error = last.get("error") if isinstance(last.get("error"), dict) else None
            message = _plain(error.get("message")) if error else None
            if status in ("failed", "error", "skipped") and message:
                test["message"] = _first_line(message)
            if len(results) > 1:
                test["retries"] = [self._attempt(r) for r in results[:-1]]
            out = _output(last.get("stdout"))
            if out:
                text = writer.text(out, "out")
                if text is not None:
                    test["stdout"] = text
            err = _output(last.get("stderr"))
            if err:
                text = writer.text(err, "err")
                if text is not None:
                    test["stderr"] = text
            failure = None
            if status in ("failed", "error"):
                failure = {"suite": test["suite"], "classname": test["classname"], "name": name, "file": spec_file,
                           "status": status, "duration": test["duration"],
                           "message": _first_line(message) if message else None}
                if "line" in test:
                    failure["line"] = test["line"]
                body = _plain(error.get("stack")) or message if error else None
                if body:
                    details = writer.text(body, "trace")
                    if details is not None:
                        failure["details"] = details
            writer.add_test(test, failure)

    @staticmethod
    def _attempt(r: dict[str, Any]) -> dict[str, Any]:
        a: dict[str, Any] = {"status": _ATTEMPT.get(str(r.get("status")), "failed"),
                             "duration": _seconds(r.get("duration"))}
        err = r.get("error") if isinstance(r.get("error"), dict) else None
        if err and err.get("message"):
            a["message"] = _first_line(_plain(err["message"]))
        return a
