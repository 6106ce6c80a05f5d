"""Golden tests of the coverage parsers over ../shared/corpus (read in place).

Every coverage input becomes a schema-valid document or a clear one-line problem; figures agree with
the expected results that sit beside the inputs (istanbuljs summaries, coverage.py's own totals,
producers' own rates, JaCoCo counters) and across formats of the same run.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from aqe_ci.ingest import registry
from aqe_ci.ingest.base import ReportError, SourceInfo, read_head
from aqe_ci.ingest.coverage.writer import CoverageWriter
from aqe_ci.model.limits import Limits
from aqe_ci.model.linehits import decode_branch_hits, decode_line_hits
from aqe_ci.model.schema import validate_document
from tests.ingest.cobertura_accel import cobertura_path  # noqa: F401  (fixture, used by pytestmark)

#: every test here runs on the C accelerator and on the pure-Python reference path
pytestmark = pytest.mark.usefixtures("cobertura_path")

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
assert (CORPUS / "INVENTORY.json").is_file(), f"the report corpus is expected at {CORPUS}"
INVENTORY = json.loads((CORPUS / "INVENTORY.json").read_text())

#: INVENTORY format → our parser format
FORMATS = {
    "cobertura-xml": "cobertura",
    "cobertura-xml(malformed:two-roots)": "cobertura",
    "lcov": "lcov",
    "jacoco-xml": "jacoco",
    "coveragepy-json": "coveragepy-json",
    "istanbul-coverage-final-json": "istanbul",
    "istanbul-json-summary": "istanbul-summary",
    "go-coverprofile": "go-coverprofile",
}
COVERAGE_PARSERS = {"cobertura", "lcov", "jacoco", "coveragepy-json", "istanbul", "istanbul-summary",
                    "go-coverprofile"}

#: inputs that must fail, with the reason they fail (each checked, so a regression either way shows)
KNOWN_PROBLEMS = {
    "orgoro-coverage/coverage.xml": "Extra content at the end of the document",  # two roots
    "orgoro-coverage/coverage-v2.xml": "Extra content at the end of the document",
    "coverage-reporter/spec/fixtures/cobertura/cobertura.xml": "tag mismatch",  # truly malformed
    "coverage-reporter/spec/fixtures/cobertura/cobertura-oneline.xml": "tag mismatch",
    "istanbuljs/_derived/missing-decl/generated-by-istanbul-reports/cobertura-coverage.xml": "Premature end",
    "istanbuljs/_derived/missing-decl/expected-lcovonly.info": "SF record without a path",
    # single FileCoverage objects without "path": nothing names their file
    "istanbuljs/packages/istanbul-reports/test/fixtures/github-322.json": "without a \"path\"",
    "istanbuljs/packages/istanbul-reports/test/fixtures/github-80a.json": "without a \"path\"",
    "istanbuljs/packages/istanbul-reports/test/fixtures/github-80b.json": "without a \"path\"",
    "istanbuljs/packages/istanbul-reports/test/fixtures/github-80c.json": "without a \"path\"",
}
#: not detected by content on purpose (the malformed two-root files do not start with <coverage>)
NOT_DETECTED = {"orgoro-coverage/coverage.xml", "orgoro-coverage/coverage-v2.xml"}

def coverage_entries() -> list[dict[str, Any]]:
    return [e for e in INVENTORY if e["format"] in FORMATS]


def ingest(paths: list[Path], fmt: str | None, tmp_path: Path) -> tuple[dict[str, Any] | None, list[str]]:
    """Parse ``paths`` into one coverage document (the driver's bracketing, done by hand here)."""
    writer = CoverageWriter(workdir=tmp_path / "work", limits=Limits())
    problems: list[str] = []
    for p in paths:
        name = fmt
        if name is None:
            found = registry.detect(read_head(p))
            assert found, f"{p}: not detected"
            name = found[0].format
        src = SourceInfo(file=str(p), format=name, bytes=p.stat().st_size)
        writer.begin_source(src)
        try:
            registry.by_format(name)().parse(p, writer, src)
        except ReportError as exc:
            writer.rollback_source()
            problems.append(str(exc))
            continue
        writer.commit_source()
    written = writer.finish(timestamp="2026-01-01T00:00:00Z")
    doc = json.loads(written.path.read_text(encoding="utf-8"))
    written.cleanup()
    return doc, problems


def one(path: Path, fmt: str, tmp_path: Path) -> dict[str, Any]:
    doc, problems = ingest([path], fmt, tmp_path)
    assert not problems, problems
    assert doc is not None
    return doc["data"]


# ---------------------------------------------------------------------------------------- all inputs


@pytest.mark.parametrize("entry", coverage_entries(), ids=lambda e: e["path"])
def test_every_coverage_input_is_a_valid_document_or_a_clear_problem(entry: dict[str, Any], tmp_path: Path) -> None:
    path = CORPUS / entry["path"]
    fmt = FORMATS[entry["format"]]
    detected = [c.format for c in registry.detect(read_head(path)) if c.format in COVERAGE_PARSERS]
    if entry["path"] in NOT_DETECTED:
        assert detected == []
    else:
        assert detected == [fmt]
    doc, problems = ingest([path], fmt, tmp_path)
    expected_problem = KNOWN_PROBLEMS.get(entry["path"])
    if expected_problem:
        assert len(problems) == 1 and expected_problem in problems[0], problems
        assert "\n" not in problems[0]
        assert doc is not None and doc["data"]["files"] == {}  # nothing of the bad file was kept
        return
    assert problems == []
    assert validate_document(doc, source=entry["path"]) == "coverage"
    data = doc["data"]
    assert data["lines_valid"] == sum(f["lines_valid"] for f in data["files"].values())
    assert data["lines_covered"] == sum(f["lines_covered"] for f in data["files"].values())
    for f in data["files"].values():  # per-line data agrees with the per-file counts
        if "line_hits" in f:
            hits = decode_line_hits(f["line_hits"])
            assert len(hits) == f["lines_valid"]
            assert sum(1 for h in hits.values() if h) == f["lines_covered"]
        if "branch_hits" in f:
            br = decode_branch_hits(f["branch_hits"])
            assert sum(v for _, v in br.values()) == f["branches_valid"]
            assert sum(c for c, _ in br.values()) == f["branches_covered"]
    assert data["sources"][0]["format"] == fmt


def test_coverage_detectors_claim_no_other_format(tmp_path: Path) -> None:
    """Every coverage detector rejects every other corpus file (Clover, JUnit, SARIF, text reports...)."""
    wrong = []
    for entry in INVENTORY:
        path = CORPUS / entry["path"]
        if not path.is_file() or path.stat().st_size == 0:
            continue
        claimed = {c.format for c in registry.detect(read_head(path))} & COVERAGE_PARSERS
        expected = set() if entry["path"] in NOT_DETECTED else {FORMATS[entry["format"]]} \
            if entry["format"] in FORMATS else set()
        if claimed != expected:
            wrong.append((entry["path"], entry["format"], sorted(claimed)))
    assert wrong == []
    clover = [e for e in INVENTORY if e["format"] == "clover-xml"]
    assert len(clover) >= 2  # Clover shares the <coverage> root with Cobertura and must stay apart


# ---------------------------------------------------------------------------------------- istanbuljs

DERIVED = CORPUS / "istanbuljs" / "_derived"
SPECS = sorted(p.name for p in DERIVED.iterdir()) if DERIVED.is_dir() else []


def _istanbul_pct(covered: int, total: int) -> float:
    return 100.0 if total == 0 else math.floor(covered * 10000 / total) / 100


@pytest.mark.parametrize("spec", SPECS)
def test_istanbul_figures_match_the_expected_summary_tree(spec: str, tmp_path: Path) -> None:
    """coverage-final.json, and the lcov / cobertura / json-summary istanbul-reports generated from the
    same map, all give the totals of istanbuljs' expected html-spa summary tree (lines, branches,
    functions; statements are not kept, see docs/formats/coverage.md)."""
    expected = json.loads((DERIVED / spec / "expected-html-spa-summary-tree.json").read_text())["metrics"]
    gen = DERIVED / spec / "generated-by-istanbul-reports"
    inputs = {
        "istanbul": DERIVED / spec / "coverage-final.json",
        "lcov": gen / "lcov.info",
        "cobertura": gen / "cobertura-coverage.xml",
        "istanbul-summary": gen / "coverage-summary.json",
    }
    checked = 0
    for fmt, path in inputs.items():
        if str(path.relative_to(CORPUS)) in KNOWN_PROBLEMS:
            continue
        data = one(path, fmt, tmp_path / fmt)
        assert (data["lines_valid"], data["lines_covered"]) == \
            (expected["lines"]["total"], expected["lines"]["covered"]), fmt
        if expected["lines"]["total"]:
            assert _istanbul_pct(data["lines_covered"], data["lines_valid"]) == expected["lines"]["pct"], fmt
        assert (data.get("branches_valid", 0), data.get("branches_covered", 0)) == \
            (expected["branches"]["total"], expected["branches"]["covered"]), fmt
        if expected["branches"]["total"]:
            assert _istanbul_pct(data["branches_covered"], data["branches_valid"]) == expected["branches"]["pct"]
        else:
            assert data["branch_rate"] is None
        # istanbul's cobertura lists the functions as <method hits=...>: the same figures
        assert (data.get("functions_valid", 0), data.get("functions_covered", 0)) == \
            (expected["functions"]["total"], expected["functions"]["covered"]), fmt
        checked += 1
    assert checked >= 3


@pytest.mark.parametrize("spec", [s for s in SPECS if (DERIVED / s / "generated-by-istanbul-reports").is_dir()])
def test_istanbul_final_and_lcov_agree_line_by_line(spec: str, tmp_path: Path) -> None:
    final = one(DERIVED / spec / "coverage-final.json", "istanbul", tmp_path / "a")["files"]
    lcov = one(DERIVED / spec / "generated-by-istanbul-reports" / "lcov.info", "lcov", tmp_path / "b")["files"]
    assert len(final) == len(lcov)
    # lcov.info names files relative to the project root: compare by the path's tail
    by_tail = {k.rsplit("/", 1)[-1]: v for k, v in lcov.items()}
    for name, f in final.items():
        other = by_tail[name.rsplit("/", 1)[-1]]
        assert f.get("line_hits", "") == other.get("line_hits", "")
        assert f.get("branch_hits", "") == other.get("branch_hits", "")


# ---------------------------------------------------------------------------------------- coverage.py

COVPY = CORPUS / "_generated-real-tools" / "coveragepy"


@pytest.mark.parametrize("run", ["run_a", "run_b"])
def test_coveragepy_json_lcov_and_cobertura_of_one_run_agree(run: str, tmp_path: Path) -> None:
    raw = json.loads((COVPY / f"{run}.coverage.json").read_text())
    docs = {
        "coveragepy-json": one(COVPY / f"{run}.coverage.json", "coveragepy-json", tmp_path / "j"),
        "lcov": one(COVPY / f"{run}.lcov.info", "lcov", tmp_path / "l"),
        "cobertura": one(COVPY / f"{run}.cobertura.xml", "cobertura", tmp_path / "c"),
    }
    # coverage.py's own totals, read straight from the input JSON
    totals = raw["totals"]
    for fmt, data in docs.items():
        assert data["lines_valid"] == totals["num_statements"], fmt
        assert data["lines_covered"] == totals["covered_lines"], fmt
        assert data["line_rate"] == pytest.approx(totals["percent_statements_covered"]), fmt
        assert data["branches_valid"] == totals["num_branches"], fmt
        assert data["branches_covered"] == totals["covered_branches"], fmt
        assert set(data["files"]) == set(raw["files"]), fmt
    # per file: the same lines, the same covered lines, the same branches, in every format
    for name, f in raw["files"].items():
        summary = f["summary"]
        per_format = {fmt: data["files"][name] for fmt, data in docs.items()}
        for fmt, entry in per_format.items():
            assert (entry["lines_valid"], entry["lines_covered"]) == \
                (summary["num_statements"], summary["covered_lines"]), (fmt, name)
        assert len({e["line_hits"] for e in per_format.values()}) == 1, name
        assert len({e.get("branch_hits", "") for e in per_format.values()}) == 1, name
    # the producer's own rate is kept as the cross-check only
    src = docs["cobertura"]["sources"][0]
    root = re.search(rb'line-rate="([0-9.]+)"', (COVPY / f"{run}.cobertura.xml").read_bytes()[:2000])
    assert root is not None
    assert src["reported_line_rate"] == pytest.approx(float(root.group(1)) * 100)
    assert abs(src["reported_line_rate"] - docs["cobertura"]["line_rate"]) < 0.05
    assert docs["coveragepy-json"]["sources"][0]["producer"].startswith("coverage.py ")


def test_sharded_coveragepy_runs_merge_taking_the_union_of_covered_lines(tmp_path: Path) -> None:
    a = json.loads((COVPY / "run_a.coverage.json").read_text())["files"]
    b = json.loads((COVPY / "run_b.coverage.json").read_text())["files"]
    doc, problems = ingest([COVPY / "run_a.lcov.info", COVPY / "run_b.cobertura.xml"], None, tmp_path)
    assert problems == [] and doc is not None
    data = doc["data"]
    expected_covered = sum(len(set(a[n]["executed_lines"]) | set(b[n]["executed_lines"])) for n in a)
    assert data["lines_covered"] == expected_covered
    assert data["lines_valid"] == sum(f["summary"]["num_statements"] for f in a.values())
    assert [s["format"] for s in data["sources"]] == ["lcov", "cobertura"]


# ---------------------------------------------------------------------------------------- producers' own figures


def _cobertura_inputs() -> list[str]:
    return [e["path"] for e in INVENTORY if e["format"] == "cobertura-xml" and e["path"] not in KNOWN_PROBLEMS]


@pytest.mark.parametrize("rel", _cobertura_inputs())
def test_cobertura_reported_rate_is_recorded_next_to_ours(rel: str, tmp_path: Path) -> None:
    path = CORPUS / rel
    data = one(path, "cobertura", tmp_path)
    root = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)).getroot()
    reported = root.get("line-rate")
    src = data["sources"][0]
    try:
        value = float(reported) * 100 if reported is not None else math.nan
    except ValueError:
        value = math.nan
    if value != value or not 0 <= value <= 100:
        assert "reported_line_rate" not in src
        return
    assert src["reported_line_rate"] == pytest.approx(value)
    # where the producer also states lines-valid/-covered, our counts are the same lines
    lv, lc = root.get("lines-valid"), root.get("lines-covered")
    if lv and lc and lv.isdigit() and lc.isdigit() and int(lv) == data["lines_valid"]:
        assert data["lines_covered"] == int(lc)


def _jacoco_inputs() -> list[str]:
    return [e["path"] for e in INVENTORY if e["format"] == "jacoco-xml"]


@pytest.mark.parametrize("rel", _jacoco_inputs())
def test_jacoco_lines_match_its_own_counters(rel: str, tmp_path: Path) -> None:
    path = CORPUS / rel
    data = one(path, "jacoco", tmp_path)
    root = etree.parse(str(path), etree.XMLParser(load_dtd=False, no_network=True, resolve_entities=False)).getroot()
    for pkg in root.iter("package"):
        for sf in pkg.iterfind("sourcefile"):
            key = f"{pkg.get('name')}/{sf.get('name')}" if pkg.get("name") else sf.get("name")
            counters = {c.get("type"): (int(c.get("missed")), int(c.get("covered"))) for c in sf.iterfind("counter")}
            if "LINE" in counters and len(list(sf.iterfind("line"))) and key in data["files"]:
                missed, covered = counters["LINE"]
                f = data["files"][key]
                assert (f["lines_valid"], f["lines_covered"]) == (missed + covered, covered), key
                if "BRANCH" in counters:
                    bm, bc = counters["BRANCH"]
                    assert (f["branches_valid"], f["branches_covered"]) == (bm + bc, bc), key
    line = [c for c in root.iterfind("counter") if c.get("type") == "LINE"]
    if line and int(line[0].get("missed")) + int(line[0].get("covered")):
        m, c = int(line[0].get("missed")), int(line[0].get("covered"))
        assert data["sources"][0]["reported_line_rate"] == pytest.approx(c * 100 / (m + c))
        if data["lines_valid"] == m + c:
            assert data["lines_covered"] == c


# ---------------------------------------------------------------------------------------- through the driver


def test_driver_merges_formats_and_skips_a_bad_file_entirely(tmp_path: Path) -> None:
    from aqe_ci.ingest.driver import ingest_files

    bad = tmp_path / "broken.lcov"
    good_part = (COVPY / "run_a.lcov.info").read_text().split("end_of_record")[0]
    bad.write_text(good_part + "end_of_record\nSF:half.py\nDA:1,1\n")  # second section never ends
    result = ingest_files([COVPY / "run_a.lcov.info", bad, COVPY / "run_b.coverage.json"],
                          workdir=tmp_path / "work", timestamp="2026-01-01T00:00:00Z")
    try:
        assert [(p.file, p.format) for p in result.problems] == [(str(bad), "lcov")]
        assert "truncated" in result.problems[0].reason and result.problems[0].line
        doc = json.loads(result.documents["coverage"].path.read_text())
        validate_document(doc)
        data = doc["data"]
        assert "half.py" not in data["files"]
        assert [s["format"] for s in data["sources"]] == ["lcov", "coveragepy-json"]
        assert all(len(s["sha256"]) == 64 for s in data["sources"])
        summary = result.documents["coverage"].summary
        assert summary["files"] == len(data["files"]) and summary["lines_valid"] == data["lines_valid"]
    finally:
        result.cleanup()
