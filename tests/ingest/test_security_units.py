"""SecurityWriter, the JSON stream, SARIF ordering cases, hostile input and our own samples."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sec_support import SAMPLES, ingest

from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.security import sarif as sarif_mod
from aqe_ci.ingest.security.bandit import flagged_code
from aqe_ci.ingest.security.common import cvss_severity
from aqe_ci.ingest.security.grype import GrypeParser
from aqe_ci.ingest.security.pip_audit import PipAuditParser
from aqe_ci.ingest.security.sarif import SarifParser
from aqe_ci.ingest.security.semgrep import SemgrepParser
from aqe_ci.ingest.security.writer import SecurityWriter
from aqe_ci.ingest.stream.jsonstream import JsonStream
from aqe_ci.model.limits import Limits


def _finding(fp: str, severity: str = "high", **extra) -> dict:
    return {"fingerprint": fp, "tool": "t", "rule_id": "r", "severity": severity, "title": "x", **extra}


def _src(name: str = "a.json") -> SourceInfo:
    return SourceInfo(file=name, format="sarif", bytes=1)


def _finish(w: SecurityWriter) -> dict:
    doc = w.finish(timestamp="2024-01-01T00:00:00Z")
    try:
        return json.loads(doc.path.read_text())
    finally:
        doc.cleanup()


# -- writer ------------------------------------------------------------------------------------

def test_writer_dedups_by_fingerprint_keeping_the_higher_severity(tmp_path: Path) -> None:
    w = SecurityWriter(workdir=tmp_path, limits=Limits())
    w.begin_source(_src())
    w.add_finding(_finding("a", "low", message="first"))
    w.add_finding(_finding("b", "medium"))
    w.add_finding(_finding("a", "critical", message="second"))
    w.add_finding(_finding("a", "high", message="third"))
    w.commit_source()
    doc = _finish(w)
    vulns = doc["data"]["vulnerabilities"]
    assert [(v["fingerprint"], v["severity"], v.get("message")) for v in vulns] == [
        ("b", "medium", None), ("a", "critical", "second")]
    assert doc["data"]["summary"] == {"critical": 1, "high": 0, "medium": 1, "low": 0, "info": 0,
                                      "total": 2, "suppressed": 0}
    assert w.duplicates == 2
    assert list(tmp_path.iterdir()) == []  # spool and document removed


def test_suppressed_findings_are_kept_but_not_counted(tmp_path: Path) -> None:
    w = SecurityWriter(workdir=tmp_path, limits=Limits())
    w.begin_source(_src())
    w.add_finding(_finding("a", "critical", suppressed=True))
    w.add_finding(_finding("b", "low"))
    w.add_finding(_finding("c", "low", suppressed=True))
    w.add_finding(_finding("c", "low"))  # same severity: the unsuppressed one wins
    w.commit_source()
    doc = _finish(w)
    assert doc["data"]["summary"] == {"critical": 0, "high": 0, "medium": 0, "low": 2, "info": 0,
                                      "total": 2, "suppressed": 1}
    assert [v.get("suppressed", False) for v in doc["data"]["vulnerabilities"]] == [True, False, False]


def test_rollback_forgets_everything_the_file_added(tmp_path: Path) -> None:
    w = SecurityWriter(workdir=tmp_path, limits=Limits())
    w.begin_source(_src("good.json"))
    w.add_tool("good", "1")
    w.add_finding(_finding("a", "low"))
    w.commit_source()
    w.begin_source(_src("bad.json"))
    w.add_tool("bad", None)
    w.add_finding(_finding("a", "critical"))  # would replace the good file's finding
    w.add_finding(_finding("z", "high"))
    w.rollback_source()
    doc = _finish(w)
    assert [(v["fingerprint"], v["severity"]) for v in doc["data"]["vulnerabilities"]] == [("a", "low")]
    assert doc["data"]["tools"] == [{"name": "good", "version": "1"}]
    assert [s["file"] for s in doc["data"]["sources"]] == ["good.json"]
    assert w.duplicates == 0


def test_a_finding_outside_the_schema_is_refused(tmp_path: Path) -> None:
    w = SecurityWriter(workdir=tmp_path, limits=Limits())
    w.begin_source(_src())
    with pytest.raises(ReportError, match="does not fit the schema"):
        w.add_finding(_finding("a", "severe"))
    with pytest.raises(ReportError, match="does not fit the schema"):
        w.add_finding(_finding("", "low"))
    with pytest.raises(ReportError):
        w.add_finding(_finding("a", "low", location={"path": "x", "start_line": -1}))
    w.abort()
    assert list(tmp_path.iterdir()) == []


def test_cvss_scale() -> None:
    assert [cvss_severity(s) for s in (10, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0)] == [
        "critical", "critical", "high", "high", "medium", "medium", "low", "low", "info"]


# -- JSON stream ---------------------------------------------------------------------------------

def _walk(data: bytes, chunk: int = 7) -> list:
    js = JsonStream(io.BytesIO(data), chunk_bytes=chunk)
    out = []
    for key in js.iter_object():
        if key == "items":
            out.extend(js.value() for _ in js.iter_array())
        else:
            js.skip()
    js.end()
    return out


def test_stream_decodes_elements_across_tiny_chunks() -> None:
    data = json.dumps({"a": {"deep": [1, 2, {"x": "y"}]}, "items": [123456789, "ünï", {"k": [1.5e3]}, None],
                       "z": 1}).encode()
    assert _walk(data, chunk=3) == [123456789, "ünï", {"k": [1500.0]}, None]


@pytest.mark.parametrize("data,needle", [
    (b'{"items": [1, 2', "truncated"),
    (b'{"items": [NaN]}', "NaN"),
    (b'{"items": [1] } x', "extra data"),
    (b'\xff\xfe{"items": []}', "UTF-8"),
    (b'{"items": ["a\x00b"]}', "NUL"),
    (b'{"items": [' + b"[" * 5000 + b"]" * 5000 + b"]}", "nesting"),
    (b'{"items": [{"a" 1}]}', "invalid JSON"),
])
def test_stream_rejects_bad_json_with_a_clear_reason(data: bytes, needle: str) -> None:
    with pytest.raises(ReportError) as err:
        _walk(data)
    assert needle.lower() in str(err.value).lower() and err.value.line == 1


def test_stream_caps_a_single_element() -> None:
    data = b'{"items": ["' + b"a" * 5000 + b'"]}'
    js = JsonStream(io.BytesIO(data), chunk_bytes=64, max_value_chars=1000)
    with pytest.raises(ReportError, match="larger than 1000"):
        for _key in js.iter_object():
            for _ in js.iter_array():
                js.value()


def test_stream_reports_the_line_of_an_error() -> None:
    data = b'{\n"items": [\n1,\n2,\n}\n'
    with pytest.raises(ReportError) as err:
        _walk(data, chunk=4)
    assert err.value.line == 5


# -- SARIF ordering and options -----------------------------------------------------------------

def _sarif(results: list, *, tool_first: bool = True, bases_after: bool = True) -> dict:
    tool = {"driver": {"name": "Scanner", "version": "1.0",
                       "rules": [{"id": "R1", "shortDescription": {"text": "Rule one"},
                                  "defaultConfiguration": {"level": "error"},
                                  "properties": {"tags": ["external/cwe/cwe-079"]}}]}}
    run: dict = {}
    if tool_first:
        run["tool"] = tool
    run["artifacts"] = [{"location": {"uri": "src/a.py", "uriBaseId": "SRC"}}]
    run["results"] = results
    if not tool_first:
        run["tool"] = tool
    run["originalUriBaseIds"] = {"SRC": {"uri": "file:///work/repo/"}}
    return {"version": "2.1.0", "runs": [run]}


def _results(n: int) -> list:
    out = []
    for i in range(n):
        loc = ({"artifactLocation": {"index": 0}} if i % 3 == 0 else
               {"artifactLocation": {"uri": f"file:///work/repo/src/f{i % 7}.py"}} if i % 3 == 1 else
               {"artifactLocation": {"uri": f"src/m{i}.py", "uriBaseId": "SRC"}})
        loc["region"] = {"startLine": i + 1, "snippet": {"text": f"call_{i}(x)"}}
        out.append({"ruleIndex": 0, "message": {"text": f"m{i}"}, "locations": [{"physicalLocation": loc}]})
    return out


def test_results_before_tool_give_the_same_document(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sarif_mod, "DEFER_IN_MEMORY", 10)  # exercise the spill file
    a, b = tmp_path / "a.sarif", tmp_path / "b.sarif"
    a.write_text(json.dumps(_sarif(_results(45), tool_first=True)))
    b.write_text(json.dumps(_sarif(_results(45), tool_first=False)))
    da, db = ingest([a], tmp_path), ingest([b], tmp_path)
    assert da.findings == db.findings and len(da.findings) == 45
    f0, f1, f2 = da.findings[:3]
    assert (f0["location"]["path"], f1["location"]["path"], f2["location"]["path"]) == (
        "src/a.py", "src/f1.py", "src/m2.py")
    assert f0["rule_id"] == "R1" and f0["title"] == "Rule one" and f0["severity"] == "high"
    assert f0["cwe"] == ["CWE-79"] and f0["tool"] == "Scanner"


def test_sarif_rule_lookup_by_extension_and_id(tmp_path: Path) -> None:
    doc = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "CodeQL", "rules": []},
                 "extensions": [{"name": "pack", "rules": [
                     {"id": "js/xss", "shortDescription": {"text": "XSS"},
                      "properties": {"security-severity": "6.1"}}]}]},
        "results": [
            {"rule": {"id": "js/xss", "index": 0, "toolComponent": {"index": 0}}, "message": {"text": "a"}},
            {"ruleId": "js/xss", "level": "note", "message": {"text": "b"}},
            {"ruleId": "js/xss", "message": {"text": "c"}, "kind": "pass"},
            {"ruleId": "other", "message": {"text": "d"}, "properties": {"tags": ["HIGH"]},
             "suppressions": [{"kind": "inSource"}]},
            {"ruleId": "other2", "message": {"text": "e"}, "suppressions": [{"kind": "external", "status": "rejected"}]},
        ]}]}
    p = tmp_path / "x.sarif"
    p.write_text(json.dumps(doc))
    out = ingest([p], tmp_path)
    got = [(f["rule_id"], f["title"], f["severity"], f.get("suppressed", False)) for f in out.findings]
    assert got == [("js/xss", "XSS", "medium", False), ("js/xss", "XSS", "medium", False),
                   ("other", "d", "high", True), ("other2", "e", "medium", False)]
    assert out.doc["data"]["summary"]["suppressed"] == 1


def test_computed_fingerprint_distinguishes_repeats_and_ignores_indentation(tmp_path: Path) -> None:
    res = lambda line, text: {"ruleId": "R", "message": {"text": "m"}, "locations": [{"physicalLocation": {  # noqa: E731
        "artifactLocation": {"uri": "a.py"}, "region": {"startLine": line, "snippet": {"text": text}}}}]}
    doc = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}},
                                         "results": [res(3, "eval(x)"), res(9, "eval(x)"), res(12, "exec(y)")]}]}
    moved = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "T"}},
                                           "results": [res(30, "    eval( x)".replace("( ", "(")),
                                                       res(90, "\teval(x)\n"), res(120, "exec(y)")]}]}
    a, b = tmp_path / "a.sarif", tmp_path / "b.sarif"
    a.write_text(json.dumps(doc))
    b.write_text(json.dumps(moved))
    fa, fb = ingest([a], tmp_path).fingerprints(), ingest([b], tmp_path).fingerprints()
    assert fa == fb and len(set(fa)) == 3


def test_source_root_is_never_escaped(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "secret.js").write_text("var s = 1;\n")
    parser = SarifParser(source_root=root)
    assert parser.line_hash("../secret.js", 1) is None
    assert parser.line_hash(str(tmp_path / "secret.js"), 1) is None
    assert parser.line_hash("file:///etc/passwd", 1) is None
    (root / "ok.js").write_text("var s = 1;\n")
    assert parser.line_hash("ok.js", 1) is not None


def test_truncated_and_garbage_sarif_are_problems(tmp_path: Path) -> None:
    good = json.dumps(_sarif(_results(5)))
    t = tmp_path / "t.sarif"
    t.write_text(good[: len(good) // 2])
    g = tmp_path / "g.sarif"
    g.write_bytes(b'{"version": "2.1.0", "runs": [' + bytes(range(256)) * 4)
    for path in (t, g):
        out = ingest([path], tmp_path, parser=SarifParser)
        assert len(out.problems) == 1 and out.findings == []


# -- our samples -------------------------------------------------------------------------------

def test_grype_sample(tmp_path: Path) -> None:
    out = ingest([SAMPLES / "grype-image.json"], tmp_path, parser=GrypeParser)
    got = [(f["rule_id"], f["package"]["name"], f["package"]["installed_version"], f["severity"],
            f.get("suppressed", False)) for f in out.findings]
    assert got == [("CVE-2023-0001", "libexample3", "3.0.8-1", "critical", False),
                   ("GHSA-xxxx-2222-3333", "examplehttp", "1.2.0", "medium", False),
                   ("CVE-2022-9999", "coreutils", "9.1-1", "info", False),
                   ("CVE-2021-5555", "tar", "1.34-1", "high", True)]
    assert out.findings[1]["ids"] == ["CVE-2024-1234"] or "CVE-2024-1234" in out.findings[1]["ids"]
    assert out.findings[0]["package"]["fixed_version"] == "3.0.9-1"
    assert out.doc["data"]["tools"] == [{"name": "grype", "version": "0.74.0"}]
    assert out.doc["data"]["summary"]["suppressed"] == 1


def test_semgrep_sample(tmp_path: Path) -> None:
    out = ingest([SAMPLES / "semgrep.json"], tmp_path, parser=SemgrepParser)
    got = [(f["severity"], f["tool_severity"], f["fingerprint_source"], f.get("suppressed", False))
           for f in out.findings]
    assert got == [("high", "impact HIGH", "computed", False), ("high", "ERROR", "tool-id", False),
                   ("low", "INFO", "computed", True)]
    assert out.findings[0]["cwe"] == ["CWE-95"] and out.findings[0]["location"]["start_line"] == 42


def test_pip_audit_both_shapes(tmp_path: Path) -> None:
    v2 = ingest([SAMPLES / "pip-audit-v2.json"], tmp_path, parser=PipAuditParser)
    v1 = ingest([SAMPLES / "pip-audit-v1.json"], tmp_path, parser=PipAuditParser)
    assert [f["rule_id"] for f in v2.findings] == ["PYSEC-2019-179", "PYSEC-2018-66"]
    assert v1.fingerprints() == v2.fingerprints()  # same advisory, package, version
    assert {f["severity"] for f in v2.findings} == {"medium"}
    assert "CVE-2019-1010083" in v2.findings[0]["ids"] and "GHSA-5wv5-4vpf-pj6m" in v2.findings[0]["ids"]


def test_bandit_flagged_code_drops_context_and_numbers() -> None:
    code = "20 except ImportError:\n21     from xml.etree import ElementTree as etree\n22 \n"
    assert flagged_code(code, [21]) == "    from xml.etree import ElementTree as etree"


# -- memory ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_20000_result_sarif_ingests_in_bounded_memory(tmp_path: Path) -> None:
    """The whole ingest of a 50 MB, 20,000-result SARIF stays under 64 MB peak RSS (fresh process)."""
    import os
    import subprocess
    import sys

    from sec_support import REPO
    gen = REPO / ".." / "shared" / "bench" / "gen_sarif.py"
    sarif = tmp_path / "big.sarif"
    subprocess.run([sys.executable, str(gen), str(sarif), "--results", "20000"], check=True,
                   stdout=subprocess.DEVNULL)
    code = (
        "import sys, json\n"
        "from pathlib import Path\n"
        "from aqe_ci.ingest.base import Limits, SourceInfo\n"
        "from aqe_ci.ingest.security.writer import SecurityWriter\n"
        "from aqe_ci.ingest.security.sarif import SarifParser\n"
        "p = Path(sys.argv[1]); w = SecurityWriter(workdir=p.parent, limits=Limits())\n"
        "s = SourceInfo(file=str(p), format='sarif', bytes=p.stat().st_size)\n"
        "w.begin_source(s); SarifParser().parse(p, w, s); w.commit_source()\n"
        "d = w.finish(timestamp='2024-01-01T00:00:00Z'); print(d.summary['total']); d.cleanup()\n")
    # the child reports its own VmHWM: wait4's ru_maxrss would include this (large) pytest process,
    # which Linux carries over fork+exec into the child's maximum
    code += ("print([ln.split()[1] for ln in open('/proc/self/status') if ln.startswith('VmHWM:')][0])\n")
    proc = subprocess.run([sys.executable, "-c", code, str(sarif)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == 0, proc.stderr
    total, peak_kb = proc.stdout.split()
    assert total == "20000"
    assert int(peak_kb) * 1024 < 64 * 1024 * 1024


def test_json_lines_detected_when_the_first_line_is_longer_than_the_head(tmp_path: Path) -> None:
    from aqe_ci.ingest.base import HEAD_BYTES
    from aqe_ci.ingest.security.npm_audit import YarnBerryAuditParser, YarnClassicAuditParser

    paths = ["a>" * 40000 + "qs"]
    advisory = {"findings": [{"version": "6.10.2", "paths": paths}], "module_name": "qs", "severity": "high",
                "github_advisory_id": "GHSA-hrpp-h998-j3pp", "id": 1, "title": "t", "url": "u"}
    yarn1 = json.dumps({"type": "auditAdvisory", "data": {"resolution": {"id": 1, "path": paths[0]},
                                                           "advisory": advisory}}, separators=(",", ":"))
    berry = json.dumps({"value": "qs", "children": {"ID": 1, "Issue": "t", "Severity": "high",
                                                    "Tree Versions": ["6.10.2"], "Dependents": paths * 1}})
    assert len(yarn1) > HEAD_BYTES and len(berry) > HEAD_BYTES
    y, b = tmp_path / "y.jsonl", tmp_path / "b.jsonl"
    y.write_text(yarn1 + "\n")
    b.write_text(berry + "\n")
    assert YarnClassicAuditParser.detect(y.read_bytes()[:HEAD_BYTES])
    assert not YarnBerryAuditParser.detect(y.read_bytes()[:HEAD_BYTES])
    assert YarnBerryAuditParser.detect(b.read_bytes()[:HEAD_BYTES])
    assert not YarnClassicAuditParser.detect(b.read_bytes()[:HEAD_BYTES])
    out = ingest([y], tmp_path, parser=YarnClassicAuditParser)
    assert [(f["rule_id"], f["package"]["installed_version"]) for f in out.findings] == [
        ("GHSA-hrpp-h998-j3pp", "6.10.2")]


def test_sarif_version_is_read_at_the_top_level_only(tmp_path: Path) -> None:
    doc = {"runs": [{"tool": {"driver": {"name": "x", "version": "1.0.0"}},
                     "results": [{"ruleId": "R", "message": {"text": "m"}}]}],
           "version": "2.1.0"}
    p = tmp_path / "late-version.sarif"
    p.write_text(json.dumps(doc))
    out = ingest([p], tmp_path)
    assert out.problems == [] and len(out.findings) == 1
    doc["version"] = "2.2"
    p.write_text(json.dumps(doc))
    assert ingest([p], tmp_path).problems[0][1] == "SARIF version 2.2 is not supported (only 2.1.0)"
