"""Trivy JSON (``SchemaVersion: 2``): ``Results[].Vulnerabilities / Misconfigurations / Secrets``.

Vulnerabilities are dependency findings (fingerprint: trivy + id + package + installed version +
target/package path). Misconfigurations with ``Status: FAIL`` are config findings (``PASS`` is not a
finding; ``EXCEPTION`` is kept as suppressed); their fingerprint is check id + target + resource +
message, never the line. Secrets keep rule, target and lines only: the matched text and the code
lines are never copied (Trivy masks them, we do not rely on it); their fingerprint is rule + target
+ category + occurrence number within the target. VEX-suppressed findings
(``ExperimentalModifiedFindings``) are kept with ``suppressed: true``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, json_object
from aqe_ci.ingest.security.common import (
    Occurrences,
    advisory_id,
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
)
from aqe_ci.ingest.stream.jsonhead import json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

TRIVY_SEVERITY = {"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low",
                  "UNKNOWN": "info"}
_SCHEMA2 = re.compile(r'"SchemaVersion"\s*:\s*2\b')
_TRIVY_KEYS = re.compile(r'"(ArtifactName|ArtifactType|Results)"\s*:')


def _sev(raw: Any) -> tuple[str, str | None]:
    if isinstance(raw, str) and raw.upper() in TRIVY_SEVERITY:
        return TRIVY_SEVERITY[raw.upper()], raw
    return "info", raw if isinstance(raw, str) else None


def _s(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


class TrivyParser(ReportParser):
    format = "trivy"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)
        version = top.get("SchemaVersion")
        schema2 = (version == 2 and not isinstance(version, bool)) or bool(_SCHEMA2.search(text))
        return schema2 and (any(top.has(k) for k in ("ArtifactName", "ArtifactType", "Results"))
                            or bool(_TRIVY_KEYS.search(text)))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        version = None
        schema = None
        self._secret_seq = Occurrences()
        with json_stream(path) as js:
            for key in report_keys(js, "a Trivy report"):
                if key == "SchemaVersion":
                    schema = js.value()
                    if schema != 2:
                        raise js.error(f"Trivy SchemaVersion {schema!r} is not supported (2 only)")
                elif key == "Trivy":
                    meta = js.value()
                    if isinstance(meta, dict) and isinstance(meta.get("Version"), str):
                        version = meta["Version"]
                elif key == "Results":
                    if js.peek() == "n":
                        js.value()
                        continue
                    for i, result in array_items(js, "$.Results"):
                        if not isinstance(result, dict):
                            raise js.error(f"$.Results[{i}] must be an object")
                        self._result(result, writer)
                else:
                    js.skip()
        if schema != 2:
            raise ReportError("not a Trivy report: $.SchemaVersion 2 is missing")
        writer.add_tool("trivy", version)

    def _result(self, r: dict[str, Any], writer: SecurityWriter) -> None:
        target = _s(r.get("Target")) or ""
        ecosystem = _s(r.get("Type"))
        for v in r.get("Vulnerabilities") or []:
            writer.add_finding(self._vuln(v, target, ecosystem, suppressed=False))
        for m in r.get("ExperimentalModifiedFindings") or []:
            if isinstance(m, dict) and m.get("Type") == "vulnerability" and isinstance(m.get("Finding"), dict):
                writer.add_finding(self._vuln(m["Finding"], target, ecosystem, suppressed=True))
        for m in r.get("Misconfigurations") or []:
            f = self._misconf(m, target)
            if f is not None:
                writer.add_finding(f)
        for s in r.get("Secrets") or []:
            writer.add_finding(self._secret(s, target))

    @staticmethod
    def _vuln(v: Any, target: str, ecosystem: str | None, *, suppressed: bool) -> dict[str, Any]:
        if not isinstance(v, dict):
            raise ReportError(f"a vulnerability of {target!r} is not an object")
        vid = _s(v.get("VulnerabilityID"))
        pkg = _s(v.get("PkgName"))
        if vid is None or pkg is None:
            raise ReportError(f"a vulnerability of {target!r} lacks VulnerabilityID or PkgName")
        installed = _s(v.get("InstalledVersion"))
        pkg_path = _s(v.get("PkgPath"))
        sev, raw = _sev(v.get("Severity"))
        vendor = [x for x in (v.get("VendorIDs") or []) if isinstance(x, str)]
        ids = [i for i in (advisory_id(vid), *(advisory_id(x) for x in vendor)) if i] or [vid]
        f: dict[str, Any] = {
            "fingerprint": fingerprint("dependency", "trivy", vid, pkg, installed or "", target, pkg_path or ""),
            "fingerprint_source": "computed",
            "tool": "trivy",
            "category": "dependency",
            "rule_id": vid,
            "title": safe_text(first_line(_s(v.get("Title")) or vid, 500)) or vid,
            "message": safe_text(_s(v.get("Description"))),
            "severity": sev,
            "tool_severity": raw,
            "location": {"path": pkg_path or target or None, "start_line": None, "end_line": None,
                         "start_column": None, "end_column": None},
            "package": {"name": pkg, "ecosystem": ecosystem, "installed_version": installed,
                        "fixed_version": _s(v.get("FixedVersion")), "path": pkg_path or target or None},
            "ids": dedupe(ids),
            "cwe": dedupe([c for c in (cwe_id(x) for x in (v.get("CweIDs") or [])) if c]),
            "url": safe_text(_s(v.get("PrimaryURL"))),
        }
        if suppressed:
            f["suppressed"] = True
        return f

    @staticmethod
    def _misconf(m: Any, target: str) -> dict[str, Any] | None:
        if not isinstance(m, dict):
            raise ReportError(f"a misconfiguration of {target!r} is not an object")
        status = m.get("Status")
        if status == "PASS":
            return None
        rid = _s(m.get("ID")) or _s(m.get("AVDID"))
        if rid is None:
            raise ReportError(f"a misconfiguration of {target!r} has no ID")
        cause = json_object(m.get("CauseMetadata"))
        message = _s(m.get("Message"))
        sev, raw = _sev(m.get("Severity"))
        f: dict[str, Any] = {
            "fingerprint": fingerprint("config", "trivy", rid, target, _s(cause.get("Resource")) or "",
                                       message or ""),
            "fingerprint_source": "computed",
            "tool": "trivy",
            "category": "config",
            "rule_id": rid,
            "title": safe_text(first_line(_s(m.get("Title")) or rid, 500)) or rid,
            "message": safe_text(message),
            "severity": sev,
            "tool_severity": raw,
            "location": {"path": target or None, "start_line": line_number(cause.get("StartLine")),
                         "end_line": line_number(cause.get("EndLine")), "start_column": None, "end_column": None},
            "ids": [],
            "cwe": [],
            "url": safe_text(_s(m.get("PrimaryURL"))),
        }
        if status == "EXCEPTION":
            f["suppressed"] = True
        return f

    def _secret(self, s: Any, target: str) -> dict[str, Any]:
        if not isinstance(s, dict):
            raise ReportError(f"a secret finding of {target!r} is not an object")
        rid = _s(s.get("RuleID")) or "secret"
        category = _s(s.get("Category")) or ""
        start_line, end_line = line_number(s.get("StartLine")), line_number(s.get("EndLine"))
        n = self._secret_seq.number((rid, target, category), s)
        sev, raw = _sev(s.get("Severity"))
        title = _s(s.get("Title")) or rid
        return {
            "fingerprint": fingerprint("secret", "trivy", rid, target, category, n),
            "fingerprint_source": "computed",
            "tool": "trivy",
            "category": "secret",
            "rule_id": rid,
            "title": safe_text(first_line(title, 500)) or rid,
            "message": safe_text(f"{title} in {target}" if target else title),
            "severity": sev,
            "tool_severity": raw,
            "location": {"path": target or None, "start_line": start_line, "end_line": end_line,
                         "start_column": None, "end_column": None},
            "ids": [],
            "cwe": [],
            "url": None,
        }
