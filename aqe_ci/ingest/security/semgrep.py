"""Semgrep JSON (``semgrep --json``): ``results[]`` with ``check_id``, ``path``, ``start``/``end``
and ``extra`` (``severity``, ``message``, ``metadata``, ``fingerprint``, ``lines``, ``is_ignored``).

Severity: ``extra.metadata.impact`` (HIGH/MEDIUM/LOW, Semgrep's security rules) when present, else
``extra.severity`` ERROR → high, WARNING → medium, INFO → low (CRITICAL/HIGH/MEDIUM/LOW of newer
rules map to themselves). Fingerprint: ``extra.fingerprint`` (tool-id) unless it is the logged-out
placeholder ``"requires login"``; else check id + path + hash of ``extra.lines`` (when it is real
code) or of the message, + occurrence number. ``nosemgrep`` results (``is_ignored``) are suppressed.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, json_array, json_object, json_str
from aqe_ci.ingest.security.common import (
    Occurrences,
    array_items,
    cwe_id,
    dedupe,
    fingerprint,
    first_line,
    head_text,
    json_stream,
    line_number,
    report_keys,
    safe_text,
    text_hash,
)
from aqe_ci.ingest.stream.jsonhead import json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

SEMGREP_SEVERITY = {"ERROR": "high", "WARNING": "medium", "INFO": "low", "CRITICAL": "critical",
                    "HIGH": "high", "MEDIUM": "medium", "LOW": "low", "INVENTORY": "info",
                    "EXPERIMENT": "info"}
IMPACT = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}
PLACEHOLDER = "requires login"
_CHECK = re.compile(r'"check_id"\s*:')
_RESULTS = re.compile(r'"results"\s*:\s*\[')
_PATHS = re.compile(r'"paths"\s*:\s*\{\s*"(scanned|skipped|_comment)"')


class SemgrepParser(ReportParser):
    format = "semgrep"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)
        if top.type_of("results") != "array" and not _RESULTS.search(text):
            return False
        paths = top.get("paths")
        return (bool(_CHECK.search(text) and '"extra"' in text) or bool(_PATHS.search(text))
                or (isinstance(paths, dict) and any(k in paths for k in ("scanned", "skipped", "_comment"))))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        version = None
        seen = False
        occurrences = Occurrences()
        with json_stream(path) as js:
            for key in report_keys(js, "a Semgrep report"):
                if key == "results":
                    seen = True
                    for i, r in array_items(js, "$.results"):
                        writer.add_finding(self._result(r, i, occurrences))
                elif key == "version":
                    v = js.value()
                    version = v if isinstance(v, str) else None
                else:
                    js.skip()
        if not seen:
            raise ReportError("not a Semgrep report: $.results is missing")
        writer.add_tool("semgrep", version)

    @staticmethod
    def _result(r: Any, i: int, occurrences: Occurrences) -> dict[str, Any]:
        if not isinstance(r, dict) or not isinstance(r.get("check_id"), str):
            raise ReportError(f"result {i} has no check_id")
        check = r["check_id"]
        path = json_str(r.get("path"))
        extra = json_object(r.get("extra"))
        meta = json_object(extra.get("metadata"))
        message = json_str(extra.get("message"))
        raw = json_str(extra.get("severity"))
        impact = json_str(meta.get("impact"))
        tool_sev: str | None
        if impact and impact.upper() in IMPACT:
            severity, tool_sev = IMPACT[impact.upper()], f"impact {impact}"
        else:
            severity, tool_sev = SEMGREP_SEVERITY.get((raw or "").upper(), "medium"), raw
        start = json_object(r.get("start"))
        end = json_object(r.get("end"))
        place = (line_number(start.get("line")), line_number(start.get("col"), "column number"),
                 line_number(end.get("line")), line_number(end.get("col"), "column number"))
        fp_raw = extra.get("fingerprint")
        if isinstance(fp_raw, str) and fp_raw and fp_raw != PLACEHOLDER:
            fp, fp_source = fingerprint("semgrep-fingerprint", check, fp_raw), "tool-id"
        else:
            lines = extra.get("lines")
            if isinstance(lines, str) and lines.strip() and lines != PLACEHOLDER:
                content = "snippet:" + text_hash(lines)
            else:
                content = "message:" + text_hash(message or "")
            n = occurrences.number((check, path or "", content), r)
            fp, fp_source = fingerprint("computed", "semgrep", check, path or "", content, n), "computed"
        cwe_raw = meta.get("cwe")
        cwes = [c for c in (cwe_id(x) for x in (cwe_raw if isinstance(cwe_raw, list) else [cwe_raw])) if c]
        refs = json_array(meta.get("references"))
        source = json_str(meta.get("source"))
        url = source if source is not None else next((u for u in refs if isinstance(u, str)), None)
        conf = json_str(meta.get("confidence"))
        f: dict[str, Any] = {
            "fingerprint": fp,
            "fingerprint_source": fp_source,
            "tool": "semgrep",
            "category": "code",
            "rule_id": check,
            "title": safe_text(first_line(message, 200)) or check,
            "message": safe_text(message),
            "severity": severity,
            "tool_severity": tool_sev,
            "confidence": conf,
            "location": {"path": path, "start_line": place[0], "end_line": place[2], "start_column": place[1],
                         "end_column": place[3]},
            "ids": [],
            "cwe": dedupe(cwes),
            "url": safe_text(url),
        }
        if extra.get("is_ignored") is True:
            f["suppressed"] = True
        return f
