"""Hostile reports (issue 9, "Hostile input"): lone surrogates, deep nesting, integers with
thousands of digits, ``--file`` symlinks. Every one is refused cleanly (exit 7, one line naming the
file, never a traceback or "internal parser error") or read safely, and the other files of the call
are still reported on. Inputs are written here.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import TIMESTAMP  # type: ignore[import-not-found]
from junit_paths import both_paths  # type: ignore[import-not-found]  # noqa: F401 - a fixture

from aqe_ci.errors import EXIT_INVALID_INPUT
from aqe_ci.ingest.driver import ingest_files

GOOD_JUNIT = '<testsuite name="s"><testcase classname="c" name="ok" time="0.1"/></testsuite>'
LONE = "\\ud800"


def _ingest(tmp_path: Path, *files: Path, **kwargs: Any) -> Any:
    return ingest_files(list(files), workdir=tmp_path / "w", timestamp=TIMESTAMP, **kwargs)


def _doc(result: Any, doc_type: str) -> dict[str, Any]:
    return json.loads(result.documents[doc_type].path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in (*value.keys(), *value.values()) for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


# -- lone surrogates ------------------------------------------------------------------------------------
#: every JSON reader: (format, document type, report text with the lone surrogate escape in it)
SURROGATE_REPORTS: dict[str, tuple[str, str]] = {
    "sarif": ("security", json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T@@"}}, "results": [
        {"ruleId": "r@@", "message": {"text": "bad @@ value"}, "partialFingerprints": {"primaryLocationLineHash": "h@@"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a@@.py"}, "region": {"startLine": 1}}}]},
        {"ruleId": "r@@", "kind": "fail", "message": {"text": "general @@ path"},
         "locations": [{"physicalLocation": {"artifactLocation": {"uri": "b.py"}, "region": {"startLine": 2}}}]}]}]})),
    "npm-audit-v2": ("security", json.dumps({"auditReportVersion": 2, "vulnerabilities": {"lodash@@": {
        "name": "lodash@@", "severity": "high", "via": [{"source": 1, "name": "lodash@@", "title": "Proto @@",
                                                         "url": "https://github.com/advisories/GHSA-jf85-cpcp-j695",
                                                         "severity": "high", "range": "<4.17.12"}],
        "range": "<4.17.12", "fixAvailable": True}}, "metadata": {}})),
    "npm-audit-v1": ("security", json.dumps({"actions": [], "advisories": {"1": {
        "id": 1, "title": "Proto @@", "module_name": "lodash", "severity": "high", "url": "https://x/1",
        "findings": [{"version": "4.17.4", "paths": ["lodash@@"]}]}}, "muted": [], "metadata": {}})),
    "yarn-audit": ("security", json.dumps({"type": "auditAdvisory", "data": {"resolution": {"path": "a@@"},
        "advisory": {"id": 2, "title": "t@@", "module_name": "m", "severity": "low", "url": "https://x/2",
                     "findings": [{"version": "1.0.0", "paths": ["m"]}]}}}) + "\n"
        + json.dumps({"type": "auditSummary", "data": {"vulnerabilities": {"low": 1}}}) + "\n"),
    "trivy": ("security", json.dumps({"SchemaVersion": 2, "ArtifactName": "img@@", "ArtifactType": "container_image",
        "Results": [{"Target": "t@@", "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-1", "PkgName": "p@@",
                                                           "InstalledVersion": "1", "Severity": "LOW"}]}]})),
    "bandit": ("security", json.dumps({"generated_at": "x", "metrics": {}, "errors": [], "results": [
        {"test_id": "B101", "filename": "a@@.py", "line_number": 1, "issue_severity": "LOW", "issue_text": "t@@",
         "code": "1 assert x\n", "line_range": [1]}]})),
    "pip-audit": ("security", json.dumps({"dependencies": [{"name": "pkg@@", "version": "1.0", "vulns": [
        {"id": "PYSEC-2024-1", "fix_versions": ["1.1"], "description": "d@@"}]}], "fixes": []})),
    "grype": ("security", json.dumps({"matches": [{"vulnerability": {"id": "CVE-1", "severity": "High",
                                                                     "description": "d@@"},
                                                   "artifact": {"name": "n@@", "version": "1"}, "matchDetails": []}],
                                      "descriptor": {"name": "grype", "version": "1"}})),
    "semgrep": ("security", json.dumps({"results": [{"check_id": "c@@", "path": "p.py", "start": {"line": 1},
                                                     "end": {"line": 1}, "extra": {"message": "m@@",
                                                                                   "severity": "ERROR"}}],
                                        "paths": {"scanned": ["p@@.py"]}})),
    "coveragepy-json": ("coverage", json.dumps({"meta": {"version": "7.4", "branch_coverage": False},
                                                "files": {"src/m@@.py": {"executed_lines": [1], "missing_lines": []}},
                                                "totals": {}})),
    "istanbul": ("coverage", json.dumps({"/src/a@@.js": {"path": "/src/a@@.js", "statementMap": {
        "0": {"start": {"line": 1, "column": 0}, "end": {"line": 1, "column": 9}}}, "fnMap": {}, "branchMap": {},
        "s": {"0": 1}, "f": {}, "b": {}}})),
    "istanbul-summary": ("coverage", json.dumps({"total": {"lines": {"total": 1, "covered": 1, "pct": 100}},
                                                 "/src/a@@.js": {"lines": {"total": 1, "covered": 1, "pct": 100}}})),
    "playwright-json": ("test_results", json.dumps({"config": {"rootDir": "/r", "projects": [{"name": "c@@"}]},
        "suites": [{"title": "a.spec.ts", "file": "a.spec.ts", "specs": [{"title": "t@@", "line": 3, "tests": [
            {"projectName": "c@@", "status": "expected", "results": [{"status": "passed", "duration": 5}]}]}]}],
        "stats": {"duration": 10}})),
}


@pytest.mark.parametrize("fmt", sorted(SURROGATE_REPORTS))
def test_a_lone_surrogate_becomes_u_fffd_with_a_warning(fmt: str, tmp_path: Path) -> None:
    doc_type, text = SURROGATE_REPORTS[fmt]
    report = tmp_path / f"{fmt}.json"
    report.write_text(text.replace("@@", LONE))
    result = _ingest(tmp_path, report)
    assert not result.problems, [p.one_line() for p in result.problems]
    assert result.documents[doc_type].sources[0].format == fmt
    doc = _doc(result, doc_type)
    strings = _strings(doc)
    assert any("\ufffd" in s for s in strings)
    for s in strings:
        s.encode("utf-8")  # nothing left that UTF-8 cannot hold
    (source,) = doc["data"]["sources"]
    assert source["warnings"][0].endswith("replaced by U+FFFD") and "lone surrogate" in source["warnings"][0]
    result.cleanup()


def test_a_valid_surrogate_pair_and_an_escaped_backslash_are_kept(tmp_path: Path) -> None:
    doc_type, text = SURROGATE_REPORTS["grype"]
    report = tmp_path / "grype.json"
    report.write_text(text.replace("@@", "\\ud83d\\ude00 \\\\ud800"))
    result = _ingest(tmp_path, report)
    doc = _doc(result, doc_type)
    assert doc["data"]["vulnerabilities"][0]["message"] == "d\U0001F600 \\ud800"
    assert "warnings" not in doc["data"]["sources"][0]
    result.cleanup()


@pytest.mark.usefixtures("both_paths")
def test_xml_lone_surrogates_in_utf16_become_u_fffd(tmp_path: Path) -> None:
    raw = ('<?xml version="1.0" encoding="UTF-16"?><testsuite name="s"><testcase classname="c" name="t@@">'
           "<failure message='m@@'>x</failure></testcase></testsuite>").encode("utf-16-le")
    lone = "\ud800".encode("utf-16-le", "surrogatepass")
    report = tmp_path / "junit16.xml"
    report.write_bytes(b"\xff\xfe" + raw.replace("@@".encode("utf-16-le"), lone))
    result = _ingest(tmp_path, report)
    assert not result.problems
    doc = _doc(result, "test_results")
    assert doc["data"]["tests"][0]["name"] == "t\ufffd"
    assert doc["data"]["sources"][0]["warnings"] == ["2 unpaired UTF-16 surrogates replaced by U+FFFD"]
    result.cleanup()


def test_a_stored_report_with_lone_surrogates_still_gets_compares_and_gates(aqe: Any, workdir: Path) -> None:
    _, text = SURROGATE_REPORTS["sarif"]
    report = workdir / "codeql.sarif"
    report.write_text(text.replace("@@", LONE))
    junit = workdir / "junit.xml"
    junit.write_text(GOOD_JUNIT)
    for key in ("base-1", "head-2"):
        r = aqe("artifacts", "store", "--file", str(report), "--file", str(junit), "--key", key,
                "--branch", "main", "--commit", "ab12cd34ef56")
        assert r.code == 0, r.err
    r = aqe("artifacts", "get", "head-2", "--type", "security")
    assert r.code == 0, r.err
    assert "\ufffd" in json.loads(r.out)["data"]["vulnerabilities"][0]["message"]
    r = aqe("artifacts", "compare", "base-1", "head-2", "--format", "markdown", "--fail-on", "new_security>=high")
    assert r.code == 0, r.err


# -- deep nesting ------------------------------------------------------------------------------------------
DEEP = 100_000


@pytest.mark.parametrize("name,text", [
    ("first-line.json", '{"type":"auditSummary","data":' + "[" * DEEP + "]" * DEEP + "}\n"),
    ("bare.json", "[" * DEEP + "]" * DEEP),
    ("sarif.json", '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r",'
                   '"message":{"text":"m"},"properties":' + '{"a":' * DEEP + "1" + "}" * DEEP + "}]}]}"),
    ("grype.json", '{"matches":[{"matchDetails":' + "[" * DEEP + "]" * DEEP + "}]}"),
    ("playwright.json", '{"config":{"rootDir":"/r","projects":[]},"suites":['
                        + '{"title":"x","suites":[' * 3000 + "]}" * 3000 + "]}"),
    ("istanbul.json", '{"/a.js":{"path":"/a.js","statementMap":' + '{"a":' * DEEP + "1" + "}" * DEEP + "}}"),
    ("coverage.json", '{"meta":{"version":"7","branch_coverage":false},"files":{"a.py":'
                      + "[" * DEEP + "]" * DEEP + "}}"),
    ("junit.xml", "<testsuites>" + "<testsuite name='n'>" * 20_000 + "<testcase name='t'/>"
                  + "</testsuite>" * 20_000 + "</testsuites>"),
])
def test_deep_nesting_is_exit_7_naming_the_file_and_the_rest_is_reported(name: str, text: str, aqe: Any,
                                                                          workdir: Path) -> None:
    deep = workdir / name
    deep.write_text(text)
    good = workdir / "good.xml"
    good.write_text(GOOD_JUNIT)
    r = aqe("artifacts", "ingest", str(deep), str(good))
    if name == "junit.xml":  # XML nests without recursion: 20,000 suites are read
        assert r.code == 0, r.err
        assert json.loads(r.out)["data"]["tests_run"] == 2
        return
    assert r.code == EXIT_INVALID_INPUT, r.err
    assert "RecursionError" not in r.err and "internal parser error" not in r.err and "Traceback" not in r.err
    assert r.err.startswith(f"Error: {deep}")
    assert json.loads(r.out)["data"]["tests_run"] == 1  # the good file is still read


# -- integers with thousands of digits ------------------------------------------------------------------------
HUGE = "9" * 5000
BIG = "9" * 1000


@pytest.mark.parametrize("name,text,fmt", [
    ("sarif-huge.json", '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r",'
                        '"message":{"text":"m"},"locations":[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},'
                        '"region":{"startLine":@@}}}]}]}]}', None),
    ("sarif-fast.json", '{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r",'
                        '"message":{"text":"m"},"partialFingerprints":{"primaryLocationLineHash":"h"},"locations":'
                        '[{"physicalLocation":{"artifactLocation":{"uri":"a.py"},"region":{"startLine":@@}}}]}]}]}',
     None),
    ("lcov.info", "SF:a.c\nDA:@@,1\nend_of_record\n", None),
    ("cobertura.xml", '<?xml version="1.0"?><coverage line-rate="1" branch-rate="0" version="1" timestamp="1">'
                      '<packages><package name="p"><classes><class name="c" filename="a.py"><lines>'
                      '<line number="@@" hits="1"/></lines></class></classes></package></packages></coverage>', None),
    ("jacoco.xml", '<report name="r"><package name="p"><sourcefile name="A.java"><line nr="@@" mi="0" ci="1" mb="0"'
                   ' cb="0"/></sourcefile></package></report>', None),
    ("junit.xml", '<testsuite name="s"><testcase name="t" line="@@"/></testsuite>', None),
    ("coverage.json", '{"meta":{"version":"7","branch_coverage":false},"files":{"a.py":{"executed_lines":[@@],'
                      '"missing_lines":[]}},"totals":{}}', "coveragepy-json"),
    ("istanbul.json", '{"/a.js":{"path":"/a.js","statementMap":{"0":{"start":{"line":@@,"column":0},"end":'
                      '{"line":1,"column":1}}},"fnMap":{},"branchMap":{},"s":{"0":1},"f":{},"b":{}}}', None),
    ("go.cover", "mode: set\nexample.com/m/a.go:@@.1,3.2 1 1\n", None),
    ("bandit.json", '{"generated_at":"x","metrics":{},"errors":[],"results":[{"test_id":"B1","filename":"a.py",'
                    '"line_number":@@,"issue_severity":"LOW","issue_text":"t"}]}', None),
    ("semgrep.json", '{"results":[{"check_id":"c","path":"a.py","start":{"line":@@},"end":{"line":1},'
                     '"extra":{"message":"m","severity":"ERROR"}}],"paths":{"scanned":[]}}', None),
    ("trivy.json", '{"SchemaVersion":2,"ArtifactName":"a","Results":[{"Target":"t","Misconfigurations":[{"ID":"X",'
                   '"Status":"FAIL","Severity":"LOW","CauseMetadata":{"StartLine":@@}}]}]}', None),
    ("playwright.json", '{"config":{"rootDir":"/r","projects":[]},"suites":[{"title":"a","file":"a","specs":[{'
                        '"title":"t","line":@@,"tests":[]}]}]}', None),
])
@pytest.mark.parametrize("digits", [HUGE, BIG, "2147483648"])
def test_numbers_out_of_range_are_a_clear_problem(name: str, text: str, fmt: str | None, digits: str,
                                                   tmp_path: Path) -> None:
    report = tmp_path / name
    report.write_text(text.replace("@@", digits))
    result = _ingest(tmp_path, report, fmt=fmt or "auto")
    assert not result.documents, f"{name} with {len(digits)} digits was stored"
    (problem,) = result.problems
    assert "internal parser error" not in problem.reason
    assert "out of range" in problem.reason or "integer overflow" in problem.reason, problem.reason
    result.cleanup()


def test_a_message_placeholder_with_thousands_of_digits_is_only_text(tmp_path: Path) -> None:
    report = tmp_path / "args.sarif"
    report.write_text('{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[{"ruleId":"r",'
                      '"message":{"text":"see {' + "9" * 3000 + '} and {0}","arguments":["x"]}}]}]}')
    result = _ingest(tmp_path, report)
    assert not result.problems
    assert _doc(result, "security")["data"]["vulnerabilities"][0]["message"].endswith("} and x")
    result.cleanup()


# -- --file symlinks ---------------------------------------------------------------------------------------------
SECRET = "AKIAEXAMPLESECRET1234 very-private-token-value"


def test_symlinks_are_resolved_and_read(aqe: Any, workdir: Path) -> None:
    real = workdir / "real" / "junit.xml"
    real.parent.mkdir()
    real.write_text(GOOD_JUNIT)
    link = workdir / "link.xml"
    link.symlink_to(real)
    r = aqe("artifacts", "ingest", str(link))
    assert r.code == 0, r.err
    assert json.loads(r.out)["data"]["sources"][0]["file"] == str(link)


@pytest.mark.parametrize("content", [SECRET + "\n", "root:x:0:0:" + SECRET + "\n", "{\"token\": \"" + SECRET + "\"}",
                                     "<secret>" + SECRET + "</secret>", "TN:" + SECRET + "\n"])
def test_an_unreadable_format_never_quotes_the_file(content: str, aqe: Any, workdir: Path) -> None:
    secret = workdir / "secret.txt"
    secret.write_text(content)
    link = workdir / "report.xml"
    link.symlink_to(secret)
    r = aqe("artifacts", "ingest", str(link))
    assert r.code == EXIT_INVALID_INPUT
    assert SECRET not in r.err and "AKIA" not in r.err and "root:x" not in r.err
    assert "not a recognised report format" in r.err or "not an LCOV" in r.err or "no SF section" in r.err


def test_forced_text_formats_do_not_quote_the_file_either(aqe: Any, workdir: Path) -> None:
    secret = workdir / "secret.txt"
    secret.write_text("DA:" + SECRET + "\nSF:x\n" + SECRET + "\n")
    for fmt in ("lcov", "go-coverprofile", "tap"):
        r = aqe("artifacts", "ingest", str(secret), "--format", fmt)
        assert r.code == EXIT_INVALID_INPUT, (fmt, r.err)
        assert SECRET not in r.err and "AKIA" not in r.err, (fmt, r.err)


def test_bad_symlinks_are_one_line_problems(workdir: Path) -> None:
    dangling = workdir / "dangling.xml"
    dangling.symlink_to(workdir / "missing.xml")
    loop_a, loop_b = workdir / "a.xml", workdir / "b.xml"
    loop_a.symlink_to(loop_b)
    loop_b.symlink_to(loop_a)
    directory = workdir / "dir.xml"
    directory.symlink_to(workdir)
    fifo = workdir / "pipe"
    os.mkfifo(fifo)
    to_fifo = workdir / "fifo.xml"
    to_fifo.symlink_to(fifo)
    result = _ingest(workdir, dangling, loop_a, directory, to_fifo)
    reasons = {Path(p.file).name: p.reason for p in result.problems}
    assert reasons["dangling.xml"] == "no such file"
    assert reasons["a.xml"].startswith("cannot read")
    assert reasons["dir.xml"] == reasons["fifo.xml"] == "not a regular file"
