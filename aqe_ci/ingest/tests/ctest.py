"""CTest's dashboard XML (``ctest -T Test`` → ``Testing/<tag>/Test.xml``) → ``test_results``.

Root ``<Site>``, one ``<Testing>``, a ``<Test Status="passed|failed|notrun">`` per test with its
``<Name>``, ``<Path>`` and ``<Results>`` measurements: ``Execution Time`` (seconds), ``Exit Code``
(``Failed`` is a failure; ``Timeout``, ``SEGFAULT`` and other abnormal ends are errors),
``Completion Status`` (a ``notrun`` test is skipped when ``Disabled`` or skipped by its return
code, else an error: ``Not Run``, ``Required Files Missing``, … — ctest counts those as failed),
and the output in ``<Measurement><Value>`` (base64+gzip when ctest compressed it; decoded up to
the blob cap). Mappings: docs/formats/tests.md.
"""

from __future__ import annotations

import base64
import binascii
import zlib
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import ReportParser, SourceInfo
from aqe_ci.ingest.stream import safexml
from aqe_ci.ingest.stream.xmlhead import root_start
from aqe_ci.ingest.tests.common import Test, check_root, child, child_text, emit, local
from aqe_ci.ingest.tests.junit import seconds

_CRASHES = frozenset(("timeout", "segfault", "illegal", "interrupt", "numerical", "other_fault", "bad_command",
                      "child aborted", "exception", "signal"))
_SKIPPED = ("disabled", "skipped", "skip_return_code", "skip_regular_expression")


class CTestParser(ReportParser):
    format = "ctest"
    doc_type = "test_results"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        root = root_start(head)
        return root is not None and root[0] == "Site" and b"<Testing" in head

    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        check_root(path, ("Site",), "CTest XML")
        writer.set_dialect("ctest", "CTest")
        cap = max(writer.limits.max_blob_bytes, writer.limits.inline_text_bytes)
        total = 0.0
        span: list[float | None] = [None, None]
        for _, el in safexml.iterparse(path, events=("end",), tag=("Test", "StartTestTime", "EndTestTime"),
                                       prolog_checked=True):
            if el.tag == "Test" and el.get("Status") is not None:
                t = _test(el, cap)
                total += t.duration or 0.0
                emit(writer, t)
            elif el.tag != "Test":
                span[el.tag == "EndTestTime"] = seconds(el.text)
            safexml.free_finished(el)
        start, end = span
        writer.add_suite()
        writer.add_duration(end - start if start is not None and end is not None and end >= start else total)


def _test(el: Any, cap: int) -> Test:
    t = Test(child_text(el, "Path") or "", "", child_text(el, "Name") or "")
    measures: dict[str, str] = {}
    results = child(el, "Results")
    for m in results if results is not None else ():
        if local(m.tag) == "NamedMeasurement" and m.get("name"):
            measures.setdefault(m.get("name"), (child_text(m, "Value") or "").strip())
        elif local(m.tag) == "Measurement":
            t.stdout = _output(child(m, "Value"), cap)
    t.duration = seconds(measures.get("Execution Time"))
    completion = measures.get("Completion Status") or ""
    status = (el.get("Status") or "").strip().lower()
    if status == "passed":
        return _labelled(t, el)
    exit_code = measures.get("Exit Code") or ""
    if status == "notrun":
        skipped = completion.lower().startswith(_SKIPPED)
        t.status = "skipped" if skipped else "error"
        t.message = completion or "Not Run"
    else:
        t.status = "error" if exit_code.lower() in _CRASHES else "failed"
        reason = measures.get("Fail Reason")
        value = measures.get("Exit Value")
        t.message = reason or (f"{exit_code or 'Failed'}" + (f" (exit value {value})" if value else ""))
        t.ftype = exit_code or None
        t.details = t.stdout
    return _labelled(t, el)


def _labelled(t: Test, el: Any) -> Test:
    labels = child(el, "Labels")
    if labels is not None:
        names = [(x.text or "").strip() for x in labels if local(x.tag) == "Label" and (x.text or "").strip()]
        if names:
            t.props = {"labels": ", ".join(names)}
    return t


def _output(value: Any, cap: int) -> str | None:
    """The test's output; ctest's base64+gzip form decoded, at most ``cap`` bytes of it."""
    if value is None or not value.text:
        return None
    text: str = value.text
    if value.get("encoding") != "base64":
        return text
    try:
        raw = base64.b64decode(value.text, validate=False)
        if value.get("compression") == "gzip":
            raw = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(raw, cap)
    except (binascii.Error, ValueError, zlib.error):
        return "(ctest's compressed output could not be decoded)"
    return raw[:cap].decode("utf-8", "replace")
