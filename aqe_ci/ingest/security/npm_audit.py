"""npm audit (v1 and v2), pnpm audit, yarn audit (classic JSON lines, berry 2/3/4).

Counting: ONE finding per (advisory, package, installed version). npm 6, pnpm and yarn classic
list the same advisory once per dependency path; the paths of one (advisory, package, version)
collapse into one finding whose ``package.path`` is the first path. npm 7+ (``auditReportVersion``
2) lists packages: every advisory object in a package's ``via`` is one finding; ``via`` entries that
are plain strings only say "vulnerable through that dependency" and add no finding of their own
(npm's ``metadata.vulnerabilities`` counts those dependents too).

Fingerprint: ``dependency`` + the npm advisory family (npm, pnpm and yarn query the same registry
advisories, so a switch of package manager keeps identities) + advisory id (GHSA when known, else
npm's numeric id) + package name + installed version.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aqe_ci.ingest.base import ReportError, ReportParser, SourceInfo, json_array, json_object, json_str
from aqe_ci.ingest.security.common import (
    cwe_id,
    dedupe,
    fingerprint,
    first_json_line,
    first_line,
    ghsa_from_url,
    head_text,
    iter_json_lines,
    json_stream,
    read_json_document,
    report_keys,
    safe_text,
)
from aqe_ci.ingest.stream.jsonhead import TopLevel, json_keys

if TYPE_CHECKING:
    from aqe_ci.ingest.security.writer import SecurityWriter

NPM_SEVERITY = {"critical": "critical", "high": "high", "moderate": "medium", "medium": "medium",
                "low": "low", "info": "info", "none": "info"}
FAMILY = "npm-advisories"

_V2 = re.compile(r'"auditReportVersion"\s*:\s*2\b')
_ADVISORIES = re.compile(r'"advisories"\s*:\s*\{')
_V1_SIBLING = re.compile(r'"(actions|muted)"\s*:\s*\[')
_NPM_ERROR = re.compile(r'"error"\s*:\s*\{\s*"(code|summary|detail)"\s*:')
_YARN_FIRST = re.compile(r'^\{\s*"type"\s*:\s*"(auditAdvisory|auditSummary|auditAction|info|warning)"\s*,\s*"data"\s*:')
_BERRY_FIRST = re.compile(r'^\{\s*"value"\s*:\s*"[^"\n]*"\s*,\s*"children"\s*:\s*\{\s*"ID"\s*:')
_NPM_ERROR_TOP = re.compile(r'"statusCode"\s*:\s*\d+|"code"\s*:\s*"E[A-Z0-9_]+"')


def _is_v2(top: TopLevel, text: str) -> bool:
    version = top.get("auditReportVersion")
    return (version == 2 and not isinstance(version, bool)) or bool(_V2.search(text))


def _has_advisories(top: TopLevel, text: str) -> bool:
    return top.type_of("advisories") == "object" or bool(_ADVISORIES.search(text))


def _severity(raw: Any) -> tuple[str, str | None]:
    if isinstance(raw, str) and raw.strip().lower() in NPM_SEVERITY:
        return NPM_SEVERITY[raw.strip().lower()], raw
    return "medium", raw if isinstance(raw, str) else None


def _dep_finding(*, tool: str, advisory: str, package: str, version: str | None, severity_raw: Any,
                 title: Any, message: Any = None, path: str | None = None, fixed: Any = None,
                 ids: list[str], cwes: list[Any], url: Any, ecosystem: str = "npm",
                 family: str = FAMILY) -> dict[str, Any]:
    severity, tool_sev = _severity(severity_raw)
    return {
        "fingerprint": fingerprint("dependency", family, advisory, package, version or ""),
        "fingerprint_source": "computed",
        "tool": tool,
        "category": "dependency",
        "rule_id": advisory,
        "title": safe_text(first_line(title if isinstance(title, str) else None, 500)) or advisory,
        "message": safe_text(message if isinstance(message, str) else None),
        "severity": severity,
        "tool_severity": tool_sev,
        "location": None,
        "package": {"name": package, "ecosystem": ecosystem, "installed_version": version,
                    "fixed_version": fixed if isinstance(fixed, str) else None, "path": path},
        "ids": dedupe(ids),
        "cwe": dedupe([c for c in (cwe_id(x) for x in cwes) if c]),
        "url": safe_text(url) if isinstance(url, str) else None,
    }


def _v1_advisory_findings(adv: Any, tool: str, only_path: str | None = None) -> list[dict[str, Any]]:
    """Findings of one npm v1 / yarn advisory object: one per installed version of the module."""
    if not isinstance(adv, dict):
        raise ReportError("an advisory is not an object")
    name = adv.get("module_name")
    if not isinstance(name, str) or not name:
        raise ReportError("an advisory has no module_name")
    ghsa = json_str(adv.get("github_advisory_id"))
    ghsa = ghsa or ghsa_from_url(adv.get("url"))
    num = adv.get("id")
    advisory = ghsa or (f"npm:{num}" if num is not None else None)
    if advisory is None:
        raise ReportError(f"the advisory for {name} has neither an id nor a GHSA id")
    cves = json_array(adv.get("cves"))
    ids = [x for x in [ghsa, *cves] if isinstance(x, str)]
    cwe = adv.get("cwe")
    cwes = cwe if isinstance(cwe, list) else [cwe]
    versions: dict[str | None, str | None] = {}
    findings = json_array(adv.get("findings"))
    for f in findings:
        if not isinstance(f, dict):
            continue
        version = json_str(f.get("version"))
        paths = [p for p in (f.get("paths") or []) if isinstance(p, str)]
        if only_path is not None:
            if only_path not in paths:
                continue
            paths = [only_path]
        versions.setdefault(version, sorted(paths)[0] if paths else None)
    if not versions and only_path is not None:
        versions[None] = only_path
    if not versions:
        versions[None] = None
    out = []
    for version, path in versions.items():
        out.append(_dep_finding(tool=tool, advisory=advisory, package=name, version=version,
                                severity_raw=adv.get("severity"), title=adv.get("title"),
                                message=adv.get("overview"), path=path,
                                fixed=adv.get("patched_versions"), ids=ids, cwes=cwes,
                                url=adv.get("url")))
    return out


def _npm_error_reason(doc: dict[str, Any]) -> str:
    err = json_object(doc.get("error"))
    parts = [doc.get("message"), err.get("summary"), err.get("code"), err.get("detail")]
    text = next((p for p in parts if isinstance(p, str) and p.strip()), "no details")
    return f"npm audit failed and wrote an error instead of a report: {safe_text(first_line(text), 300)}"


class NpmAuditErrorParser(ReportParser):
    """``npm audit --json`` when the audit itself failed: a clear problem, never an empty success."""

    format = "npm-audit-error"
    doc_type = "security"
    priority = 45

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)
        error = top.get("error")
        shaped = bool(_NPM_ERROR.search(text)) or (isinstance(error, dict)
                                                  and any(k in error for k in ("code", "summary", "detail")))
        return (shaped and not _has_advisories(top, text) and not _is_v2(top, text)
                and ('"summary"' in text or bool(_NPM_ERROR_TOP.search(text))))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        doc = read_json_document(path)
        if not isinstance(doc, dict):
            raise ReportError("not an npm audit document")
        raise ReportError(_npm_error_reason(doc))


class NpmAuditV1Parser(ReportParser):
    """npm 6 ``npm audit --json``, ``pnpm audit --json``, yarn 2/3 ``yarn npm audit --json``."""

    format = "npm-audit-v1"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)
        return (_has_advisories(top, text) and not _is_v2(top, text)
                and bool(_V1_SIBLING.search(text) or '"metadata"' in text
                         or any(top.type_of(k) == "array" for k in ("actions", "muted")) or top.has("metadata")))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        with json_stream(path) as js:
            advisories: list[Any] = []
            keys: set[str] = set()
            for key in report_keys(js, "an npm audit report"):
                keys.add(key)
                if key == "advisories":
                    if js.peek() != "{":
                        raise js.error("$.advisories must be an object")
                    for _ in js.iter_object():
                        advisories.append(js.value())
                elif key == "error":
                    err = js.value()
                    if err:
                        raise ReportError(_npm_error_reason({"error": err}))
                else:
                    js.skip()
        if "advisories" not in keys:
            raise ReportError("not an npm audit v1 report: $.advisories is missing")
        tool = "npm audit" if "runId" in keys else None
        if tool is None:
            pnpm = any(p.startswith(".>") for adv in advisories if isinstance(adv, dict)
                       for f in (adv.get("findings") or []) if isinstance(f, dict)
                       for p in (f.get("paths") or []) if isinstance(p, str))
            tool = "pnpm audit" if pnpm else "npm audit (v1 format)"
        writer.add_tool(tool)
        for adv in advisories:
            for finding in _v1_advisory_findings(adv, tool):
                writer.add_finding(finding)


class NpmAuditV2Parser(ReportParser):
    """npm 7+ ``npm audit --json`` (``auditReportVersion: 2``)."""

    format = "npm-audit-v2"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        return top is not None and top.kind == "object" and _is_v2(top, head_text(head))

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        tool = "npm audit"
        seen = False
        with json_stream(path) as js:
            for key in report_keys(js, "an npm audit report"):
                if key == "auditReportVersion":
                    v = js.value()
                    if v != 2:
                        raise js.error(f"auditReportVersion {v!r} is not supported (2 only)")
                elif key == "vulnerabilities":
                    seen = True
                    if js.peek() != "{":
                        raise js.error("$.vulnerabilities must be an object")
                    writer.add_tool(tool)
                    for name in js.iter_object():
                        self._package(name, js.value(), writer, tool)
                elif key == "error":
                    err = js.value()
                    if err:
                        raise ReportError(_npm_error_reason({"error": err}))
                else:
                    js.skip()
        if not seen:
            raise ReportError("not an npm audit v2 report: $.vulnerabilities is missing")

    @staticmethod
    def _package(name: str, entry: Any, writer: SecurityWriter, tool: str) -> None:
        if not isinstance(entry, dict):
            raise ReportError(f"$.vulnerabilities[{name!r}] is not an object")
        nodes = [n for n in (entry.get("nodes") or []) if isinstance(n, str)]
        fix = entry.get("fixAvailable")
        for via in entry.get("via") or []:
            if not isinstance(via, dict):
                continue  # "vulnerable through another package": that package has the finding
            via_name = json_str(via.get("name"))
            pkg = via_name if via_name is not None else name
            ghsa = ghsa_from_url(via.get("url"))
            advisory = ghsa or (f"npm:{via.get('source')}" if via.get("source") is not None else None)
            if advisory is None:
                raise ReportError(f"a 'via' advisory of {name} has no source id")
            fixed = fix.get("version") if isinstance(fix, dict) and fix.get("name") == pkg else None
            cwe = via.get("cwe")
            writer.add_finding(_dep_finding(
                tool=tool, advisory=advisory, package=pkg, version=None,
                severity_raw=via.get("severity"), title=via.get("title"),
                message=f"vulnerable versions {via.get('range')}" if isinstance(via.get("range"), str) else None,
                path=sorted(nodes)[0] if nodes else None, fixed=fixed,
                ids=[ghsa] if ghsa else [], cwes=cwe if isinstance(cwe, list) else [cwe],
                url=via.get("url")))


class YarnClassicAuditParser(ReportParser):
    """yarn 1 ``yarn audit --json``: JSON lines of auditAdvisory / auditSummary events."""

    format = "yarn-audit"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        first = first_json_line(head)
        if first is None:  # a first line longer than the head: its start must be a yarn event
            return bool(_YARN_FIRST.match(head_text(head))) and b'"type":"audit' in head
        if not isinstance(first.get("type"), str) or "data" not in first:
            return False
        return b'"type":"audit' in head or b'"type": "audit' in head

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        tool = "yarn audit"
        events = 0
        writer.add_tool(tool)
        for lineno, obj in iter_json_lines(path):
            kind = obj.get("type")
            data = obj.get("data")
            if kind == "auditAdvisory":
                events += 1
                if not isinstance(data, dict):
                    raise ReportError("auditAdvisory without data", line=lineno)
                res = json_object(data.get("resolution"))
                only = json_str(res.get("path"))
                try:
                    for finding in _v1_advisory_findings(data.get("advisory"), tool, only_path=only):
                        writer.add_finding(finding)
                except ReportError as exc:
                    raise ReportError(str(exc), line=lineno) from None
            elif kind in ("auditSummary", "auditAction"):
                events += 1
            elif kind == "error":
                raise ReportError(f"yarn audit reported an error: {safe_text(first_line(str(data)), 300)}",
                                  line=lineno)
        if not events:
            raise ReportError("no yarn audit events (auditAdvisory / auditSummary) in the file")


class YarnBerryAuditParser(ReportParser):
    """yarn 4 ``yarn npm audit --json``: JSON lines ``{"value": pkg, "children": {...}}``."""

    format = "yarn-berry-audit"
    doc_type = "security"
    priority = 50

    @classmethod
    def detect(cls, head: bytes) -> bool:
        first = first_json_line(head)
        if first is None:  # a first line longer than the head
            return bool(_BERRY_FIRST.match(head_text(head)))
        return (isinstance(first.get("value"), str)
                and isinstance(first.get("children"), dict) and "ID" in first["children"])

    def parse(self, path: Path, writer: SecurityWriter, source: SourceInfo) -> None:
        tool = "yarn npm audit"
        writer.add_tool(tool)
        for lineno, obj in iter_json_lines(path):
            name, ch = obj.get("value"), obj.get("children")
            if not isinstance(name, str) or not isinstance(ch, dict):
                raise ReportError("expected {\"value\": package, \"children\": {...}}", line=lineno)
            ghsa = ghsa_from_url(ch.get("URL"))
            advisory = ghsa or (f"npm:{ch.get('ID')}" if ch.get("ID") is not None else None)
            if advisory is None:
                raise ReportError(f"the advisory for {name} has no ID", line=lineno)
            versions: list[str | None] = [v for v in (ch.get("Tree Versions") or []) if isinstance(v, str)] or [None]
            dependents = [d for d in (ch.get("Dependents") or []) if isinstance(d, str)]
            for version in versions:
                writer.add_finding(_dep_finding(
                    tool=tool, advisory=advisory, package=name, version=version,
                    severity_raw=ch.get("Severity"), title=ch.get("Issue"),
                    message=(f"vulnerable versions {ch['Vulnerable Versions']}"
                             if isinstance(ch.get("Vulnerable Versions"), str) else None),
                    path=sorted(dependents)[0] if dependents else None,
                    ids=[ghsa] if ghsa else [], cwes=[], url=ch.get("URL")))
