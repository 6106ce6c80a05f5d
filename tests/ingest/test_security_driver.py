"""The security parsers and writer through the real ingest driver and the full parser registry."""

from __future__ import annotations

import json
from pathlib import Path

from sec_support import CORPUS, SAMPLES, detecting, inventory

from aqe_ci.ingest import registry
from aqe_ci.ingest.base import HEAD_BYTES
from aqe_ci.ingest.driver import ingest_files
from aqe_ci.model.schema import validate_document


def test_security_files_are_claimed_by_one_parser_of_the_whole_registry() -> None:
    """Our detectors and every other registered detector never claim the same file."""
    ours = {c.format for c in registry.parser_classes() if c.doc_type == "security"}
    clashes = []
    for entry in inventory():
        path = CORPUS / entry["path"]
        if not path.is_file():
            continue
        with open(path, "rb") as f:
            head = f.read(HEAD_BYTES)
        claimed = [c.format for c in registry.detect(head)]
        if any(c in ours for c in claimed) and len(claimed) > 1:
            clashes.append((entry["path"], claimed))
        assert [c for c in claimed if c in ours] == detecting(path), entry["path"]
    assert clashes == []


def test_driver_merges_security_reports_and_reports_the_bad_one(tmp_path: Path) -> None:
    files = [
        CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.sarif",
        CORPUS / "audit-ci/test/npm-high/npm7-output.json",
        CORPUS / "trivy/integration/testdata/secrets.json.golden",
        SAMPLES / "grype-image.json",
        CORPUS / "_generated-real-tools/npm-audit/npm10-audit-error-405.json",
    ]
    result = ingest_files(files, workdir=tmp_path)
    try:
        assert [(Path(p.file).name, p.format) for p in result.problems] == [
            ("npm10-audit-error-405.json", "npm-audit-error")]
        assert "npm audit failed" in result.problems[0].reason
        doc_file = result.documents["security"]
        doc = json.loads(doc_file.path.read_text())
        validate_document(doc)
        assert [s["format"] for s in doc["data"]["sources"]] == ["sarif", "npm-audit-v2", "trivy", "grype"]
        assert {t["name"] for t in doc["data"]["tools"]} == {"Bandit", "npm audit", "trivy", "grype"}
        assert doc_file.summary["total"] == doc["data"]["summary"]["total"] == 72 + 1 + 2 + 3
    finally:
        result.cleanup()
