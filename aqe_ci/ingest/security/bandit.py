"""Bandit JSON (``bandit -f json``).

Severity is ``issue_severity`` (HIGH/MEDIUM/LOW, UNDEFINED → info); ``issue_confidence`` is kept as
``confidence``. Fingerprint: test id + file + hash of the flagged source lines (the ``code`` lines
whose numbers are in ``line_range``, line-number prefixes removed, whitespace normalised) + an
occurrence number, so it survives line shifts. ``# nosec`` findings are not in Bandit's JSON
(only ``metrics._totals.nosec`` counts them), so they cannot be kept as suppressed findings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import LINE_OUT_OF_RANGE, MAX_LINE, ReportError, ReportParser, SourceInfo, json_str
from aqe_ci.ingest.security.common import (
    Occurrences,
    array_items,
    cwe_id,
    fingerprint,
    first_line,
    head_text,
    json_stream,
    line_number,
    nonneg_int,
    report_keys,
    safe_text,
    text_hash,
)
from aqe_ci.ingest.stream.jsonhead import json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

BANDIT_SEVERITY = {"HIGH": "high", "MEDIUM": "medium", "LOW": "low", "UNDEFINED": "info"}
_CODE_LINE = re.compile(r"^(\d{1,18}) ?(.*)$")
_VERSION_IN_URL = re.compile(r"/en/(\d+\.\d+\.\d+)/")


def flagged_code(code: str, line_range: list[int]) -> str:
    """The source lines of ``code`` (``"NN text"`` lines) whose number is in ``line_range``."""
    wanted = set(line_range)
    out = []
    for raw in code.split("\n"):
        m = _CODE_LINE.match(raw)
        if m and int(m.group(1)) in wanted:
            out.append(m.group(2))
    return "\n".join(out)


class BanditParser(ReportParser):
    format = "bandit"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)

        def has(key: str) -> bool:
            return top.has(key) or f'"{key}"' in text

        return has("generated_at") and has("metrics") and (has("errors") or has("results"))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        seen = set()
        version = None
        occurrences = Occurrences()
        with json_stream(path) as js:
            for key in report_keys(js, "a Bandit report"):
                seen.add(key)
                if key == "results":
                    for i, r in array_items(js, "$.results"):
                        if not isinstance(r, dict):
                            raise js.error(f"$.results[{i}] must be an object")
                        finding = self._finding(r, occurrences)
                        m = _VERSION_IN_URL.search(str(r.get("more_info") or ""))
                        version = version or (m.group(1) if m else None)
                        writer.add_finding(finding)
                else:
                    js.skip()
        if "results" not in seen or "metrics" not in seen:
            raise ReportError("not a Bandit report: $.results or $.metrics is missing")
        writer.add_tool("bandit", version)

    @staticmethod
    def _finding(r: dict[str, Any], occurrences: Occurrences) -> dict[str, Any]:
        test_id = r.get("test_id")
        filename = r.get("filename")
        if not isinstance(test_id, str) or not isinstance(filename, str):
            raise ReportError("a Bandit result lacks test_id or filename")
        raw_sev = r.get("issue_severity")
        severity = BANDIT_SEVERITY.get(str(raw_sev).upper(), "info")
        line = r.get("line_number") if type(r.get("line_number")) is int else None
        if line is not None and line > MAX_LINE:
            raise ReportError(LINE_OUT_OF_RANGE)
        rng = [x for x in (r.get("line_range") or []) if type(x) is int]
        if rng and max(rng) > MAX_LINE:
            raise ReportError(LINE_OUT_OF_RANGE)
        code = json_str(r.get("code")) or ""
        snippet = flagged_code(code, rng or ([line] if line else []))
        text = json_str(r.get("issue_text")) or ""
        content = "snippet:" + text_hash(snippet) if snippet.strip() else "message:" + text_hash(text)
        col = r.get("col_offset")
        end_col = r.get("end_col_offset")
        line_number(col, "column number")
        line_number(end_col, "column number")
        n = occurrences.number((test_id, filename, content), r)
        cwe = r.get("issue_cwe")
        cwes = [cwe_id(f"CWE-{cwe.get('id')}")] if isinstance(cwe, dict) and cwe.get("id") else []
        return {
            "fingerprint": fingerprint("computed", "bandit", test_id, filename, content, n),
            "fingerprint_source": "computed",
            "tool": "bandit",
            "category": "code",
            "rule_id": test_id,
            "title": safe_text(first_line(text, 500)) or str(r.get("test_name") or test_id),
            "message": safe_text(text),
            "severity": severity,
            "tool_severity": raw_sev if isinstance(raw_sev, str) else None,
            "confidence": json_str(r.get("issue_confidence")),
            "location": {
                "path": filename,
                "start_line": line if line is not None and line >= 0 else None,
                "end_line": max(rng) if rng and max(rng) >= 0 else line,
                "start_column": col + 1 if type(col) is int and col >= 0 else None,
                "end_column": nonneg_int(end_col),
            },
            "ids": [],
            "cwe": [c for c in cwes if c],
            "url": safe_text(r.get("more_info")) if isinstance(r.get("more_info"), str) else None,
        }
