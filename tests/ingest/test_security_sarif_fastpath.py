"""The SARIF fast path and the batched writer produce exactly what the general path produces.

``_Run._fast_finding`` builds the finding of a common-shape result directly; the general path
(``_extract`` + ``_emit``) stays for everything else. Both must give byte-identical documents:
checked on every SARIF file of the corpus, on a CodeQL-like file from the bench generator and on
hand-made edge cases at the border of the fast path.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sec_support import CORPUS, inventory, sarif_document

from aqe_ci.ingest.base import ReportError, SourceInfo
from aqe_ci.ingest.security import sarif as sarif_mod
from aqe_ci.ingest.security.sarif import SarifParser
from aqe_ci.ingest.security.writer import SecurityWriter
from aqe_ci.model.limits import Limits

GEN_SARIF = CORPUS / ".." / "bench" / "gen_sarif.py"


def _document(path: Path, workdir: Path, *, fast: bool) -> bytes | str:
    """The serialised document (bytes), or the error text when the file is refused."""
    parser = SarifParser()
    parser.fast_path = fast
    return sarif_document(path, workdir, parser)


@pytest.fixture(params=["jsonschema-rs", "fastjsonschema"])
def schema_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Both validation backends: jsonschema-rs per finding, fastjsonschema per batch."""
    from aqe_ci.ingest.security import writer as security_writer
    from aqe_ci.model import schema as itemschema

    def clear() -> None:
        for fn in (itemschema.backend, itemschema.item_validator, security_writer.finding_validator,
                   security_writer.envelope_validator):
            fn.cache_clear()

    monkeypatch.setenv(itemschema.BACKEND_ENV, request.param)
    clear()
    assert itemschema.backend() == request.param
    yield request.param
    monkeypatch.delenv(itemschema.BACKEND_ENV)
    clear()


@pytest.fixture
def fast_hits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the results the fast path turned into findings."""
    hits = [0]
    original = sarif_mod._Run._fast_finding

    def counting(self: Any, result: dict[str, Any]) -> bool:
        taken = original(self, result)
        hits[0] += taken
        return taken

    monkeypatch.setattr(sarif_mod._Run, "_fast_finding", counting)
    return hits


def test_corpus_sarif_documents_are_identical_with_and_without_the_fast_path(
        tmp_path: Path, fast_hits: list[int]) -> None:
    files = [CORPUS / e["path"] for e in inventory() if e["format"] == "sarif"]
    assert len(files) > 400
    documents = 0
    for path in files:
        general = _document(path, tmp_path, fast=False)
        fast = _document(path, tmp_path, fast=True)
        assert fast == general, path
        documents += isinstance(fast, bytes)
    assert documents > 300
    assert fast_hits[0] >= 10  # some corpus logs have the common shape (the bench log: all)


def test_generated_codeql_like_log_is_identical_and_fully_on_the_fast_path(
        tmp_path: Path, fast_hits: list[int], schema_backend: str) -> None:
    path = tmp_path / "gen.sarif"
    subprocess.run([sys.executable, str(GEN_SARIF), str(path), "--results", "2500"], check=True,
                   stdout=subprocess.DEVNULL)
    general = _document(path, tmp_path, fast=False)
    fast = _document(path, tmp_path, fast=True)
    assert isinstance(fast, bytes) and fast == general
    assert fast_hits[0] == 2500
    doc = json.loads(fast)
    assert len(doc["data"]["vulnerabilities"]) == 2500  # three batches of the writer


def _result(i: int, **changes: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "ruleId": "py/sql", "ruleIndex": 0, "rule": {"id": "py/sql", "index": 0}, "level": "warning",
        "message": {"text": f"finding {i}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"src/a{i}.py", "index": 0},
                                            "region": {"startLine": i + 1, "startColumn": 3}}}],
        "partialFingerprints": {"primaryLocationLineHash": f"{i:016x}:1"},
        "properties": {"tags": ["security"]},
    }
    r.update(changes)
    return {k: v for k, v in r.items() if v is not None}


EDGE_RESULTS = [
    _result(0),
    _result(1, properties={"tags": ["security", 7, {"x": 1}, "external/cwe/cwe-089", "high"]}),
    _result(2, properties={"tags": ["security", "CVE-2024-1234", 1.5]}),
    _result(3, properties={"security-severity": "9.1"}),
    _result(4, kind="pass"),
    _result(5, kind="review", level="none"),
    _result(6, baselineState="absent"),
    _result(7, suppressions=[{"kind": "inSource", "status": "accepted"}]),
    _result(8, message={"text": "see {0} and {1}", "arguments": ["a", "b"]}),
    _result(9, message={"id": "default", "arguments": ["x"]}),
    _result(10, message={"text": "token https://user:secret@example.com/x " + "y" * 5000}),
    _result(11, locations=[{"physicalLocation": {"artifactLocation": {"uri": "file:///builds/app/src/x.py"},
                                                 "region": {"startLine": 4}}}]),
    _result(12, locations=[{"physicalLocation": {"artifactLocation": {"uri": "src/with%20space.py"},
                                                 "region": {"startLine": -1, "endLine": True}}}]),
    _result(13, locations=[{"physicalLocation": {"artifactLocation": {"index": 1}}}]),
    _result(14, locations=[{"message": {"text": "no physical"}}]),
    _result(15, ruleId=None, ruleIndex=None, rule={"id": "py/xss", "index": 1}),
    _result(16, ruleIndex=None, rule={"id": "py/sql", "index": 9, "toolComponent": {"index": 0}}),
    _result(17, partialFingerprints={"primaryLocationLineHash": ""}, fingerprints={"a": "1"}),
    _result(18, partialFingerprints={"other": "x"}),
    _result(19, level="error", ruleId="py/unknown", ruleIndex=5),
    _result(20, level=3, properties={"tags": []}),
    _result(21, message={"markdown": "**md** only"}),
    _result(22, message={"text": "\n  first line\nsecond"}, ruleId="py/untitled", ruleIndex=2),
    _result(23, locations=[{"physicalLocation": {"artifactLocation": {"uri": "src/z.py"},
                                                 "region": {"startLine": 2, "endLine": 1.0,
                                                            "endColumn": -4}}}]),
    _result(0),  # a duplicate fingerprint: de-duplicated the same way
    _result(25, message={"text": 'q"uote \\ é ☃ \ud800 \u2028 \x01 tab\t </script>'},
            locations=[{"physicalLocation": {"artifactLocation": {"uri": "src/ünï/☃.py"},
                                             "region": {"startLine": 7, "endLine": 9, "startColumn": 0}}}]),
    _result(26, ruleId="py/xss", ruleIndex=1, level="note"),
    _result(27, ruleId="py/untitled", ruleIndex=2, message={"text": ""}),
    _result(24, properties="not an object"),
]


def _log(results: list[dict[str, Any]], *, tool_first: bool = True) -> dict[str, Any]:
    tool = {"driver": {"name": "Edge", "version": "1", "rules": [
        {"id": "py/sql", "shortDescription": {"text": "SQL injection"},
         "defaultConfiguration": {"level": "error"}, "properties": {"tags": ["external/cwe/cwe-089"]},
         "helpUri": "https://example.com/sql"},
        {"id": "py/xss", "name": "Xss", "properties": {"security-severity": "6.1"}},
        {"id": "py/untitled", "messageStrings": {"default": {"text": "Default {0}"}}},
    ]}}
    meta: dict[str, Any] = {"artifacts": [{"location": {"uri": "a.py"}}, {"location": {"uri": "b.py"}}],
                            "originalUriBaseIds": {"SRC": {"uri": "file:///builds/app/"}}}
    if tool_first:
        run = {"tool": tool, **meta, "results": results}
    else:
        run = {"results": results, **meta, "tool": tool}
    return {"version": "2.1.0", "runs": [run, {"tool": tool, "results": results[:3]}]}


@pytest.mark.parametrize("tool_first", [True, False])
def test_edge_results_are_identical_with_and_without_the_fast_path(tmp_path: Path, tool_first: bool,
                                                                   fast_hits: list[int]) -> None:
    path = tmp_path / "edge.sarif"
    path.write_text(json.dumps(_log(EDGE_RESULTS, tool_first=tool_first)), encoding="utf-8")
    general = _document(path, tmp_path, fast=False)
    fast = _document(path, tmp_path, fast=True)
    assert isinstance(fast, bytes), fast
    assert fast == general
    # with the tool first, the plain results take the fast path; the odd ones fall back
    # tool and base URIs first: the plain results take the fast path, the odd ones fall back; tool
    # last: the first run's results wait for it (general path), the second run's do not
    assert fast_hits[0] == (14 if tool_first else 2)


def test_a_batch_with_an_invalid_finding_names_it_and_adds_nothing(tmp_path: Path,
                                                                    schema_backend: str) -> None:
    writer = SecurityWriter(workdir=tmp_path, limits=Limits())
    writer.begin_source(SourceInfo(file="x.sarif", format="sarif", bytes=1))
    good = {"fingerprint": "a", "tool": "t", "rule_id": "r1", "severity": "low", "title": "x"}
    bad = {**good, "fingerprint": "b", "rule_id": "r2", "location": {"start_line": -3}}
    with pytest.raises(ReportError, match=r"finding 'r2' does not fit the schema"):
        writer.add_findings([good, bad])
    writer.rollback_source()
    writer.begin_source(SourceInfo(file="y.sarif", format="sarif", bytes=1))
    writer.add_findings([good, {**good, "severity": "high"}, {**good, "fingerprint": "c"}])
    writer.commit_source()
    doc = writer.finish(timestamp="2024-01-01T00:00:00Z")
    try:
        data = json.loads(doc.path.read_text())["data"]
    finally:
        doc.cleanup()
    assert [(f["fingerprint"], f["severity"]) for f in data["vulnerabilities"]] == [("a", "high"), ("c", "low")]
    assert [s["file"] for s in data["sources"]] == ["y.sarif"]
