"""Test support for the security ingest tests: a minimal driver over our parsers and writer.

The real driver (``aqe_ci.ingest.driver.ingest_files``) belongs to another module; these tests exercise the
parsers and the SecurityWriter directly with the same begin/commit/rollback protocol.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqe_ci.ingest.base import HEAD_BYTES, ReportError, SourceInfo
from aqe_ci.ingest.security.bandit import BanditParser
from aqe_ci.ingest.security.grype import GrypeParser
from aqe_ci.ingest.security.npm_audit import (
    NpmAuditErrorParser,
    NpmAuditV1Parser,
    NpmAuditV2Parser,
    YarnBerryAuditParser,
    YarnClassicAuditParser,
)
from aqe_ci.ingest.security.pip_audit import PipAuditParser
from aqe_ci.ingest.security.sarif import SarifParser
from aqe_ci.ingest.security.semgrep import SemgrepParser
from aqe_ci.ingest.security.trivy import TrivyParser
from aqe_ci.ingest.security.writer import SecurityWriter
from aqe_ci.model.limits import Limits
from aqe_ci.model.schema import validate_document

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / ".." / "shared" / "corpus"
SAMPLES = Path(__file__).resolve().parent / "samples"

SECURITY_PARSERS = (SarifParser, NpmAuditErrorParser, NpmAuditV1Parser, NpmAuditV2Parser,
                    YarnClassicAuditParser, YarnBerryAuditParser, TrivyParser, BanditParser,
                    PipAuditParser, GrypeParser, SemgrepParser)


def inventory() -> list[dict[str, Any]]:
    return json.loads((CORPUS / "INVENTORY.json").read_text(encoding="utf-8"))


def head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(HEAD_BYTES)


def detecting(path: Path) -> list[str]:
    h = head(path)
    return [p.format for p in SECURITY_PARSERS if p.detect(h)]


@dataclass
class Outcome:
    doc: dict[str, Any] | None = None
    problems: list[tuple[str, str, int | None]] = field(default_factory=list)
    duplicates: int = 0

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self.doc["data"]["vulnerabilities"] if self.doc else []

    def fingerprints(self) -> list[str]:
        return [f["fingerprint"] for f in self.findings]


def ingest(paths: list[Path], workdir: Path, *, parser: Any = None, source_root: Path | None = None,
           timestamp: str = "2024-05-01T12:00:00Z") -> Outcome:
    writer = SecurityWriter(workdir=workdir, limits=Limits())
    out = Outcome()
    try:
        for path in paths:
            cls = parser
            if cls is None:
                found = [p for p in SECURITY_PARSERS if p.detect(head(path))]
                if len(found) != 1:
                    out.problems.append((str(path), f"detected as {[p.format for p in found]}", None))
                    continue
                cls = found[0]
            inst = cls(source_root=source_root) if cls is SarifParser else cls()
            src = SourceInfo(file=str(path), format=cls.format, bytes=path.stat().st_size)
            writer.begin_source(src)
            try:
                inst.parse(path, writer, src)
            except ReportError as exc:
                writer.rollback_source()
                out.problems.append((str(path), str(exc), exc.line))
            else:
                writer.commit_source()
        written = writer.finish(timestamp=timestamp)
    except BaseException:
        writer.abort()
        raise
    try:
        out.doc = json.loads(written.path.read_text(encoding="utf-8"))
    finally:
        written.cleanup()
    validate_document(out.doc)
    assert written.summary["total"] == out.doc["data"]["summary"]["total"]
    out.duplicates = writer.duplicates
    return out


def shift_lines(obj: Any, n: int, keys: tuple[str, ...] = ("startLine", "endLine")) -> Any:
    """A deep copy of a JSON value with every int under ``keys`` moved down by ``n`` lines."""
    if isinstance(obj, dict):
        return {k: (v + n if k in keys and type(v) is int else shift_lines(v, n, keys)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [shift_lines(v, n, keys) for v in obj]
    return obj


def sarif_document(path: Path, workdir: Path, parser: SarifParser) -> bytes | str:
    """One SARIF file through ``parser`` (configured by the caller) into a fresh writer: the
    serialised document (bytes), or the error text with its line when the file is refused."""
    writer = SecurityWriter(workdir=workdir, limits=Limits())
    src = SourceInfo(file=path.name, format="sarif", bytes=path.stat().st_size)
    writer.begin_source(src)
    try:
        parser.parse(path, writer, src)
    except ReportError as exc:
        writer.abort()
        return f"{exc} (line {exc.line})"
    writer.commit_source()
    doc = writer.finish(timestamp="2024-01-01T00:00:00Z")
    try:
        return doc.path.read_bytes()
    finally:
        doc.cleanup()
