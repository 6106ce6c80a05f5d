"""The C/C++ test frameworks Jenkins' xUnit plugin reads (Boost.Test log and report, CTest,
CppUnit, QTestLib, Check, UnitTest++) and TAP (bats, node-tap, prove / Test::More).

Goldens: every sample in tests/ingest/samples/tests/ (written for this project from each
framework's documented output shape) beside its expected document or problem; the same samples
transcoded to UTF-16 and UTF-32 give the same documents; the test-summary-action TAP fixtures in
the corpus give that action's counts, except where docs/formats/tests.md says why not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import CORPUS, TIMESTAMP  # type: ignore[import-not-found]

from aqe_ci.ingest import registry
from aqe_ci.ingest.base import HEAD_BYTES
from aqe_ci.ingest.driver import ingest_files
from aqe_ci.ingest.stream.encoding import utf8_head

SAMPLES = Path(__file__).parent / "samples" / "tests"
FORMAT_OF = {"boost-log.xml": "boost-test", "boost-report.xml": "boost-test", "boost-report-short.xml": "boost-test",
             "ctest-Test.xml": "ctest", "cppunit.xml": "cppunit", "qtestlib.xml": "qtestlib", "check.xml": "check",
             "unittestpp.xml": "unittest++", "bats.tap": "tap", "bats-tap13.tap": "tap", "node-tap.tap": "tap",
             "prove-verbose.txt": "tap", "prove-summary.txt": "tap", "tap-crashed.tap": "tap"}


def _samples() -> list[Path]:
    found = sorted(p for p in SAMPLES.iterdir() if not p.name.endswith(".expected.json"))
    assert {p.name for p in found} == set(FORMAT_OF), "add the new sample to FORMAT_OF"
    return found


def _outcome(path: Path, tmp_path: Path, name: str | None = None) -> dict[str, Any]:
    result = ingest_files([path], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    try:
        if result.problems:
            return {"problems": [{"line": p.line, "reason": p.reason, "format": p.format} for p in result.problems]}
        doc = json.loads(result.documents["test_results"].path.read_text(encoding="utf-8"))
        for s in doc["data"]["sources"]:
            s["file"] = name or path.name
        return doc
    finally:
        result.cleanup()


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample_gives_its_expected_document(sample: Path, tmp_path: Path) -> None:
    expected = json.loads(sample.with_name(sample.name + ".expected.json").read_text(encoding="utf-8"))
    assert _outcome(sample, tmp_path) == expected


@pytest.mark.parametrize("sample", _samples(), ids=lambda p: p.name)
def test_sample_is_claimed_by_its_parser_first(sample: Path) -> None:
    head = sample.read_bytes()[:HEAD_BYTES]
    claimed = [c.format for c in registry.detect(head)]
    assert claimed and claimed[0] == FORMAT_OF[sample.name], claimed
    assert claimed.count(FORMAT_OF[sample.name]) == 1


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-le"])
@pytest.mark.parametrize("sample", [p for p in _samples() if p.suffix == ".xml"], ids=lambda p: p.name)
def test_utf16_and_utf32_samples_give_the_same_figures(sample: Path, codec: str, tmp_path: Path) -> None:
    """Windows tools write UTF-16 (with a BOM, or declared): transcoded while streaming, the same
    tests come out; only the source's size and digest differ."""
    text = sample.read_bytes().decode("utf-8" if b"ISO-8859-1" not in sample.read_bytes()[:100] else "latin-1")
    text = text.replace("encoding='ISO-8859-1'", "encoding='UTF-16'").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    wide = tmp_path / sample.name
    wide.write_bytes(text.encode(codec))
    head = utf8_head(wide.read_bytes()[:HEAD_BYTES])
    assert registry.detect(head)[0].format == FORMAT_OF[sample.name]
    got = _outcome(wide, tmp_path)
    want = json.loads(sample.with_name(sample.name + ".expected.json").read_text(encoding="utf-8"))
    if "problems" in want:
        assert got == want
        return
    for doc in (got, want):
        doc["data"]["sources"][0].pop("sha256")
        doc["data"]["sources"][0].pop("bytes")
    assert got == want


# -- TAP: the test-summary-action fixtures in the corpus -------------------------------------------
TSA = CORPUS / "test-summary-action" / "test" / "resources" / "tap"
#: (passed, failed, skipped) as test-summary-action's own tests expect them; ours add errors
TSA_COUNTS = {"01-common.tap": (6, 0, 0, 0), "02-unknown-amount-and-failure.tap": (5, 2, 0, 0),
              "03-bail-out.tap": (0, 1, 0, 1), "04-skipped.tap": (1, 0, 4, 0), "05-skip-everything.tap": (0, 0, 0, 0),
              "06-todo.tap": (2, 0, 2, 0), "07-creative-liberties.tap": (9, 0, 0, 0), "08-everything.tap": (6, 6, 8, 1),
              "09-node-tap.tap": (4, 4, 2, 0)}


@pytest.mark.parametrize("name", sorted(TSA_COUNTS))
def test_test_summary_action_tap_fixtures(name: str, tmp_path: Path) -> None:
    doc = _outcome(TSA / name, tmp_path)
    data = doc["data"]
    assert (data["passed"], data["failed"], data["skipped"], data["errors"]) == TSA_COUNTS[name]
    errors = [t for t in data["tests"] if t["status"] == "error"]
    if name == "03-bail-out.tap":  # deliberate: 572 planned tests never ran; the action shows 1 failure only
        assert errors[0]["message"] == ("572 of 573 planned tests did not run (Bail out! Couldn't connect to "
                                        "database.)")
    if name == "08-everything.tap":  # deliberate: the plan says 12, 20 ran — prove fails such a file too
        assert errors[0]["message"] == "20 tests ran, the plan announces 12"


def test_test_lines_after_a_closing_plan_are_refused(tmp_path: Path) -> None:
    doc = _outcome(TSA / "10-results-after-trailer.tap", tmp_path)
    assert doc == {"problems": [{"line": 6, "format": "tap",
                                 "reason": "TAP: a test line after the plan that closed the test run"}]}


def test_tap_names_and_status_rules(tmp_path: Path) -> None:
    path = tmp_path / "t.tap"
    path.write_text("TAP version 13\n1..6\nok 1 - same\nnot ok 2 - same\nok 3\nnot ok 4 - flaky # TODO known\n"
                    "ok 5 - escaped \\# hash\nok 6 - timed # time=12.5ms\n")
    tests = {t["name"]: t for t in _outcome(path, tmp_path)["data"]["tests"]}
    assert tests["same"]["status"] == "passed" and tests["same [2]"]["status"] == "failed"  # never merged
    assert tests["test 3"]["status"] == "passed"
    assert tests["flaky"]["status"] == "skipped" and tests["flaky"]["message"] == "known"
    assert "escaped # hash" in tests
    assert tests["timed"]["duration"] == 0.0125


def test_a_subtest_that_fails_outside_its_tests_is_a_failure(tmp_path: Path) -> None:
    path = tmp_path / "t.tap"
    path.write_text("TAP version 14\n# Subtest: setup\n    ok 1 - inner\n    1..1\nnot ok 1 - setup\n1..1\n")
    data = _outcome(path, tmp_path)["data"]
    assert [(t["suite"], t["name"], t["status"]) for t in data["tests"]] == [
        ("setup", "inner", "passed"), ("", "setup", "failed")]


def test_text_that_is_not_tap_is_refused_when_forced(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n")
    result = ingest_files([path], workdir=tmp_path / "w", fmt="tap", timestamp=TIMESTAMP)
    assert [p.reason for p in result.problems] == ["no TAP test lines, plan or version: not a TAP stream"]


# -- XML formats: rules beyond the goldens ----------------------------------------------------------
def test_trx_and_cppunit_roots_are_told_apart(tmp_path: Path) -> None:
    trx = b'<?xml version="1.0"?><TestRun xmlns="http://microsoft.com/schemas/VisualStudio/TeamTest/2010"><Results/>'
    cpp = b'<?xml version="1.0"?><TestRun><FailedTests/><SuccessfulTests/><Statistics/></TestRun>'
    assert [c.format for c in registry.detect(trx)] == ["trx"]
    assert [c.format for c in registry.detect(cpp)] == ["cppunit"]


def test_check_is_read_before_junit_and_junit_refuses_it(tmp_path: Path) -> None:
    head = (SAMPLES / "check.xml").read_bytes()
    assert [c.format for c in registry.detect(head)] == ["check", "junit"]
    result = ingest_files([SAMPLES / "check.xml"], workdir=tmp_path / "w", fmt="junit", timestamp=TIMESTAMP)
    assert [p.reason for p in result.problems] == [
        "not JUnit XML: the <testsuites> root holds <datetime> and no <testsuite> or <testcase> (a format we do "
        "not read)"]


@pytest.mark.parametrize("sample", [p for p in _samples() if p.suffix == ".xml"], ids=lambda p: p.name)
def test_a_doctype_is_refused_in_every_new_xml_format(sample: Path, tmp_path: Path) -> None:
    text = sample.read_text(encoding="latin-1")
    decl_end = text.find("?>") + 2 if text.startswith("<?xml") else 0
    hostile = tmp_path / sample.name
    hostile.write_text(text[:decl_end] + '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + text[decl_end:],
                       encoding="latin-1")
    result = ingest_files([hostile], workdir=tmp_path / "w", fmt=FORMAT_OF[sample.name], timestamp=TIMESTAMP)
    assert not result.documents
    assert "DTD/ENTITY" in result.problems[0].reason
