"""What the C/C++ test-result readers share (Boost.Test, CTest, CppUnit, QTestLib, Check,
UnitTest++): one test item out, the root check, element helpers over lxml's streaming parse.

Every reader streams with :func:`aqe_ci.ingest.stream.safexml.iterparse` (DTDs, entities and the
network off) and frees each finished element; the mappings are in docs/formats/tests.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import HEAD_BYTES, MAX_LINE, ReportError
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.junit import MESSAGE_CHARS, SUITE_SEPARATOR, first_line

__all__ = ["SUITE_SEPARATOR", "Test", "check_root", "child", "child_text", "emit", "local", "suite_path"]


def local(tag: Any) -> str:
    """An element's name without its namespace (comments and PIs have none: "")."""
    if not isinstance(tag, str):
        return ""
    return tag if tag[0] != "{" else tag.rsplit("}", 1)[1]


def child(el: Any, name: str) -> Any:
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def child_text(el: Any, *path: str) -> str | None:
    for name in path:
        if el is None:
            return None
        el = child(el, name)
    return el.text if el is not None else None


def suite_path(names: list[str]) -> str:
    """The full name of a nested suite: its enclosing suites' names and its own (empty ones left out)."""
    return SUITE_SEPARATOR.join(n for n in names if n)


def check_root(path: Path, roots: tuple[str, ...], what: str) -> tuple[bytes, tuple[str, bytes]]:
    """Check the prolog (DTD/ENTITY refused), then that the root is one of ``roots``: (head, root)."""
    head = safexml.check_prolog(path)[:HEAD_BYTES]
    root = root_start(head)
    if root is None or root[0] not in roots:
        found = f"<{root[0][:60]}>" if root else "no XML root element"
        raise ReportError(f"not {what}: expected <{'> or <'.join(roots)}> root, found {found}")
    return head, root


def source_line(value: str | None) -> int | None:
    """A line number attribute or text: a non-negative integer (else None); out of range refused."""
    if value is None:
        return None
    text = value.strip()
    if not text.isdigit() or not text.isascii():
        return None
    if len(text) > 10 or int(text) > MAX_LINE:
        raise ReportError("line number is out of range")
    return int(text)


class Test:
    """One test as a reader collects it; :func:`emit` turns it into the writer's items."""

    __slots__ = ("suite", "classname", "name", "status", "duration", "message", "ftype", "details", "stdout",
                 "stderr", "props", "file", "line")

    def __init__(self, suite: str, classname: str, name: str, status: str = "passed") -> None:
        self.suite = suite
        self.classname = classname
        self.name = name
        self.status = status
        self.duration: float | None = None
        self.message: str | None = None
        self.ftype: str | None = None
        self.details: str | None = None
        self.stdout: str | None = None
        self.stderr: str | None = None
        self.props: dict[str, str] | None = None
        self.file: str | None = None
        self.line: int | None = None


def emit(writer: Any, t: Test) -> None:
    """Hand one test (and its failure entry when it failed or errored) to the writer."""
    test: dict[str, Any] = {"suite": t.suite, "classname": t.classname, "name": t.name, "status": t.status,
                            "duration": t.duration}
    if t.file:
        test["file"] = t.file
    if t.line is not None:
        test["line"] = t.line
    message = t.message.strip()[:MESSAGE_CHARS] or None if t.message is not None else None
    if message is None and t.status in ("failed", "error", "skipped"):
        message = first_line(t.details)
    if message is not None:
        test["message"] = message
    for key, value, kind in (("stdout", t.stdout, "out"), ("stderr", t.stderr, "err")):
        text = writer.text(value, kind)
        if text is not None:
            test[key] = text
    if t.props:
        test["properties"] = t.props
    failure: dict[str, Any] | None = None
    if t.status in ("failed", "error"):
        failure = {k: test[k] for k in ("suite", "classname", "name", "status", "duration", "file",
                                                         "line") if k in test}
        failure["message"] = message
        if t.ftype:
            failure["type"] = t.ftype
        details = writer.text(t.details, "trace")
        if details is not None:
            failure["details"] = details
    writer.add_test(test, failure)
