"""The Playwright JSON reporter parser on the real corpus run (2 projects, retries=1, one flaky test)."""

from __future__ import annotations

import json
from pathlib import Path

from aqe_ci.ingest.base import HEAD_BYTES
from aqe_ci.ingest.driver import ingest_files
from aqe_ci.ingest.tests.playwright import PlaywrightJsonParser
from aqe_ci.model.schema import validate_document

RUNNERS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "_generated-real-tools" / "js-test-runners"
REPORT = RUNNERS / "playwright-report.json"


def test_detects_only_playwright_json() -> None:
    assert PlaywrightJsonParser.detect(REPORT.read_bytes()[:HEAD_BYTES])
    for other in ("jest-report.json", "mocha-report.json", "vitest-report.json", "playwright-junit.xml"):
        assert not PlaywrightJsonParser.detect((RUNNERS / other).read_bytes()[:HEAD_BYTES]), other


def test_every_attempt_is_kept(tmp_path: Path) -> None:
    result = ingest_files([REPORT], workdir=tmp_path)
    assert not result.problems
    doc = json.loads(result.documents["test_results"].path.read_text())
    validate_document(doc)
    d = doc["data"]
    stats = json.loads(REPORT.read_text())["stats"]
    assert (d["tests_run"], d["flaky"], d["skipped"], d["failed"]) == (10, stats["flaky"], stats["skipped"],
                                                                       stats["unexpected"])
    assert d["duration"] == stats["duration"] / 1000
    by = {(t["suite"], t["name"]): t for t in d["tests"]}
    flaky = by[("[node-a] basic.spec.js", "no-browser suite › flaky-ish retried")]
    assert flaky["status"] == "flaky" and [r["status"] for r in flaky["retries"]] == ["failed"]
    fails = by[("[node-b] basic.spec.js", "no-browser suite › fails")]
    assert fails["status"] == "failed" and fails["file"] == "basic.spec.js" and fails["line"] == 4
    assert fails["message"] == "Error: expect(received).toEqual(expected) // deep equality"  # ANSI removed
    assert len(d["failures"]) == 2 and "\x1b[" not in json.dumps(d["failures"])
    assert "basic.spec.js:4:49" in d["failures"][0]["details"]["text"]


def test_truncated_report_is_a_problem_and_nothing_is_kept(tmp_path: Path) -> None:
    bad = tmp_path / "report.json"
    bad.write_bytes(REPORT.read_bytes()[:30_000])
    result = ingest_files([bad], workdir=tmp_path / "w")
    assert "test_results" not in result.documents
    assert len(result.problems) == 1 and "report.json" in result.problems[0].one_line()


def test_playwright_junit_projects_are_separate_suites(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Playwright's JUnit names the project only in <testsuite hostname=...>: node-a and node-b run
    the same tests; they are 10 tests (as <testsuites tests="10"> says), not 5 tests retried."""
    import json
    import xml.etree.ElementTree as ET

    from aqe_ci.ingest.driver import ingest_files
    from tests.conftest import CORPUS

    src = CORPUS / "_generated-real-tools" / "js-test-runners" / "playwright-junit.xml"
    root = ET.parse(src).getroot()
    result = ingest_files([src], workdir=tmp_path)
    assert not result.problems
    data = json.loads(result.documents["test_results"].path.read_text())["data"]
    assert data["tests_run"] == int(root.get("tests"))
    assert data["failed"] == int(root.get("failures")) and data["skipped"] == int(root.get("skipped"))
    hosts = sorted({s.get("hostname") for s in root.iter("testsuite")})
    assert sorted({t["suite"] for t in data["tests"]}) == [f"[{h}] basic.spec.js" for h in hosts]
