"""The document writer of the ``security`` type.

Findings stream to a spool file (one JSON line each) as parsers produce them, so memory holds only
the de-duplication index (fingerprint → record number, severity), never the findings.

De-duplication: a fingerprint seen twice in one document (two SARIF runs, two files, a tool that
reports the same thing twice) keeps ONE finding: the one with the higher severity; on a tie the
first, unless the first is suppressed and the second is not. Every finding is validated against
``$defs/finding`` of ``aqe_ci/schemas/security.schema.json`` (:func:`aqe_ci.model.schema.item_validator`).

Summary: counts by severity (critical/high/medium/low/info) and ``total`` of the findings that are
NOT suppressed; ``suppressed`` counts the suppressed findings, which are kept in the document
with ``suppressed: true``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import DocumentWriter, ReportError, SourceInfo, WrittenDocument
from aqe_ci.model.keys import SEVERITIES, SEVERITY_RANK
from aqe_ci.model.limits import Limits
from aqe_ci.model.schema import ItemValidator, item_validator, validate_document

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def _no_default(o: Any) -> Any:
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


_c_encode: Callable[[object, int], Iterable[str]] | None
try:  # the C encoder (json.encoder's c_make_encoder), built once (json.dumps builds one per call)
    from _json import encode_basestring_ascii, make_encoder

    _c_encode = make_encoder(None, _no_default, encode_basestring_ascii, None, ":", ",", False, False, False)
except ImportError:  # pragma: no cover - CPython always has it
    _c_encode = None


def _encode_line(obj: dict[str, Any]) -> bytes:
    text = "".join(_c_encode(obj, 0)) if _c_encode is not None else _dumps(obj)
    return text.encode("ascii") + b"\n"


@cache
def finding_validator() -> ItemValidator:
    """Validator of one finding (``$defs/finding``) from :mod:`aqe_ci.model.schema`:
    jsonschema-rs (~1.4 µs per finding) or, without it, jsonschema."""
    return item_validator("security", "finding")


@cache
def envelope_validator() -> ItemValidator:
    """Validator of the whole security document (used with an empty findings list: the
    findings were validated as they came)."""
    return item_validator("security", "document")


class SecurityWriter(DocumentWriter):
    doc_type = "security"

    def __init__(self, *, workdir: Path, limits: Limits) -> None:
        super().__init__(workdir=workdir, limits=limits)
        fd, name = tempfile.mkstemp(prefix="aqe-security-", suffix=".spool", dir=workdir)
        self._spool_path = Path(name)
        self._spool = os.fdopen(fd, "w+b")
        self._write = self._spool.write
        self._records = 0
        #: fingerprint -> (record number, severity rank, suppressed)
        self._index: dict[str, tuple[int, int, bool]] = {}
        self._dropped: set[int] = set()
        self._tools: list[tuple[str, str | None]] = []
        self._sources: list[SourceInfo] = []
        self.duplicates = 0
        self._mark: tuple[int, int, int, int, int] | None = None
        self._journal: list[tuple[str, tuple[int, int, bool] | None, int | None]] = []

    # -- per source --------------------------------------------------------------------------
    def begin_source(self, source: SourceInfo) -> None:
        self._spool.seek(0, os.SEEK_END)
        self._mark = (self._spool.tell(), self._records, len(self._tools), len(self._sources),
                      self.duplicates)
        self._journal = []
        self._sources.append(source)

    def set_source_sha256(self, sha256: str) -> None:
        if self._mark is not None and self._sources:
            self._sources[-1] = dataclasses.replace(self._sources[-1], sha256=sha256)

    def set_source_warnings(self, warnings: list[str]) -> None:
        if self._mark is not None and self._sources and warnings:
            self._sources[-1] = dataclasses.replace(self._sources[-1], warnings=tuple(warnings))

    def commit_source(self) -> None:
        self._mark = None
        self._journal = []

    def rollback_source(self) -> None:
        if self._mark is None:
            return
        offset, records, tools, sources, dups = self._mark
        for fp, previous, dropped in reversed(self._journal):
            if previous is None:
                self._index.pop(fp, None)
            else:
                self._index[fp] = previous
            if dropped is not None:
                self._dropped.discard(dropped)
        self._spool.seek(offset)
        self._spool.truncate()
        self._records = records
        del self._tools[tools:]
        del self._sources[sources:]
        self.duplicates = dups
        self._mark = None
        self._journal = []

    # -- items -------------------------------------------------------------------------------
    def add_tool(self, name: str | None, version: str | None = None) -> None:
        if not name:
            return
        entry = (str(name), None if version is None else str(version))
        if entry not in self._tools:
            self._tools.append(entry)

    def add_finding(self, finding: dict[str, Any]) -> None:
        self._check(finding)
        self._store(finding)

    def add_findings(self, findings: list[dict[str, Any]],
                     encoded: list[str | None] | None = None) -> None:
        """Add many findings: validated one by one, written in one write (same result as
        ``add_finding`` on each, in order). ``encoded[i]``, when not None, is the caller's
        serialisation of ``findings[i]`` (one line, ASCII, exactly what this writer's encoder
        makes of it: tests/ingest/test_security_sarif_fastpath.py); the dict is validated all
        the same."""
        validate = finding_validator()
        for finding in findings:
            try:
                validate(finding)
            except Exception:
                self._check(finding)  # raises, naming the finding
        lines: list[bytes] = []
        store = self._store
        if encoded is None:
            for finding in findings:
                store(finding, lines)
        else:
            for finding, line in zip(findings, encoded, strict=True):
                store(finding, lines, line)
        if lines:
            self._write(b"".join(lines))

    def _check(self, finding: dict[str, Any]) -> None:
        from aqe_ci.model.schema import error_text

        try:
            finding_validator()(finding)
        except Exception as exc:  # jsonschema_rs.ValidationError / jsonschema.ValidationError
            raise ReportError(f"finding {finding.get('rule_id')!r} does not fit the schema: "
                              f"{error_text(exc)}") from None

    def _store(self, finding: dict[str, Any], lines: list[bytes] | None = None,
               line: str | None = None) -> None:
        """De-duplicate and spool one validated finding (into ``lines`` when given)."""
        fp = finding["fingerprint"]
        rank = SEVERITY_RANK[finding["severity"]]
        suppressed = finding.get("suppressed") is True
        old = self._index.get(fp)
        dropped = None
        if old is not None:
            self.duplicates += 1
            if not (rank > old[1] or (rank == old[1] and old[2] and not suppressed)):
                return
            dropped = old[0]
            self._dropped.add(dropped)
        if lines is None:
            self._write(_encode_line(finding))
        elif line is None:
            lines.append(_encode_line(finding))
        else:
            lines.append(line.encode("ascii"))
        self._index[fp] = (self._records, rank, suppressed)
        self._journal.append((fp, old, dropped))
        self._records += 1

    # -- document ----------------------------------------------------------------------------
    def summary(self) -> dict[str, int]:
        counts = dict.fromkeys(SEVERITIES, 0)
        suppressed = 0
        by_rank = {v: k for k, v in SEVERITY_RANK.items()}
        for _rec, rank, supp in self._index.values():
            if supp:
                suppressed += 1
            else:
                counts[by_rank[rank]] += 1
        counts["total"] = sum(counts[s] for s in SEVERITIES)
        counts["suppressed"] = suppressed
        return counts

    def finish(self, *, timestamp: str) -> WrittenDocument:
        from aqe_ci.model.summary import summarize

        data: dict[str, Any] = {
            "vulnerabilities": [],
            "summary": self.summary(),
            "tools": [{"name": n, "version": v} for n, v in self._tools],
            "sources": [_source_json(s) for s in self._sources],
        }
        # The envelope (everything but the findings, which were validated one by one) is checked
        # against the full schema before anything is written.
        envelope = {"type": "security", "timestamp": timestamp, "data": data}
        try:
            envelope_validator()(envelope)
        except Exception as exc:  # either backend's validation error
            from aqe_ci.model.schema import error_text

            validate_document(envelope, source="security document")  # names the JSON path
            raise ReportError(f"security document: {error_text(exc)}") from None
        fd, name = tempfile.mkstemp(prefix="aqe-security-", suffix=".json", dir=self.workdir)
        out_path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b'{"type":"security","timestamp":' + _dumps(timestamp).encode()
                          + b',"data":{"vulnerabilities":[')
                self._spool.flush()
                self._spool.seek(0)
                if self._dropped:
                    first = True
                    for recno, line in enumerate(self._spool):
                        if recno in self._dropped:
                            continue
                        if not first:
                            out.write(b",")
                        out.write(line.rstrip(b"\n"))
                        first = False
                else:  # nothing dropped: copy in blocks (an encoded finding holds no raw newline)
                    pending = b""
                    while block := self._spool.read(1 << 20):
                        out.write(pending)
                        pending = block.replace(b"\n", b",")
                    out.write(pending[:-1])  # the last record's newline
                rest = {k: v for k, v in data.items() if k != "vulnerabilities"}
                out.write(b"]," + _dumps(rest).encode("utf-8")[1:] + b"}\n")
        except BaseException:
            out_path.unlink(missing_ok=True)
            raise
        finally:
            self._close_spool()
        return WrittenDocument(doc_type="security", path=out_path, summary=summarize("security", data),
                               sources=list(self._sources))

    def abort(self) -> None:
        self._close_spool()

    def _close_spool(self) -> None:
        try:
            self._spool.close()
        finally:
            self._spool_path.unlink(missing_ok=True)


def _source_json(s: SourceInfo) -> dict[str, Any]:
    out: dict[str, Any] = {"file": s.file, "format": s.format, "bytes": s.bytes}
    if s.dialect is not None:
        out["dialect"] = s.dialect
    if s.producer is not None:
        out["producer"] = s.producer
    if s.sha256 is not None:
        out["sha256"] = s.sha256
    if s.warnings:
        out["warnings"] = list(s.warnings)
    return out
