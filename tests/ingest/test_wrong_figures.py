"""Reading rules that used to give wrong figures (issue 9, "Wrong figures"), on inputs written here.

Each rule runs on both paths where a C accelerator takes part (the JUnit scanner, the SARIF result
scanner): the fixture ``both_paths`` switches ``AQE_PURE_PYTHON``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import TIMESTAMP  # type: ignore[import-not-found]
from junit_paths import both_paths  # type: ignore[import-not-found]  # noqa: F401 - a fixture

from aqe_ci.errors import EXIT_INVALID_INPUT
from aqe_ci.ingest import registry
from aqe_ci.ingest.base import HEAD_BYTES
from aqe_ci.ingest.driver import ingest_files

pytestmark = pytest.mark.usefixtures("both_paths")


def _doc(tmp_path: Path, *files: Path, **kwargs: Any) -> dict[str, Any]:
    result = ingest_files(list(files), workdir=tmp_path / "w", timestamp=TIMESTAMP, **kwargs)
    try:
        assert not result.problems, [p.one_line() for p in result.problems]
        (doc,) = result.documents.values()
        return json.loads(doc.path.read_text(encoding="utf-8"))["data"]  # type: ignore[no-any-return]
    finally:
        result.cleanup()


def _problems(tmp_path: Path, *files: Path, **kwargs: Any) -> list[str]:
    result = ingest_files(list(files), workdir=tmp_path / "w", timestamp=TIMESTAMP, **kwargs)
    result.cleanup()
    return [p.reason for p in result.problems]


# -- SARIF fingerprints are per file ---------------------------------------------------------------
def _codeql(results: list[dict[str, Any]]) -> str:
    return json.dumps({"$schema": "https://json.schemastore.org/sarif-2.1.0.json", "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "CodeQL", "semanticVersion": "2.16.0", "rules": [
            {"id": "py/sql-injection", "shortDescription": {"text": "SQL query built from user-controlled sources"},
             "properties": {"security-severity": "8.8", "tags": ["security", "external/cwe/cwe-089"]}}]}},
        "results": results}]})


def _result(uri: str, line: int, line_hash: str = "1f8e4c2b0a9d7e6f:1", **extra: Any) -> dict[str, Any]:
    return {"ruleId": "py/sql-injection", "ruleIndex": 0,
            "message": {"text": "This SQL query depends on a user-provided value."},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri, "uriBaseId": "%SRCROOT%"},
                                                "region": {"startLine": line, "startColumn": 5, "endColumn": 41}}}],
            "partialFingerprints": {"primaryLocationLineHash": line_hash}, **extra}


@pytest.mark.parametrize("shape", ["fast", "general"])
def test_the_same_snippet_in_two_files_is_two_findings(shape: str, tmp_path: Path) -> None:
    extra = {} if shape == "fast" else {"kind": "fail"}  # "kind" sends a result off the fast path
    log = tmp_path / "codeql.sarif"
    log.write_text(_codeql([_result("bad/db_init.py", 12, **extra), _result("good/db_init.py", 12, **extra),
                            _result("bad/db_init.py", 40, "1f8e4c2b0a9d7e6f:2", **extra)]))
    data = _doc(tmp_path, log)
    assert [f["location"]["path"] for f in data["vulnerabilities"]] == ["bad/db_init.py", "good/db_init.py",
                                                                       "bad/db_init.py"]
    assert len({f["fingerprint"] for f in data["vulnerabilities"]}) == 3
    assert data["summary"]["total"] == 3 and data["summary"]["high"] == 3


def test_a_finding_keeps_its_fingerprint_when_it_moves_within_its_file(tmp_path: Path) -> None:
    a, b = tmp_path / "a.sarif", tmp_path / "b.sarif"
    a.write_text(_codeql([_result("src/app.py", 10)]))
    b.write_text(_codeql([_result("src/app.py", 57)]))
    assert _doc(tmp_path / "a", a)["vulnerabilities"][0]["fingerprint"] == \
        _doc(tmp_path / "b", b)["vulnerabilities"][0]["fingerprint"]


def test_other_partial_fingerprints_are_per_file_and_full_ones_global(tmp_path: Path) -> None:
    partial = [_result(u, 3) | {"partialFingerprints": {"contextRegionHash/v1": "abc"}} for u in ("x/a.js", "y/a.js")]
    full = [_result(u, 3) | {"partialFingerprints": {}, "fingerprints": {"matchBasedId/v1": "f00d"}}
            for u in ("x/a.js", "y/a.js")]
    log = tmp_path / "mixed.sarif"
    log.write_text(_codeql(partial + full))
    data = _doc(tmp_path, log)
    sources = [f["fingerprint_source"] for f in data["vulnerabilities"]]
    assert sources == ["sarif-partial", "sarif-partial", "sarif-fingerprints"]  # the full ones are one identity
    assert data["summary"]["total"] == 3


# -- nested suites keep their full path ------------------------------------------------------------
NESTED = """<?xml version="1.0"?>
<testsuites>
  <testsuite name="T: chrome"><testsuite name="T::x">
    <testcase classname="T::x" name="renders" time="0.5"><failure message="expected 3 rows">boom</failure></testcase>
    <testcase classname="T::x" name="loads" time="0.1"/>
  </testsuite></testsuite>
  <testsuite name="T: firefox"><testsuite name="T::x">
    <testcase classname="T::x" name="renders" time="0.4"/>
    <testcase classname="T::x" name="loads" time="0.1"/>
  </testsuite></testsuite>
</testsuites>
"""


def test_the_same_nested_suite_under_two_parents_is_two_suites(tmp_path: Path) -> None:
    report = tmp_path / "karma.xml"
    report.write_text(NESTED)
    data = _doc(tmp_path, report)
    assert [(t["suite"], t["name"], t["status"]) for t in data["tests"]] == [
        ("T: chrome › T::x", "renders", "failed"), ("T: chrome › T::x", "loads", "passed"),
        ("T: firefox › T::x", "renders", "passed"), ("T: firefox › T::x", "loads", "passed")]
    assert (data["failed"], data["flaky"], data["tests_run"]) == (1, 0, 4)
    assert [f["suite"] for f in data["failures"]] == ["T: chrome › T::x"]


def test_suite_outputs_carry_the_full_path(tmp_path: Path) -> None:
    report = tmp_path / "out.xml"
    report.write_text('<testsuites><testsuite name="a"><testsuite name="b"><testcase name="t"/>'
                      "<system-out>hello</system-out></testsuite></testsuite></testsuites>")
    assert _doc(tmp_path, report)["suite_outputs"] == [{"suite": "a › b", "stdout": {"text": "hello"}}]


# -- every status attribute is read -------------------------------------------------------------------
@pytest.mark.parametrize("attrs,status", [
    ('status="run" result="skipped"', "skipped"),
    ('status="run" result="suppressed"', "skipped"),
    ('status="notrun" result="suppressed"', "skipped"),
    ('status="run" result="completed"', "passed"),
    ('result="failed" status="run"', "failed"),
    ('executed="False"', "skipped"),
    ('executed="True" success="False"', "failed"),
    ('outcome="skipped"', "skipped"),
    ('outcome="Failed"', "failed"),
    ('status="passed" outcome="error"', "error"),
])
def test_status_attributes_all_count(attrs: str, status: str, tmp_path: Path) -> None:
    report = tmp_path / "gtest.xml"
    report.write_text(f'<testsuites><testsuite name="Math"><testcase name="a" classname="Math" {attrs} time="0.01"/>'
                      f'<testcase name="b" classname="Math" {attrs} time="0.01"><system-out>o</system-out>'
                      "</testcase></testsuite></testsuites>")
    data = _doc(tmp_path, report)
    assert [t["status"] for t in data["tests"]] == [status, status]
    assert len(data["failures"]) == (2 if status in ("failed", "error") else 0)


# -- a format we do not read is never an empty success ---------------------------------------------
@pytest.mark.parametrize("xml,root", [
    ('<testsuites xmlns="urn:example:results"><run><case id="1"/></run></testsuites>', "testsuites"),
    ("<testsuites><suite><test/></suite></testsuites>", "testsuites"),
    ('<?xml version="1.0"?><report><item/></report>', "report"),
])
def test_unknown_xml_structure_is_exit_7_naming_the_root(xml: str, root: str, aqe: Any, workdir: Path) -> None:
    report = workdir / "other.xml"
    report.write_text(xml)
    r = aqe("artifacts", "ingest", str(report))
    assert r.code == EXIT_INVALID_INPUT
    assert f"<{root}>" in r.err and "0 tests" not in r.out


def test_an_empty_junit_report_is_still_an_empty_report(tmp_path: Path) -> None:
    for text in ("<testsuites/>", '<testsuites tests="0"><properties><property name="a" value="b"/></properties>'
                 "</testsuites>"):
        report = tmp_path / "empty.xml"
        report.write_text(text)
        assert _doc(tmp_path, report)["tests_run"] == 0


# -- detection does not depend on key order or spacing ------------------------------------------------
GRYPE = {"matches": [{"vulnerability": {"id": "CVE-2023-4863", "severity": "High", "description": "libwebp overflow",
                                        "fix": {"versions": ["1.3.2"], "state": "fixed"}},
                      "artifact": {"name": "libwebp", "version": "1.3.1", "type": "deb",
                                   "locations": [{"path": "/var/lib/dpkg/status"}]},
                      "matchDetails": [{"type": "exact-direct-match"}]}],
         "source": {"type": "image", "target": {"userInput": "app:1.0"}}, "distro": {"name": "debian", "version": "12"},
         "descriptor": {"name": "grype", "version": "0.74.0"}}


@pytest.mark.parametrize("indent", [None, 2, "\t"])
def test_grype_with_sorted_keys_is_grype(indent: Any, tmp_path: Path) -> None:
    plain, sorted_ = tmp_path / "grype.json", tmp_path / "grype-sorted.json"
    plain.write_text(json.dumps(GRYPE))
    sorted_.write_text(json.dumps(GRYPE, sort_keys=True, indent=indent))
    assert json.loads(sorted_.read_text())["descriptor"] and sorted_.read_text().index("descriptor") < 60
    a, b = _doc(tmp_path / "a", plain), _doc(tmp_path / "b", sorted_)
    assert a["vulnerabilities"] == b["vulnerabilities"] and a["summary"]["high"] == 1


def _big_trivy() -> dict[str, Any]:
    vulns = [{"VulnerabilityID": f"CVE-2024-{i:05d}", "PkgName": f"pkg{i}", "InstalledVersion": "1.0",
              "Severity": "MEDIUM", "Title": "x" * 200} for i in range(600)]
    return {"SchemaVersion": 2, "ArtifactName": "app:1.0", "ArtifactType": "container_image",
            "Results": [{"Target": "app:1.0 (debian 12)", "Class": "os-pkgs", "Type": "debian",
                         "Vulnerabilities": vulns}]}


def test_a_key_beyond_the_head_is_found_by_the_streamed_look(tmp_path: Path) -> None:
    """Sorted keys put Trivy's SchemaVersion after Results: past the 64 KiB head."""
    report = tmp_path / "trivy-sorted.json"
    report.write_text(json.dumps(_big_trivy(), sort_keys=True, indent=1))
    text = report.read_text()
    assert text.index('"SchemaVersion"') > HEAD_BYTES
    assert not registry.detect(report.read_bytes()[:HEAD_BYTES])  # the head alone does not tell
    data = _doc(tmp_path, report)
    assert data["summary"]["medium"] == 600


def test_coverage_py_json_with_sorted_keys(tmp_path: Path) -> None:
    files = {f"src/mod{i}.py": {"executed_lines": list(range(1, 200)), "missing_lines": [200],
                                "summary": {"covered_lines": 199, "num_statements": 200}} for i in range(60)}
    doc = {"meta": {"version": "7.4.4", "format": 2, "branch_coverage": False, "show_contexts": False},
           "files": files, "totals": {"covered_lines": 11940, "num_statements": 12000}}
    report = tmp_path / "coverage.json"
    report.write_text(json.dumps(doc, sort_keys=True, indent=2))
    assert report.read_text().index('"meta"') > HEAD_BYTES
    data = _doc(tmp_path, report)
    assert data["lines_valid"] == 12000 and data["lines_covered"] == 11940


# -- byte-identical findings without a fingerprint are one finding ---------------------------------------
def test_identical_results_without_fingerprints_collapse(tmp_path: Path) -> None:
    def res(line: int) -> dict[str, Any]:
        return {"ruleId": "B602", "level": "error", "message": {"text": "subprocess call with shell=True"},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": "tools/run.py"},
                                                    "region": {"startLine": line}}}]}
    log = tmp_path / "bandit.sarif"
    log.write_text(json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Bandit"}},
                                                             "results": [res(10), res(10), res(25)]}]}))
    data = _doc(tmp_path, log)
    assert [f["location"]["start_line"] for f in data["vulnerabilities"]] == [10, 25]  # the repeat is one
    assert data["summary"]["total"] == 2


def test_identical_bandit_and_semgrep_results_collapse(tmp_path: Path) -> None:
    issue = {"test_id": "B602", "test_name": "subprocess_popen_with_shell_equals_true", "filename": "tools/run.py",
             "line_number": 10, "line_range": [10], "col_offset": 4, "issue_severity": "HIGH",
             "issue_confidence": "HIGH", "issue_text": "shell=True", "code": "10 subprocess.call(cmd, shell=True)\n"}
    bandit = tmp_path / "bandit.json"
    bandit.write_text(json.dumps({"generated_at": "2024-05-17T09:30:00Z", "metrics": {}, "errors": [],
                                  "results": [issue, issue, issue | {"line_number": 30, "line_range": [30],
                                                                     "code": "30 subprocess.call(cmd, shell=True)\n"}]}))
    assert _doc(tmp_path / "b", bandit)["summary"]["total"] == 2
    hit = {"check_id": "python.lang.security.audit.subprocess-shell-true", "path": "tools/run.py",
           "start": {"line": 10, "col": 5}, "end": {"line": 10, "col": 40},
           "extra": {"message": "shell=True", "severity": "ERROR", "lines": "requires login",
                     "fingerprint": "requires login", "metadata": {}}}
    semgrep = tmp_path / "semgrep.json"
    semgrep.write_text(json.dumps({"version": "1.60.0", "results": [hit, hit], "errors": [],
                                   "paths": {"scanned": ["tools/run.py"]}}))
    assert _doc(tmp_path / "s", semgrep)["summary"]["total"] == 1
