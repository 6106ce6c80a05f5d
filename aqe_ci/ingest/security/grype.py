"""Grype JSON (``grype -o json``): ``matches[]`` (and ``ignoredMatches[]``, kept as suppressed).

Severity: ``vulnerability.severity`` Critical/High/Medium/Low → same; Negligible and Unknown → info.
Fingerprint: grype + vulnerability id + artifact name + version + first artifact location path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, json_object, json_str
from aqe_ci.ingest.security.common import (
    advisory_id,
    array_items,
    cwe_id,
    dedupe,
    fingerprint,
    first_line,
    head_text,
    json_stream,
    report_keys,
    safe_text,
)
from aqe_ci.ingest.stream.jsonhead import json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

GRYPE_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "low": "low",
                  "negligible": "info", "unknown": "info"}
_GRYPE = re.compile(r'"matchDetails"\s*:|"descriptor"\s*:\s*\{\s*"name"\s*:\s*"grype"')


class GrypeParser(ReportParser):
    format = "grype"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object" or top.type_of("matches") != "array":
            return False
        descriptor = top.get("descriptor")
        return (isinstance(descriptor, dict) and descriptor.get("name") == "grype") or bool(_GRYPE.search(head_text(head)))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        version = None
        seen = False
        with json_stream(path) as js:
            for key in report_keys(js, "a Grype report"):
                if key in ("matches", "ignoredMatches"):
                    seen = seen or key == "matches"
                    for i, m in array_items(js, f"$.{key}"):
                        writer.add_finding(self._match(m, i, suppressed=key == "ignoredMatches"))
                elif key == "descriptor":
                    d = js.value()
                    if isinstance(d, dict) and isinstance(d.get("version"), str):
                        version = d["version"]
                else:
                    js.skip()
        if not seen:
            raise ReportError("not a Grype report: $.matches is missing")
        writer.add_tool("grype", version)

    @staticmethod
    def _match(m: Any, i: int, *, suppressed: bool) -> dict[str, Any]:
        vuln = m.get("vulnerability") if isinstance(m, dict) else None
        art = m.get("artifact") if isinstance(m, dict) else None
        if not isinstance(vuln, dict) or not isinstance(art, dict):
            raise ReportError(f"match {i} lacks vulnerability or artifact")
        vid, name = vuln.get("id"), art.get("name")
        if not isinstance(vid, str) or not isinstance(name, str):
            raise ReportError(f"match {i} lacks vulnerability.id or artifact.name")
        version = json_str(art.get("version"))
        locs = [x.get("path") for x in (art.get("locations") or [])
                if isinstance(x, dict) and isinstance(x.get("path"), str)]
        loc_path = locs[0] if locs else None
        raw = vuln.get("severity")
        severity = GRYPE_SEVERITY.get(str(raw).lower(), "info")
        fix = json_object(vuln.get("fix"))
        fixes = [v for v in (fix.get("versions") or []) if isinstance(v, str)]
        related = [r.get("id") for r in (m.get("relatedVulnerabilities") or [])
                   if isinstance(r, dict) and isinstance(r.get("id"), str)]
        ids = [x for x in (advisory_id(v) for v in [vid, *related]) if x] or [vid]
        urls = [u for u in (vuln.get("urls") or []) if isinstance(u, str)]
        url = vuln.get("dataSource") if isinstance(vuln.get("dataSource"), str) else (urls[0] if urls else None)
        desc = json_str(vuln.get("description"))
        cwes = [c for c in (cwe_id(x) for x in (vuln.get("cwes") or [])) if c]
        f: dict[str, Any] = {
            "fingerprint": fingerprint("dependency", "grype", vid, name, version or "", loc_path or ""),
            "fingerprint_source": "computed",
            "tool": "grype",
            "category": "dependency",
            "rule_id": vid,
            "title": safe_text(first_line(desc, 200)) or f"{vid} in {name}",
            "message": safe_text(desc),
            "severity": severity,
            "tool_severity": raw if isinstance(raw, str) else None,
            "location": {"path": loc_path, "start_line": None, "end_line": None,
                         "start_column": None, "end_column": None} if loc_path else None,
            "package": {"name": name, "ecosystem": json_str(art.get("type")),
                        "installed_version": version, "fixed_version": ", ".join(fixes) or None,
                        "path": loc_path},
            "ids": dedupe(ids),
            "cwe": dedupe(cwes),
            "url": safe_text(url),
        }
        if suppressed:
            f["suppressed"] = True
        return f
