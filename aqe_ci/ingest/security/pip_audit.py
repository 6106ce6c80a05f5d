"""pip-audit JSON (``pip-audit -f json``), both shapes.

* pip-audit 2.x: ``{"dependencies": [{"name", "version", "vulns": [...]} | {"name", "skip_reason"}],
  "fixes": [...]}``;
* pip-audit 1.x: the bare list of dependencies ``[{"name", "version", "vulns": [...]}]``.

pip-audit reports no severity. Every vulnerability it lists is a published advisory affecting the
installed version (not a heuristic), so we map it to ``medium`` — counted, visible in comparisons,
but below the usual ``--fail-on high`` gates; ``tool_severity`` stays null to show it was not the
tool's. Skipped dependencies (``skip_reason``) are not findings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, json_str
from aqe_ci.ingest.security.common import (
    advisory_id,
    array_items,
    dedupe,
    fingerprint,
    first_line,
    head_text,
    json_stream,
    safe_text,
)
from aqe_ci.ingest.stream.jsonhead import json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

DEFAULT_SEVERITY = "medium"
_LIST = re.compile(r'^\[\s*\{\s*"name"\s*:')
_VULNS = re.compile(r'"(vulns|skip_reason)"\s*:')


class PipAuditParser(ReportParser):
    format = "pip-audit"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None:
            return False
        text = head_text(head)
        if top.kind == "object":
            shaped = top.type_of("dependencies") == "array"
        else:
            shaped = top.kind == "array" and (isinstance(top.first, dict) and "name" in top.first
                                              or bool(_LIST.match(text)))
        return shaped and bool(_VULNS.search(text))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        writer.add_tool("pip-audit")
        with json_stream(path) as js:
            ch = js.peek()
            if ch == "[":
                for i in js.iter_array():
                    self._dependency(js.value(), i, writer)
            elif ch == "{":
                seen = False
                for key in js.iter_object():
                    if key == "dependencies":
                        seen = True
                        for i, dep in array_items(js, "$.dependencies"):
                            self._dependency(dep, i, writer)
                    else:
                        js.skip()
                if not seen:
                    raise ReportError("not a pip-audit report: $.dependencies is missing")
            else:
                raise js.error("a pip-audit report must be a JSON object or array")
            js.end()

    @staticmethod
    def _dependency(dep: Any, i: int, writer: SecurityWriter) -> None:
        if not isinstance(dep, dict) or not isinstance(dep.get("name"), str):
            raise ReportError(f"dependency {i} is not an object with a name")
        if "skip_reason" in dep and "vulns" not in dep:
            return
        name = dep["name"]
        version = json_str(dep.get("version"))
        vulns = dep.get("vulns")
        if not isinstance(vulns, list):
            raise ReportError(f"dependency {name!r} has no vulns list")
        for v in vulns:
            if not isinstance(v, dict) or not isinstance(v.get("id"), str):
                raise ReportError(f"a vulnerability of {name!r} has no id")
            vid = v["id"]
            aliases = [a for a in (v.get("aliases") or []) if isinstance(a, str)]
            fixes = [f for f in (v.get("fix_versions") or []) if isinstance(f, str)]
            desc = json_str(v.get("description"))
            ids = [i for i in (advisory_id(a) for a in [vid, *aliases]) if i]
            writer.add_finding({
                "fingerprint": fingerprint("dependency", "pip-audit", vid, name.lower(), version or ""),
                "fingerprint_source": "computed",
                "tool": "pip-audit",
                "category": "dependency",
                "rule_id": vid,
                "title": safe_text(first_line(desc, 200)) or f"{vid} in {name}",
                "message": safe_text(desc),
                "severity": DEFAULT_SEVERITY,
                "tool_severity": None,
                "location": None,
                "package": {"name": name, "ecosystem": "pypi", "installed_version": version,
                            "fixed_version": ", ".join(fixes) or None, "path": None},
                "ids": dedupe([vid, *ids]),
                "cwe": [],
                "url": None,
            })
