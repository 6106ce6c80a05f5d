"""Golden comparisons on real report pairs from ../shared/corpus, ingested by the real parsers.

The expected deltas are computed here, independently of the code under test: the Cobertura files
are read with the standard library's ElementTree and the coverage.py JSON with ``json``.
"""

from __future__ import annotations

import json
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from compare_builders import CORPUS, compare_runs

from aqe_ci.ingest.driver import ingest_files
from aqe_ci.model.run import RunFacts
from aqe_ci.storage.store import Store

PYC = CORPUS / "pycobertura" / "tests"
COVPY = CORPUS / "_generated-real-tools" / "coveragepy"

PAIRS = [
    (PYC / "dummy.original.xml", PYC / "dummy.original-full-cov.xml"),
    (PYC / "dummy.original.xml", PYC / "dummy.original-better-cov.xml"),
    (PYC / "dummy.original.xml", PYC / "dummy.with-dummy2-no-cov.xml"),
    (PYC / "dummy.original.xml", PYC / "dummy.with-dummy2-full-cov.xml"),
    (PYC / "dummy.original.xml", PYC / "dummy.with-dummy2-better-cov.xml"),
    (PYC / "dummy.with-dummy2-no-cov.xml", PYC / "dummy.with-dummy2-better-and-worse.xml"),
    (PYC / "dummy.with-dummy2-full-cov.xml", PYC / "dummy.with-dummy2-better-and-worse.xml"),
    (PYC / "dummy.source1" / "coverage.xml", PYC / "dummy.source2" / "coverage.xml"),
    (PYC / "dummy.uncovered" / "coverage.xml", PYC / "dummy.uncovered.addcode" / "coverage.xml"),
    (PYC / "dummy.zeroexit1" / "coverage.xml", PYC / "dummy.zeroexit2" / "coverage.xml"),
    (PYC / "dummy.linestatus" / "test1.xml", PYC / "dummy.linestatus" / "test2.xml"),
    (PYC / "dummy.diffcoverage" / "old-coverage.xml", PYC / "dummy.diffcoverage" / "new-coverage.xml"),
    (COVPY / "run_a.cobertura.xml", COVPY / "run_b.cobertura.xml"),
    (COVPY / "run_b.cobertura.xml", COVPY / "run_a.cobertura.xml"),
]


def cobertura_lines(path: Path) -> dict[str, dict[int, int]]:
    """filename → {line: hits} straight from the XML (a file in several classes: max hits per line)."""
    files: dict[str, dict[int, int]] = {}
    for cls in ET.parse(path).getroot().iter("class"):
        hits = files.setdefault(cls.get("filename", "").replace("\\", "/"), {})
        for line in cls.iter("line"):
            n, h = int(line.get("number")), int(line.get("hits"))
            hits[n] = max(h, hits.get(n, 0))
    return files


def coveragepy_lines(path: Path) -> dict[str, dict[int, int]]:
    data = json.loads(path.read_text())
    return {name: {**dict.fromkeys(f["executed_lines"], 1), **dict.fromkeys(f["missing_lines"], 0)}
            for name, f in data["files"].items()}


def expected(before: dict[str, dict[int, int]], after: dict[str, dict[int, int]]) -> dict[str, Any]:
    def rate(files: dict[str, dict[int, int]]) -> float:
        valid = sum(len(h) for h in files.values())
        cov = sum(1 for h in files.values() for v in h.values() if v > 0)
        return 100.0 * cov / valid if valid else 100.0

    changed = {}
    for name in before.keys() & after.keys():
        b, a = before[name], after[name]
        newly = sorted(ln for ln, h in a.items() if h == 0 and b.get(ln, 0) > 0)
        b_num = (len(b), sum(1 for v in b.values() if v))
        a_num = (len(a), sum(1 for v in a.values() if v))
        if b_num != a_num or newly:
            changed[name] = {"newly": newly, "missed_change": (a_num[0] - a_num[1]) - (b_num[0] - b_num[1])}
    return {"before": rate(before), "after": rate(after), "added": sorted(after.keys() - before.keys()),
            "removed": sorted(before.keys() - after.keys()), "changed": changed}


def store_run(store: Store, key: str, reports: list[Path], *, minutes: int = 0, commit: str = "a" * 40,
              branch: str = "main") -> None:
    from datetime import timedelta

    from compare_builders import T0

    with tempfile.TemporaryDirectory() as tmp:
        result = ingest_files(reports, workdir=Path(tmp))
        assert not result.problems, [p.one_line() for p in result.problems]
        for doc_type, doc in result.documents.items():
            store.put(doc_type=doc_type, key=key, payload=doc.path, summary=doc.summary, blobs=doc.blobs,
                      run=RunFacts(commit=commit, branch=branch), created_at=T0 + timedelta(minutes=minutes))


def check_coverage(cov: dict[str, Any], exp: dict[str, Any]) -> None:
    assert cov["before"] == pytest.approx(exp["before"], abs=0.01)
    assert cov["after"] == pytest.approx(exp["after"], abs=0.01)
    assert cov["change"] == pytest.approx(exp["after"] - exp["before"], abs=0.02)
    files = cov["files"]
    assert sorted(r["file"] for r in files["added"]) == exp["added"]
    assert sorted(r["file"] for r in files["removed"]) == exp["removed"]
    got = {r["file"]: r for r in files["changed"]}
    assert set(got) == set(exp["changed"])
    for name, e in exp["changed"].items():
        assert got[name]["newly_uncovered"] == e["newly"], name
        assert got[name]["lines_missed"]["change"] == e["missed_change"], name
    impact = [abs(r["lines_missed"]["change"]) for r in files["changed"]]
    assert impact == sorted(impact, reverse=True)
    assert cov["newly_uncovered_lines"] == sum(len(e["newly"]) for e in exp["changed"].values())


@pytest.mark.parametrize("before, after", PAIRS, ids=[f"{a.parent.name}/{a.name}->{b.parent.name}/{b.name}"
                                                       for a, b in PAIRS])
def test_cobertura_pairs(store: Store, before: Path, after: Path) -> None:
    store_run(store, "base", [before])
    store_run(store, "head", [after], minutes=1, commit="b" * 40, branch="feature")
    cov = compare_runs(store, "head", base_key="base")["comparison"]["coverage"]
    check_coverage(cov, expected(cobertura_lines(before), cobertura_lines(after)))


def test_coveragepy_runs_agree_across_formats(store: Store) -> None:
    """coverage.py's a/b runs as JSON give the deltas computed from the JSON (25% → 33% lines)."""
    store_run(store, "json-a", [COVPY / "run_a.coverage.json"])
    store_run(store, "json-b", [COVPY / "run_b.coverage.json"], minutes=1, commit="b" * 40)
    cov = compare_runs(store, "json-b", base_key="json-a")["comparison"]["coverage"]
    exp = expected(coveragepy_lines(COVPY / "run_a.coverage.json"), coveragepy_lines(COVPY / "run_b.coverage.json"))
    check_coverage(cov, exp)
    assert exp["after"] - exp["before"] > 5  # the pair is a real improvement
    # coverage.py's own totals in the JSON agree with what we computed
    totals = [json.loads((COVPY / f"run_{r}.coverage.json").read_text())["totals"] for r in "ab"]
    assert cov["lines_valid"]["before"] == totals[0]["num_statements"]
    assert cov["lines_covered"]["after"] == totals[1]["covered_lines"]


PLAYWRIGHT = CORPUS / "_generated-real-tools" / "js-test-runners" / "playwright-report.json"


def playwright_expected() -> dict[str, Any]:
    """Walk the report with ``json``: (project, title path) → Playwright's own verdict."""
    out: dict[tuple[str, str], str] = {}

    def walk(suite: dict[str, Any], titles: list[str]) -> None:
        for spec in suite.get("specs", []):
            for t in spec["tests"]:
                out[(t["projectName"], " › ".join([*titles, spec["title"]]))] = t["status"]
        for child in suite.get("suites", []):
            walk(child, [*titles, child["title"]])

    report = json.loads(PLAYWRIGHT.read_text())
    for s in report["suites"]:
        walk(s, [])
    return {"verdicts": out, "stats": report["stats"]}


def test_playwright_run_with_a_flaky_test(store: Store) -> None:
    """The real Playwright run (2 projects, retries=1): one test failed then passed on retry."""
    exp = playwright_expected()
    v = exp["verdicts"]
    flaky = sorted(name for (_p, name), st in v.items() if st == "flaky")
    failing = sorted(name for (_p, name), st in v.items() if st == "unexpected")
    assert len(flaky) == 2 and len(failing) == 2  # the report is what we think it is
    store_run(store, "pw-base", [PLAYWRIGHT])
    store_run(store, "pw-head", [PLAYWRIGHT], minutes=1, commit="b" * 40, branch="feature")
    t = compare_runs(store, "pw-head", base_key="pw-base")["comparison"]["tests"]
    stats = exp["stats"]
    assert t["after"] == len(v) == stats["expected"] + stats["unexpected"] + stats["flaky"] + stats["skipped"]
    assert t["flaky"]["after"] == stats["flaky"] and t["skipped"]["after"] == stats["skipped"]
    assert t["failed"]["after"] + t["errors"]["after"] == stats["unexpected"]
    assert sorted(x["name"] for x in t["flaky_tests"]) == flaky
    assert all("retries" in x["reason"] for x in t["flaky_tests"])
    assert sorted(x["name"] for x in t["still_failing"]) == failing
    assert t["new_failures"] == [] and t["fixed"] == [] and t["added"] == [] and t["removed"] == []
    # head alone (no baseline): the flaky test is still flagged, the failures are all "new"
    alone = compare_runs(store, "pw-head", types=["test_results"])["comparison"]
    assert alone["baseline"]["method"] == "none"
    assert sorted(x["name"] for x in alone["tests"]["flaky_tests"]) == flaky
    assert sorted(x["name"] for x in alone["tests"]["new_failures"]) == failing
