"""``aqe artifacts ingest`` end to end through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ingest_helpers import CORPUS  # type: ignore[import-not-found]

from aqe_ci.errors import EXIT_INVALID_INPUT, EXIT_USAGE
from aqe_ci.model.schema import validate_document

JUNIT = CORPUS / "junitparser/tests/data/normal.xml"
TRX = CORPUS / "test-reporter/__tests__/fixtures/dotnet-trx.trx"
XXE = CORPUS / "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-sec1752-file.xml"


def test_prints_one_validated_document(aqe: Any) -> None:
    r = aqe("artifacts", "ingest", str(JUNIT), str(TRX))
    assert r.code == 0, r.err
    doc = json.loads(r.out)
    assert validate_document(doc) == "test_results"
    assert [s["format"] for s in doc["data"]["sources"]] == ["junit", "trx"]
    assert r.err == ""


def test_bad_files_exit_7_after_the_rest(aqe: Any, workdir: Path) -> None:
    garbage = workdir / "garbage.xml"
    garbage.write_bytes(b"\x00\x01\x02\x03" * 10)
    r = aqe("artifacts", "ingest", str(XXE), str(JUNIT), str(garbage))
    assert r.code == EXIT_INVALID_INPUT
    assert json.loads(r.out)["data"]["tests_run"] == 3  # the good file is still printed
    lines = r.err.strip().splitlines()
    assert lines[0] == f"Error: {XXE}:2: XML document type declarations (DTD/ENTITY) are not allowed"
    assert lines[1].startswith(f"Error: {garbage}: not a recognised report format (binary data)")
    assert "2 of 3 file(s) could not be ingested" in lines[2]


def test_output_file_blobs_and_globs(aqe: Any, workdir: Path) -> None:
    report = workdir / "reports" / "deep" / "big.xml"
    report.parent.mkdir(parents=True)
    big = "x" * 10000
    report.write_text(f'<testsuite name="s"><testcase classname="c" name="t"><system-out>{big}</system-out>'
                      "</testcase></testsuite>")
    r = aqe("artifacts", "ingest", str(workdir / "reports" / "**" / "*.xml"), "--output", "doc.json")
    assert r.code == 0, r.err
    doc = json.loads((workdir / "doc.json").read_text())
    out = doc["data"]["tests"][0]["stdout"]
    blob = (workdir / "doc.json.blobs" / out["blob"]).read_bytes()
    assert blob[out["offset"]:out["offset"] + out["length"]].decode() == big


def test_unknown_format_and_unmatched_glob_are_usage_errors(aqe: Any, workdir: Path) -> None:
    r = aqe("artifacts", "ingest", str(JUNIT), "--format", "nope")
    assert r.code == EXIT_USAGE and "junit" in r.err and "trx" in r.err
    r = aqe("artifacts", "ingest", str(workdir / "none" / "*.xml"))
    assert r.code == EXIT_USAGE and "matched no files" in r.err


def test_forced_format_and_type_filter(aqe: Any) -> None:
    r = aqe("artifacts", "ingest", str(TRX), "--format", "junit")
    assert r.code == EXIT_INVALID_INPUT and "not JUnit XML" in r.err
    r = aqe("artifacts", "ingest", str(JUNIT), "--type", "coverage")
    assert r.code == EXIT_INVALID_INPUT and "is a test_results report (junit), not coverage" in r.err
