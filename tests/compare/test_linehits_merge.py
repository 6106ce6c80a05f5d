from __future__ import annotations

import random

from compare_builders import cov_doc, cov_file, finding, results_doc, sec_doc

from aqe_ci.compare.coverage import newly_uncovered
from aqe_ci.model.linehits import decode_branch_hits, decode_line_arrays, decode_line_hits, encode_line_hits
from aqe_ci.model.merge import merge_documents
from aqe_ci.model.schema import validate_document


def test_line_hits_round_trip_and_runs() -> None:
    hits = {1: 0, 2: 0, 3: 0, 5: 2, 6: 2, 9: 1}
    text = encode_line_hits(sorted(hits.items()))
    assert text == "1-3:0,5-6:2,9:1"
    assert decode_line_hits(text) == hits
    lines, h = decode_line_arrays(text)
    assert list(lines) == [1, 2, 3, 5, 6, 9] and list(h) == [0, 0, 0, 2, 2, 1]
    assert decode_line_hits("") == {} and encode_line_hits([]) == ""
    assert decode_branch_hits("3:1/2,9:2/2") == {3: (1, 2), 9: (2, 2)}


def test_newly_uncovered_matches_brute_force_on_random_files() -> None:
    rng = random.Random(3)
    for _ in range(300):
        n = rng.randint(0, 40)
        before = {ln: rng.choice((0, 0, 1, 1, 2)) for ln in sorted(rng.sample(range(1, 60), n))}
        after = {ln: rng.choice((0, 1, 2)) for ln in sorted(rng.sample(range(1, 60), rng.randint(0, 40)))}
        expected = sorted(ln for ln, h in after.items() if h == 0 and before.get(ln, 0) > 0)
        got = newly_uncovered(encode_line_hits(sorted(before.items())), encode_line_hits(sorted(after.items())))
        assert got == expected


def test_merge_tests_concatenates_parts() -> None:
    a = results_doc([{"name": "t1", "status": "passed"}, {"name": "t2", "status": "failed"}])
    b = results_doc([{"name": "t3", "status": "skipped"}, {"name": "t4", "status": "error"}], duration=2.0)
    m = merge_documents("test_results", [a, b])
    validate_document(m)
    d = m["data"]
    assert (d["tests_run"], d["passed"], d["failed"], d["errors"], d["skipped"]) == (4, 1, 1, 1, 1)
    assert [t["name"] for t in d["tests"]] == ["t1", "t2", "t3", "t4"]
    assert [f["name"] for f in d["failures"]] == ["t2", "t4"]
    assert d["duration"] == 3.0


def test_merge_coverage_unites_lines_with_max_hits() -> None:
    a = cov_doc({"x.py": cov_file({1: 1, 2: 0, 3: 0}, {2: (0, 2)}), "only_a.py": cov_file({1: 0})})
    b = cov_doc({"x.py": cov_file({2: 4, 3: 0, 4: 0}, {2: (1, 2)}), "only_b.py": cov_file({1: 3})})
    m = merge_documents("coverage", [a, b])
    validate_document(m)
    d = m["data"]
    x = d["files"]["x.py"]
    assert decode_line_hits(x["line_hits"]) == {1: 1, 2: 4, 3: 0, 4: 0}
    assert (x["lines_valid"], x["lines_covered"], x["line_rate"]) == (4, 2, 50.0)
    assert (x["branches_valid"], x["branches_covered"]) == (2, 1)
    assert set(d["files"]) == {"x.py", "only_a.py", "only_b.py"}
    assert (d["lines_valid"], d["lines_covered"]) == (6, 3)
    assert d["line_rate"] == 50.0


def test_merge_security_dedupes_by_fingerprint() -> None:
    a = sec_doc([finding("f1", "low"), finding("f2", "high"), finding("f9", "info", suppressed=True)])
    b = sec_doc([finding("f1", "medium"), finding("f3", "critical")])
    m = merge_documents("security", [a, b])
    validate_document(m)
    d = m["data"]
    assert sorted(v["fingerprint"] for v in d["vulnerabilities"]) == ["f1", "f2", "f3", "f9"]
    assert {v["fingerprint"]: v["severity"] for v in d["vulnerabilities"]}["f1"] == "medium"
    s = d["summary"]
    assert (s["critical"], s["high"], s["medium"], s["low"], s["total"], s["suppressed"]) == (1, 1, 1, 0, 3, 1)
