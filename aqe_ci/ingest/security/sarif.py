"""SARIF 2.1.0 (several runs per file, several files merge into one document).

Streaming: :class:`aqe_ci.ingest.stream.jsonstream.JsonStream` walks ``runs[*]`` key by key and decodes
each result on its own, so memory is bounded by the largest result, not the file. Results need
their run's ``tool`` (rules), ``artifacts`` (for index-only locations) and ``originalUriBaseIds``
(for absolute URIs); when a result arrives before what it needs (key order is free in JSON), its
compact extract waits in a spill file and is resolved when the run ends — no second pass over the
file is needed.
"""

from __future__ import annotations

import gc
import re
import tempfile
from hashlib import sha256 as _sha256
from json.encoder import encode_basestring_ascii as _jstr  # the writer's string encoder (C)
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import (
    HEAD_BYTES,
    MAX_LINE,
    ReportError,
    ReportParser,
    SourceInfo,
    json_array,
    json_object,
)
from aqe_ci.ingest.security.common import (
    FINGERPRINT_CHARS,
    Occurrences,
    advisory_id,
    as_float,
    cvss_severity,
    cwe_id,
    dedupe,
    fingerprint,
    first_line,
    head_text,
    line_number,
    nonneg_int,
    raw_digest,
    report_keys,
    safe_text,
    text_hash,
)
from aqe_ci.ingest.stream.jsonhead import json_keys
from aqe_ci.ingest.stream.jsonstream import JsonStream
from aqe_ci.ingest.stream.opener import open_report

SUPPORTED_VERSION = "2.1.0"
LEVEL_SEVERITY = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
TAG_SEVERITY = {"critical": "critical", "high": "high", "medium": "medium", "moderate": "medium",
                "low": "low", "info": "info", "informational": "info"}
SKIPPED_KINDS = ("pass", "notApplicable")
PREFERRED_PARTIAL = "primaryLocationLineHash"

_RUNS = re.compile(r'"runs"\s*:\s*\[')
_SCHEMA = re.compile(r'"\$schema"\s*:\s*"[^"]*sarif', re.IGNORECASE)
_DRIVER = re.compile(r'"tool"\s*:\s*\{\s*"driver"\s*:')
_VERSION = re.compile(r'"version"\s*:\s*"(2\.1\.0|2\.0\.0[^"]*|1\.0\.0|2\.2)"')
_VERSION_VALUE = re.compile(r"2\.1\.0|2\.0\.0.*|1\.0\.0|2\.2", re.S)
_TOP_VERSION = re.compile(r'\{\s*(?:"\$schema"\s*:\s*"[^"]*"\s*,\s*)?"version"\s*:\s*"([^"]*)"')
_MSG_ARG = re.compile(r"\{(\d{1,9})\}")
MAX_FILE_FOR_HASH = 16 << 20
DEFER_IN_MEMORY = 1000
BATCH = 1000  # findings handed to the writer per call
#: result keys the fast path accepts (any other key, e.g. kind, baselineState, suppressions, sends
#: the result through the general path)
_FAST_KEYS = frozenset((
    "ruleId", "ruleIndex", "rule", "level", "message", "locations", "partialFingerprints",
    "fingerprints", "properties", "relatedLocations", "codeFlows", "guid", "correlationGuid",
    "occurrenceCount", "rank", "hostedViewerUri", "provenance", "fixes", "stacks", "graphs",
    "graphTraversals", "attachments", "workItemUris", "webRequest", "webResponse", "taxa",
    "analysisTarget",
))


class SarifParser(ReportParser):
    format = "sarif"
    doc_type = "security"
    priority = 40

    def __init__(self, *, source_root: Path | None = None) -> None:
        #: opt-in: compute CodeQL's primaryLocationLineHash from the sources under this directory
        #: for results that carry no fingerprints (never reads outside it; off by default)
        self.source_root = source_root.resolve() if source_root else None
        #: results of the common shape skip the general extract/emit path (same findings)
        self.fast_path = True
        #: ``scan_result`` of the C accelerator (None: pure Python, the reference)
        self.scanner = _scanner()
        self._hash_cache: dict[str, dict[int, str] | None] = {}

    @classmethod
    def detect(cls, head: bytes) -> bool:
        top = json_keys(head)
        if top is None or top.kind != "object":
            return False
        text = head_text(head)
        if not (top.type_of("runs") == "array" or (not top.complete and not top.has("runs") and _RUNS.search(text))):
            return False
        schema, version = top.get("$schema"), top.get("version")
        return bool((isinstance(schema, str) and "sarif" in schema.lower())
                    or (isinstance(version, str) and _VERSION_VALUE.fullmatch(version))
                    or _SCHEMA.search(text) or _DRIVER.search(text) or _VERSION.search(text))

    # ------------------------------------------------------------------------------------------
    def parse(self, path: Path, writer: Any, source: SourceInfo) -> None:
        # Decoded JSON holds no reference cycles and nothing here creates any, yet each result
        # allocates dozens of containers, which keeps triggering the cyclic collector for nothing
        # (~10% of the ingest time); it is paused while the file is read.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._parse(path, writer)
        finally:
            if gc_was_enabled:
                gc.enable()

    def _parse(self, path: Path, writer: Any) -> None:
        with open_report(path, "json") as f:
            head = f.read(HEAD_BYTES)
            m = _TOP_VERSION.match(head_text(head))  # refuse other versions before reading the runs
            if m and m.group(1) != SUPPORTED_VERSION:
                raise ReportError(_version_problem(m.group(1)))
            f.seek(0)
            js = JsonStream(f)
            version: Any = None
            runs = 0
            saw_runs = False
            occurrences = Occurrences()
            for key in report_keys(js, "a SARIF log"):
                if key == "version":
                    version = js.value()
                    if version != SUPPORTED_VERSION:
                        raise js.error(_version_problem(version))
                elif key == "runs":
                    saw_runs = True
                    if js.peek() != "[":
                        raise js.error("$.runs must be an array")
                    for _ in js.iter_array():
                        _Run(self, js, writer, runs, occurrences).read()
                        runs += 1
                else:
                    js.skip()
        if version is None:
            raise ReportError("not a SARIF log: $.version is missing")
        if not saw_runs:
            raise ReportError("not a SARIF log: $.runs is missing")

    # -- optional CodeQL line hashes ------------------------------------------------------------
    def line_hash(self, rel_path: str | None, line: int | None) -> str | None:
        if self.source_root is None or not rel_path or line is None:
            return None
        if rel_path not in self._hash_cache:
            self._hash_cache[rel_path] = self._hash_file(rel_path)
        hashes = self._hash_cache[rel_path]
        return hashes.get(line) if hashes else None

    def _hash_file(self, rel_path: str) -> dict[int, str] | None:
        from aqe_ci.ingest.security.linehash import line_hashes

        assert self.source_root is not None
        if "://" in rel_path or rel_path.startswith(("/", "\\")) or ".." in Path(rel_path).parts:
            return None
        candidate = (self.source_root / rel_path).resolve()
        if not candidate.is_relative_to(self.source_root) or not candidate.is_file():
            return None
        if candidate.stat().st_size > MAX_FILE_FOR_HASH:
            return None
        try:
            text = candidate.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return line_hashes(text)


def _scanner() -> Any:
    from aqe_ci import accel

    mod = accel.load("aqe_ci.ingest.security._sarif_c")
    return None if mod is None else mod.scan_result


def _version_problem(version: Any) -> str:
    if isinstance(version, str):
        return f"SARIF version {version} is not supported (only {SUPPORTED_VERSION})"
    return f"$.version must be the string {SUPPORTED_VERSION!r}"


class _Run:
    """One ``runs[i]``: reads its keys in file order, resolves results against its metadata."""

    def __init__(self, parser: SarifParser, js: JsonStream, writer: Any, index: int,
                 occurrences: Occurrences) -> None:
        self.parser = parser
        self.js = js
        self.writer = writer
        self.index = index
        self.occurrences = occurrences
        self.tool_seen = False
        self.bases_seen = False
        self.artifacts_seen = False
        self.done = False
        self.tool_name = "unknown"
        self.components: list[list[dict[str, Any]]] = [[]]  # 0: driver, 1..: extensions
        self.component_names: dict[str, int] = {}
        self.rules_by_id: dict[str, dict[str, Any]] = {}
        self.bases: dict[str, str] = {}
        self.artifacts: list[tuple[str | None, str | None]] = []
        self.deferred: list[dict[str, Any]] = []
        self.spill: Any = None
        self.spilled = 0
        self.rule_cache: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.tag_cache: dict[tuple[str, ...], tuple[Any, list[str], list[str]]] = {}
        self.fast_cache: dict[tuple[Any, ...], tuple[Any, ...]] = {}
        self.batch: list[dict[str, Any]] = []  # findings not yet handed to the writer
        self.batch_lines: list[str | None] = []  # their serialisation when the fast path made it

    def read(self) -> None:
        js = self.js
        where = f"$.runs[{self.index}]"
        if js.peek() != "{":
            raise js.error(f"{where} must be an object")
        for key in js.iter_object():
            if key == "tool":
                self._tool(js.value())
            elif key == "results":
                ch = js.peek()
                if ch == "n":
                    js.value()
                    continue
                if ch != "[":
                    raise js.error(f"{where}.results must be an array")
                # the fast path needs the tool and no waiting result (file order)
                fast = (self._fast_finding if self.parser.fast_path and self.tool_seen
                        and not self.deferred and not self.spilled else None)
                # the C scanner hands over fast-path results as _fast_extract tuples (others: None,
                # then decoded by json as before)
                js.element_hook = self.parser.scanner if fast is not None else None
                try:
                    for j, result in enumerate(js.iter_values()):
                        if type(result) is not dict:
                            if type(result) is tuple and fast is not None and fast(result):
                                continue  # from the C scanner: always of the fast shape
                            raise js.error(f"{where}.results[{j}] must be an object")
                        if fast is not None and fast(result):
                            continue  # added to the batch
                        rec = _extract(result, where)
                        if rec is None:
                            continue
                        if not self.deferred and not self.spilled and self._ready(rec):
                            self._emit(rec)  # once one waits, the rest wait too: file order kept
                        else:
                            self._defer(rec)
                            fast = js.element_hook = None
                finally:
                    js.element_hook = None
            elif key == "originalUriBaseIds":
                self._bases(js.value())
            elif key == "artifacts":
                self._artifacts()
            else:
                js.skip()
        self.tool_seen = self.bases_seen = self.artifacts_seen = True
        self._flush_deferred()
        self._flush_batch()

    def _flush_batch(self) -> None:
        """Hand the pending findings (file order) to the writer: one validation call, one write."""
        if self.batch:
            self.writer.add_findings(self.batch, self.batch_lines)
            self.batch.clear()
            self.batch_lines.clear()

    # -- metadata ------------------------------------------------------------------------------
    def _tool(self, tool: Any) -> None:
        self.tool_seen = True
        self.fast_cache.clear()  # its fingerprint prefixes carry the tool name
        if not isinstance(tool, dict):
            return
        driver = tool.get("driver")
        if isinstance(driver, dict):
            name = driver.get("name")
            if isinstance(name, str) and name.strip():
                self.tool_name = name.strip()
                version = driver.get("semanticVersion") or driver.get("version")
                self.writer.add_tool(self.tool_name, version if isinstance(version, str) else None)
            self.components[0] = _rules(driver.get("rules"))
            if isinstance(name, str):
                self.component_names[name] = 0
        exts = tool.get("extensions")
        if isinstance(exts, list):
            for k, ext in enumerate(exts, 1):
                if isinstance(ext, dict):
                    self.components.append(_rules(ext.get("rules")))
                    if isinstance(ext.get("name"), str):
                        self.component_names.setdefault(ext["name"], k)
                else:
                    self.components.append([])
        for comp in self.components:
            for rule in comp:
                if rule["id"]:
                    self.rules_by_id.setdefault(rule["id"], rule)

    def _bases(self, value: Any) -> None:
        self.bases_seen = True
        if not isinstance(value, dict):
            return
        for name, loc in value.items():
            if isinstance(loc, dict) and isinstance(loc.get("uri"), str):
                self.bases[name] = loc["uri"]

    def _artifacts(self) -> None:
        js = self.js
        if js.peek() != "[":
            js.skip()
            return
        for _ in js.iter_array():
            art = js.value()
            loc = art.get("location") if isinstance(art, dict) else None
            if isinstance(loc, dict):
                uri = loc.get("uri") if isinstance(loc.get("uri"), str) else None
                base = loc.get("uriBaseId") if isinstance(loc.get("uriBaseId"), str) else None
                self.artifacts.append((uri, base))
            else:
                self.artifacts.append((None, None))
        self.artifacts_seen = True

    # -- results ------------------------------------------------------------------------------
    def _ready(self, rec: dict[str, Any]) -> bool:
        if not self.tool_seen:
            return False
        if rec["uri"] is None and rec["art_index"] is not None and not self.artifacts_seen:
            return False
        uri = rec["uri"]
        return not (uri is not None and _is_absolute(uri) and not self.bases_seen)

    def _defer(self, rec: dict[str, Any]) -> None:
        self.deferred.append(rec)
        if len(self.deferred) >= DEFER_IN_MEMORY:
            import pickle  # only when results wait (start-up cost otherwise)

            if self.spill is None:
                self.spill = tempfile.TemporaryFile()
            for r in self.deferred:
                pickle.dump(r, self.spill, protocol=pickle.HIGHEST_PROTOCOL)
            self.spilled += len(self.deferred)
            self.deferred = []

    def _flush_deferred(self) -> None:
        if self.spill is not None:
            import pickle

            self.spill.seek(0)
            try:
                for _ in range(self.spilled):
                    self._emit(pickle.load(self.spill))  # our own records, written above
            finally:
                self.spill.close()
                self.spill = None
        for rec in self.deferred:
            self._emit(rec)
        self.deferred = []

    def _rule(self, rec: dict[str, Any]) -> dict[str, Any] | None:
        comp = 0
        if rec["component_index"] is not None:
            comp = rec["component_index"] + 1
        elif rec["component_name"] is not None:
            comp = self.component_names.get(rec["component_name"], 0)
        rules = self.components[comp] if 0 <= comp < len(self.components) else []
        rule: dict[str, Any] | None
        idx = rec["rule_index"]
        if idx is not None and 0 <= idx < len(rules):
            rule = rules[idx]
            if rec["rule_id"] is None or _same_rule(rule["id"], rec["rule_id"]):
                return rule
        rid = rec["rule_id"]
        if rid is not None:
            rule = self.rules_by_id.get(rid)
            if rule is None and "/" in rid:  # hierarchical ids: "CA2000/1" → "CA2000"
                rule = self.rules_by_id.get(rid.split("/", 1)[0])
            return rule
        return None

    def _path(self, rec: dict[str, Any]) -> str | None:
        uri: str | None = rec["uri"]
        if uri is not None and "%" not in uri and not uri.startswith(("file:", "FILE:", "File:")):
            return uri  # the common case: a relative path as written
        base = rec["uri_base"]
        idx = rec["art_index"]
        if uri is None and idx is not None and 0 <= idx < len(self.artifacts):
            uri, art_base = self.artifacts[idx]
            base = base or art_base
        if uri is None:
            return None
        return _normalise_uri(uri, base, self.bases)

    def _rule_info(self, rec: dict[str, Any]) -> dict[str, Any]:
        """Everything a finding takes from its rule, computed once per rule reference."""
        key = (rec["component_index"], rec["component_name"], rec["rule_index"], rec["rule_id"])
        info = self.rule_cache.get(key)
        if info is not None:
            return info
        rule = self._rule(rec)
        rule_id = rec["rule_id"] or (rule["id"] if rule else None) or ""
        sec = None
        tag_sev = None
        level_sev = None
        if rule:
            sec = _security_severity(rule["security_severity"])
            tag_sev = _tag_severity(rule["tags"])
            if rule["level"] in LEVEL_SEVERITY:
                level_sev = (LEVEL_SEVERITY[rule["level"]], rule["level"])
        rid = advisory_id(rule_id)
        info = {
            "rule_id": rule_id,
            "title": rule["title"] if rule else None,
            "url": safe_text(rule["url"]) if rule and rule["url"] else None,
            "cwe": rule["cwe"] if rule else [],
            "ids": [rid] if rid else [],
            "sec": sec,
            "tag_sev": tag_sev,
            "level_sev": level_sev,
            "messages": rule["messages"] if rule else {},
        }
        self.rule_cache[key] = info
        return info

    def _tag_info(self, tags: list[str]) -> tuple[tuple[str, str] | None, list[str], list[str]]:
        key = tuple(tags)
        info = self.tag_cache.get(key)
        if info is None:
            cwes = [c for c in (cwe_id(t) for t in tags) if c]
            ids = [i for i in (advisory_id(t) for t in tags) if i]
            info = (_tag_severity(tags), cwes, ids)
            self.tag_cache[key] = info
        return info

    def _emit(self, rec: dict[str, Any]) -> None:
        info = self._rule_info(rec)
        rule_id = info["rule_id"]
        path = self._path(rec)
        tags = rec["tags"]
        tag_sev, tag_cwes, tag_ids = self._tag_info(tags) if tags else (None, (), ())
        sev: tuple[str, str | None] | None = (_security_severity(rec["security_severity"])
                                              if rec["security_severity"] is not None else None)
        if sev is None:
            sev = info["sec"] or tag_sev or info["tag_sev"]
        if sev is None:
            level = rec["level"]
            if level in LEVEL_SEVERITY:
                sev = (LEVEL_SEVERITY[level], level)
            else:
                sev = info["level_sev"] or (("medium", None) if rec["kind"] == "fail" else ("info", None))
        cwes = dedupe([*tag_cwes, *info["cwe"]]) if tag_cwes else list(info["cwe"])
        ids = dedupe([*info["ids"], *tag_ids]) if tag_ids else list(info["ids"])
        message = rec["msg_text"]
        if message is None and rec["msg_id"]:
            message = info["messages"].get(rec["msg_id"])
        if message is not None and rec["msg_args"] and "{" in message:
            args = rec["msg_args"]
            message = _MSG_ARG.sub(
                lambda m: args[int(m.group(1))] if int(m.group(1)) < len(args) else m.group(0), message)
        title = info["title"] or first_line(message) or rule_id or "SARIF result"
        fp, fp_source = self._fingerprint(rec, rule_id, path, message)
        start_line = rec["start_line"]
        finding: dict[str, Any] = {
            "fingerprint": fp,
            "fingerprint_source": fp_source,
            "tool": self.tool_name,
            "category": "code",
            "rule_id": rule_id,
            "title": safe_text(title, 500),
            "message": safe_text(message),
            "severity": sev[0],
            "tool_severity": sev[1],
            "location": {
                "path": path,
                "start_line": start_line,
                "end_line": rec["end_line"],
                "start_column": rec["start_column"],
                "end_column": rec["end_column"],
            } if path is not None or start_line is not None else None,
            "ids": ids,
            "cwe": cwes,
            "url": info["url"],
        }
        if rec["suppressed"]:
            finding["suppressed"] = True
        self.batch.append(finding)
        self.batch_lines.append(None)  # the writer encodes it
        if len(self.batch) >= BATCH:
            self._flush_batch()

    def _fast_finding(self, r: dict[str, Any] | tuple[Any, ...]) -> bool:
        """Add the finding of a result of the common shape and its JSON line to the batch (True),
        or do nothing (False: the general path runs).

        The common shape (CodeQL and most producers): a ``ruleId``, a first location with a plain
        relative ``uri``, ``message.text`` without arguments, a ``primaryLocationLineHash``, no
        ``kind`` / ``baselineState`` / ``suppressions`` / ``security-severity`` on the result, line
        and column numbers up to ``MAX_LINE``. For it this builds exactly what ``_extract`` + ``_emit`` build
        (tests/ingest/test_security_sarif_fastpath.py compares both on every corpus SARIF file),
        with the per-rule part (severity, title, CWE, ids, fingerprint prefix) computed once per rule.

        ``r`` is the decoded result, or the tuple of ``_fast_extract`` that the C scanner
        (``aqe_ci/ingest/security/_sarif_c.c``) made straight from the JSON text.
        """
        fields = r if isinstance(r, tuple) else _fast_extract(r)
        if fields is None:
            return False
        (rule_id, rule_index, tags, level, text, uri, line_hash, start_line, end_line, start_col,
         end_col) = fields
        if end_line is None:
            end_line = start_line
        key = (rule_index, rule_id, tags, level)
        static = self.fast_cache.get(key)
        if static is None:
            static = self._fast_static(rule_index, rule_id, tags, level)
        fp_prefix, rid, title, severity, tool_severity, ids, cwes, url = static[:8]
        if title is None:
            title = safe_text(first_line(text) or rid or "SARIF result", 500)
        if len(text) > 4000 or ("@" in text and "://" in text):
            text = safe_text(text)
        fp = _sha256(f"{fp_prefix}{uri}\0{PREFERRED_PARTIAL}={line_hash}".encode("utf-8", "surrogatepass")
                     ).hexdigest()[:FINGERPRINT_CHARS]
        location = {"path": uri, "start_line": start_line, "end_line": end_line, "start_column": start_col,
                    "end_column": end_col}
        self.batch.append({
            "fingerprint": fp, "fingerprint_source": "sarif-partial", "tool": self.tool_name, "category": "code",
            "rule_id": rid, "title": title, "message": text, "severity": severity,
            "tool_severity": tool_severity, "location": location, "ids": ids, "cwe": cwes, "url": url,
        })
        self.batch_lines.append(_fast_line(static, fp, title, text, location))
        if len(self.batch) >= BATCH:
            self._flush_batch()
        return True

    def _fast_static(self, rule_index: int | None, rule_id: str, raw_tags: tuple[Any, ...],
                     level: str | None) -> tuple[Any, ...]:
        """What ``_emit`` derives from the rule, the tags and the level (no per-result data)."""
        rec = {"component_index": None, "component_name": None, "rule_index": rule_index,
               "rule_id": rule_id}
        info = self._rule_info(rec)
        rid = info["rule_id"]
        tags = [t for t in raw_tags if type(t) is str]  # as _extract keeps them
        tag_sev, tag_cwes, tag_ids = self._tag_info(tags) if tags else (None, (), ())
        sev = info["sec"] or tag_sev or info["tag_sev"]
        if sev is None:
            if level in LEVEL_SEVERITY:
                sev = (LEVEL_SEVERITY[level], level)
            else:
                sev = info["level_sev"] or ("medium", None)  # kind is "fail" on the fast path
        cwes = dedupe([*tag_cwes, *info["cwe"]]) if tag_cwes else list(info["cwe"])
        ids = dedupe([*info["ids"], *tag_ids]) if tag_ids else list(info["ids"])
        title = safe_text(info["title"], 500) if info["title"] else None
        prefix = f"sarif-partial\0{self.tool_name}\0{rid}\0"  # + path, "\0primaryLocationLineHash=" + hash
        url = info["url"]
        j_head = (f',"fingerprint_source":"sarif-partial","tool":{_jstr(self.tool_name)}'
                  f',"category":"code","rule_id":{_jstr(rid)},"title":')
        j_tail = (f',"severity":{_jstr(sev[0])},"tool_severity":{_jnull(sev[1])}'
                  ',"location":{"path":')
        j_end = (f'}},"ids":[{",".join(map(_jstr, ids))}],"cwe":[{",".join(map(_jstr, cwes))}]'
                 f',"url":{_jnull(url)}}}')
        static = (prefix, rid, title, sev[0], sev[1], ids, cwes, url, j_head, j_tail,
                  None if title is None else _jstr(title), j_end)
        self.fast_cache[(rule_index, rule_id, raw_tags, level)] = static
        return static

    def _fingerprint(self, rec: dict[str, Any], rule_id: str, path: str | None,
                     message: str | None) -> tuple[str, str]:
        """(fingerprint, source). Partial fingerprints (CodeQL's ``primaryLocationLineHash`` and
        its ``:N`` suffix number repeats of a snippet within ONE file) are scoped by the location's
        path; ``fingerprints`` are global identities by the SARIF spec and taken as they are."""
        partial: dict[str, str] = rec["partial"]
        where = path or ""
        if PREFERRED_PARTIAL in partial:  # == fingerprint("sarif-partial", tool, rule, path, "primary…=v")
            text = (f"sarif-partial\0{self.tool_name}\0{rule_id}\0{where}\0{PREFERRED_PARTIAL}="
                    f"{partial[PREFERRED_PARTIAL]}")
            return _sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:FINGERPRINT_CHARS], "sarif-partial"
        full: dict[str, str] = rec["fingerprints"]
        if full:
            parts = [f"{k}={full[k]}" for k in sorted(full)]
            return fingerprint("sarif-fingerprints", self.tool_name, rule_id, *parts), "sarif-fingerprints"
        if partial:
            parts = [f"{k}={partial[k]}" for k in sorted(partial)]
            return fingerprint("sarif-partial", self.tool_name, rule_id, where, *parts), "sarif-partial"
        computed = self.parser.line_hash(path, rec["start_line"])
        if computed is not None:
            return fingerprint("sarif-partial", self.tool_name, rule_id, where,
                               f"{PREFERRED_PARTIAL}={computed}"), "computed"
        if rec["snippet"]:
            content = "snippet:" + text_hash(rec["snippet"])
        else:
            content = "message:" + text_hash(message or "")
        n = self.occurrences.number((self.tool_name, rule_id, where, content), rec["raw"])
        return fingerprint("computed", self.tool_name, rule_id, where, content, n), "computed"


# -- extraction (plain functions: they run once per result) -------------------------------------

def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _extract(r: dict[str, Any], where: str) -> dict[str, Any] | None:
    """The few fields of a result we keep (codeFlows, related locations… are dropped here)."""
    get = r.get
    kind = get("kind")
    if (kind is not None and kind in SKIPPED_KINDS) or get("baselineState") == "absent":
        return None
    props = get("properties")
    sec_sev = None
    tags: list[str] = []
    if type(props) is dict:
        sec_sev = props.get("security-severity")
        raw_tags = props.get("tags")
        if type(raw_tags) is list and raw_tags:
            tags = [t for t in raw_tags if type(t) is str]
    level = get("level")
    rec = {
        **_rule_ref(r),
        "level": level if type(level) is str else None,
        "kind": kind if type(kind) is str else "fail",
        **_message(get("message")),
        **_location(get("locations"), where),
        "partial": _str_map(get("partialFingerprints")),
        "fingerprints": _str_map(get("fingerprints")),
        "suppressed": _suppressed(get("suppressions")),
        "security_severity": sec_sev,
        "tags": tags,
    }
    # results without fingerprints are told apart by their whole JSON (Occurrences)
    rec["raw"] = raw_digest(r) if not rec["partial"] and not rec["fingerprints"] else None
    return rec


def _rule_ref(r: dict[str, Any]) -> dict[str, Any]:
    """``rule_id``, ``rule_index``, ``component_index``, ``component_name`` of a result."""
    rule_ref = r.get("rule")
    comp_index = comp_name = None
    rule_index = nonneg_int(r.get("ruleIndex"))
    rule_id = r.get("ruleId")
    if type(rule_id) is not str:
        rule_id = None
    if type(rule_ref) is dict:
        comp = rule_ref.get("toolComponent")
        if type(comp) is dict:
            comp_index = nonneg_int(comp.get("index"))
            comp_name = _str(comp.get("name"))
        if rule_index is None:
            rule_index = nonneg_int(rule_ref.get("index"))
        if rule_id is None:
            rule_id = _str(rule_ref.get("id"))
    return {"rule_id": rule_id, "rule_index": rule_index, "component_index": comp_index,
            "component_name": comp_name}


def _location(locs: Any, where: str) -> dict[str, Any]:
    """The first physical location: ``uri``, ``uri_base``, ``art_index``, the region's lines and
    columns (out of range: the report is invalid) and its ``snippet``."""
    out: dict[str, Any] = dict.fromkeys(("uri", "uri_base", "art_index", "start_line", "end_line",
                                         "start_column", "end_column", "snippet"))
    for loc in locs if type(locs) is list else ():
        phys = loc.get("physicalLocation") if type(loc) is dict else None
        if type(phys) is not dict:
            continue
        art = phys.get("artifactLocation")
        if type(art) is dict:
            out["uri"] = _str(art.get("uri"))
            out["uri_base"] = _str(art.get("uriBaseId"))
            out["art_index"] = nonneg_int(art.get("index"))
        region = phys.get("region")
        if type(region) is dict:
            what = f"{where}: a result's line number"
            out["start_line"] = line_number(region.get("startLine"), what)
            end_line = line_number(region.get("endLine"), what)
            out["end_line"] = out["start_line"] if end_line is None else end_line
            what = f"{where}: a result's column number"
            out["start_column"] = line_number(region.get("startColumn"), what)
            out["end_column"] = line_number(region.get("endColumn"), what)
            snip = region.get("snippet")
            if type(snip) is dict:
                text = snip.get("text")
                if type(text) is str and not text.isspace() and text:
                    out["snippet"] = text
        break
    return out


def _message(message: Any) -> dict[str, Any]:
    msg_text = msg_id = None
    msg_args: list[str] = []
    if type(message) is dict:
        msg_text = message.get("text")
        if type(msg_text) is not str:
            msg_text = _str(message.get("markdown"))
        msg_id = _str(message.get("id"))
        args = message.get("arguments")
        if type(args) is list:
            msg_args = [a if type(a) is str else str(a) for a in args[:50]]
    return {"msg_text": msg_text, "msg_id": msg_id, "msg_args": msg_args}


def _suppressed(sups: Any) -> bool:
    if type(sups) is list:
        for sup in sups:
            if type(sup) is dict and sup.get("status", "accepted") == "accepted":
                return True
    return False


def _fast_extract(r: dict[str, Any]) -> tuple[Any, ...] | None:
    """What the fast path keeps of a decoded result, or None when it is not of the common shape
    (see ``_Run._fast_finding``): ``(rule_id, rule_index, tags, level, text, uri, line_hash,
    start_line, end_line, start_column, end_column)``; ``tags`` holds the string tags only (the
    others are dropped by ``_fast_static`` all the same), integers that are not JSON integers
    >= 0 are None, one over ``MAX_LINE`` declines. The reference of ``scan_result`` in
    ``aqe_ci/ingest/security/_sarif_c.c``."""
    if not _FAST_KEYS.issuperset(r):
        return None
    get = r.get
    rule_id = get("ruleId")
    if type(rule_id) is not str:
        return None
    pf = get("partialFingerprints")
    if type(pf) is not dict:
        return None
    line_hash = pf.get(PREFERRED_PARTIAL)
    if type(line_hash) is not str or not line_hash:
        return None
    msg = get("message")
    if type(msg) is not dict or "arguments" in msg:
        return None
    text = msg.get("text")
    if type(text) is not str:
        return None
    located = _fast_location(get("locations"))
    if located is None:
        return None
    uri, region = located
    props = get("properties")
    tags: tuple[str, ...] = ()
    if type(props) is dict:
        if "security-severity" in props:
            return None
        raw_tags = props.get("tags")
        if type(raw_tags) is list and raw_tags:
            tags = tuple([t for t in raw_tags if type(t) is str])
            if len(tags) != len(raw_tags) and any(type(t) is dict or type(t) is list for t in raw_tags):
                return None  # not hashable: the general path
    rule_index = nonneg_int(get("ruleIndex"))
    rule_ref = get("rule")
    if type(rule_ref) is dict:
        if "toolComponent" in rule_ref:
            return None
        if rule_index is None:
            rule_index = nonneg_int(rule_ref.get("index"))
    level = get("level")
    if type(level) is not str:
        level = None
    numbers = (nonneg_int(region.get("startLine")), nonneg_int(region.get("endLine")),
               nonneg_int(region.get("startColumn")), nonneg_int(region.get("endColumn")))
    if any(n is not None and n > MAX_LINE for n in numbers):
        return None  # the general path refuses the report, with its message
    return (rule_id, rule_index, tags, level, text, uri, line_hash, *numbers)


def _fast_location(locs: Any) -> tuple[str, dict[str, Any]] | None:
    """(uri, region) of a first location the fast path takes: a plain relative ``uri``, a region."""
    if type(locs) is not list or not locs:
        return None
    phys = locs[0].get("physicalLocation") if type(locs[0]) is dict else None
    if type(phys) is not dict:
        return None
    art = phys.get("artifactLocation")
    region = phys.get("region")
    if type(art) is not dict or type(region) is not dict:
        return None
    uri = art.get("uri")
    if type(uri) is not str or "%" in uri or "://" in uri[:16] or uri.startswith("/") \
            or uri[:5].lower() == "file:":
        return None
    return uri, region


def _fast_line(static: tuple[Any, ...], fp: str, title: str, text: str, loc: dict[str, Any]) -> str:
    """The JSON line of a fast-path finding, as the writer's encoder (compact, ASCII) writes its
    dict; the per-rule parts were encoded once in ``_fast_static``."""
    j_head, j_tail, j_title, j_end = static[8:]
    if static[2] is None:
        j_title = _jstr(title)
    sl, el, sc, ec = loc["start_line"], loc["end_line"], loc["start_column"], loc["end_column"]
    return (f'{{"fingerprint":"{fp}"{j_head}{j_title},"message":{_jstr(text)}{j_tail}'
            f'{_jstr(loc["path"])},"start_line":{"null" if sl is None else sl}'
            f',"end_line":{"null" if el is None else el},"start_column":{"null" if sc is None else sc}'
            f',"end_column":{"null" if ec is None else ec}{j_end}\n')


def _jnull(value: str | None) -> str:
    return "null" if value is None else _jstr(value)


def _str_map(value: Any) -> dict[str, str]:
    if type(value) is not dict or not value:
        return {}
    return {k: v for k, v in value.items() if isinstance(v, str) and v}


def _rules(value: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if not isinstance(value, list):
        return out
    for rule in value:
        if not isinstance(rule, dict):
            out.append({"id": None, "title": None, "level": None, "security_severity": None,
                        "tags": [], "cwe": [], "url": None, "messages": {}})
            continue
        props = json_object(rule.get("properties"))
        tags = [t for t in json_array(props.get("tags")) if isinstance(t, str)]
        short = rule.get("shortDescription")
        title = _str(short.get("text")) if isinstance(short, dict) else None
        if not title:
            title = _str(rule.get("name"))
        dc = rule.get("defaultConfiguration")
        level = _str(dc.get("level")) if isinstance(dc, dict) else None
        cwes = [c for c in (cwe_id(t) for t in tags) if c]
        for key in ("cwe", "CWE"):
            extra = props.get(key)
            for c in (extra if isinstance(extra, list) else [extra]):
                cid = cwe_id(c)
                if cid:
                    cwes.append(cid)
        rels = rule.get("relationships")
        if isinstance(rels, list):
            for rel in rels:
                target = rel.get("target") if isinstance(rel, dict) else None
                if isinstance(target, dict):
                    tc = target.get("toolComponent")
                    if isinstance(tc, dict) and str(tc.get("name", "")).upper() == "CWE":
                        cid = cwe_id(f"CWE-{target.get('id')}")
                        if cid:
                            cwes.append(cid)
        messages: dict[str, str] = {}
        ms = rule.get("messageStrings")
        if isinstance(ms, dict):
            for k, v in ms.items():
                if isinstance(v, dict) and isinstance(v.get("text"), str):
                    messages[k] = v["text"]
        out.append({
            "id": _str(rule.get("id")),
            "title": first_line(title, 500) if title else None,
            "level": level,
            "security_severity": props.get("security-severity"),
            "tags": tags,
            "cwe": dedupe(cwes),
            "url": _str(rule.get("helpUri")),
            "messages": messages,
        })
    return out


def _same_rule(rule_id: str | None, wanted: str) -> bool:
    return rule_id is None or rule_id == wanted or wanted.startswith(rule_id + "/")


def _security_severity(raw: Any) -> tuple[str, str] | None:
    score = as_float(raw)
    if score is not None and 0 <= score <= 10:
        return cvss_severity(score), f"security-severity {raw}"
    return None


def _tag_severity(tags: list[str]) -> tuple[str, str] | None:
    for tag in tags:
        sev = TAG_SEVERITY.get(tag.strip().lower())
        if sev:
            return sev, tag
    return None


def _is_absolute(uri: str) -> bool:
    return "://" in uri[:16] or uri.startswith("/") or uri.lower().startswith("file:")


def _normalise_uri(uri: str, base: str | None, bases: dict[str, str]) -> str:
    """A repo-relative path when we can tell, else the URI's path without the file scheme."""
    from urllib.parse import unquote  # only for URIs that need it (start-up cost)

    path = unquote(uri)
    if path.lower().startswith("file:"):
        path = _strip_file_scheme(path)
        for base_uri in bases.values():
            b = _strip_file_scheme(unquote(base_uri))
            if b and b.startswith("/") and b.endswith("/") and path.startswith(b):
                return path[len(b):]
    return path


def _strip_file_scheme(uri: str) -> str:
    if uri.lower().startswith("file://"):
        rest = uri[7:]
        if rest.startswith("/"):
            return rest
        # file://host/path → /path ; keep Windows drive letters: file:///C:/x → /C:/x
        slash = rest.find("/")
        return rest[slash:] if slash >= 0 else rest
    if uri.lower().startswith("file:"):
        return uri[5:]
    return uri
