"""The comparison engine on hand-written documents stored in a real local store."""

from __future__ import annotations

from typing import Any

from compare_builders import compare_runs, cov_doc, cov_file, finding, put, results_doc, sec_doc

from aqe_ci.storage.store import Store


def names(items: list[dict[str, Any]]) -> list[str]:
    return sorted(i["name"] for i in items)


def test_tests_categories_by_identity(store: Store) -> None:
    before = results_doc([
        {"name": "stays_green", "status": "passed"},
        {"name": "breaks", "status": "passed"},
        {"name": "stays_red", "status": "failed"},
        {"name": "gets_fixed", "status": "error"},
        {"name": "gets_skipped", "status": "passed"},
        {"name": "goes_away", "status": "passed"},
        {"name": "same_name", "status": "passed", "classname": "OtherClass"},
    ], duration=10.0)
    after = results_doc([
        {"name": "stays_green", "status": "passed"},
        {"name": "breaks", "status": "failed", "message": "boom"},
        {"name": "stays_red", "status": "failed"},
        {"name": "gets_fixed", "status": "passed"},
        {"name": "gets_skipped", "status": "skipped"},
        {"name": "brand_new", "status": "passed"},
        {"name": "new_and_red", "status": "error"},
        {"name": "same_name", "status": "passed", "classname": "YetAnotherClass"},
        {"name": "retried", "status": "passed", "retries": [{"status": "failed", "message": "timeout"}]},
        {"name": "marked_flaky", "status": "flaky"},
    ], duration=12.5)
    put(store, "base", before, commit="a" * 40, branch="main")
    put(store, "head", after, minutes=5, commit="b" * 40, branch="feature")
    c = compare_runs(store, "head", base_key="base")["comparison"]
    t = c["tests"]
    assert (t["before"], t["after"], t["change"]) == (7, 10, 3)
    assert t["failed"] == {"before": 1, "after": 2, "change": 1}
    assert t["errors"] == {"before": 1, "after": 1, "change": 0}
    assert t["duration"] == {"before": 10.0, "after": 12.5, "change": 2.5}
    assert names(t["new_failures"]) == ["breaks", "new_and_red"]
    breaks = next(x for x in t["new_failures"] if x["name"] == "breaks")
    assert breaks["message"] == "boom" and breaks["before_status"] == "passed"
    assert breaks["details"] == "Traceback for breaks"
    assert names(t["still_failing"]) == ["stays_red"]
    assert names(t["fixed"]) == ["gets_fixed"]
    assert names(t["added"]) == ["brand_new", "marked_flaky", "new_and_red", "retried", "same_name"]
    assert names(t["removed"]) == ["goes_away", "same_name"]
    assert names(t["newly_skipped"]) == ["gets_skipped"]
    assert names(t["flaky_tests"]) == ["marked_flaky", "retried"]
    assert c["baseline"]["method"] == "explicit" and c["baseline"]["key"] == "base"
    assert c["baseline"]["age_seconds"] == 300


def test_flaky_across_runs_of_the_same_commit(store: Store) -> None:
    sha = "c" * 40
    put(store, "base", results_doc([{"name": "a", "status": "passed"}, {"name": "b", "status": "passed"}]),
        commit="d" * 40, branch="main")
    put(store, "attempt1", results_doc([{"name": "a", "status": "failed"}, {"name": "b", "status": "passed"}]),
        minutes=1, commit=sha, branch="feature")
    put(store, "attempt2", results_doc([{"name": "a", "status": "passed"}, {"name": "b", "status": "passed"}]),
        minutes=2, commit=sha, branch="feature")
    t = compare_runs(store, "attempt2", base_key="base")["comparison"]["tests"]
    assert names(t["flaky_tests"]) == ["a"]
    assert "attempt1" in t["flaky_tests"][0]["reason"] and sha[:12] in t["flaky_tests"][0]["reason"]
    assert t["new_failures"] == []


def test_coverage_deltas_per_file(store: Store) -> None:
    before = cov_doc({
        "same.py": cov_file({1: 1, 2: 1}),
        "worse.py": cov_file({1: 1, 2: 1, 3: 1, 4: 1}, {2: (2, 2)}),
        "better.py": cov_file({1: 0, 2: 0, 3: 1}),
        "moved.py": cov_file({1: 1, 2: 0}),  # same numbers, a different line covered
        "gone.py": cov_file({1: 1}),
    })
    after = cov_doc({
        "same.py": cov_file({1: 1, 2: 1}),
        "worse.py": cov_file({1: 1, 2: 0, 3: 0, 4: 1, 5: 0}, {2: (0, 2)}),
        "better.py": cov_file({1: 3, 2: 1, 3: 1}),
        "moved.py": cov_file({1: 0, 2: 5}),
        "new.py": cov_file({1: 0, 2: 1}),
    })
    put(store, "base", before, commit="a" * 40, branch="main")
    put(store, "head", after, minutes=1, commit="b" * 40, branch="feature")
    cov = compare_runs(store, "head", base_key="base")["comparison"]["coverage"]
    # independent arithmetic: before 6 of 12 lines covered... computed from the dicts above
    b_cov, b_valid = 2 + 4 + 1 + 1 + 1, 2 + 4 + 3 + 2 + 1
    a_cov, a_valid = 2 + 2 + 3 + 1 + 1, 2 + 5 + 3 + 2 + 2
    assert cov["before"] == round(100 * b_cov / b_valid, 4)
    assert cov["after"] == round(100 * a_cov / a_valid, 4)
    assert cov["change"] == round(cov["after"] - cov["before"], 4)
    files = cov["files"]
    assert [r["file"] for r in files["changed"]] == ["worse.py", "better.py", "moved.py"]
    worse = files["changed"][0]
    assert worse["newly_uncovered"] == [2, 3] and worse["newly_uncovered_count"] == 2
    assert worse["lines_missed"] == {"before": 0, "after": 3, "change": 3}
    assert worse["branch_rate"] == {"before": 100.0, "after": 0.0, "change": -100.0}
    assert files["changed"][2]["newly_uncovered"] == [1]
    assert [r["file"] for r in files["added"]] == ["new.py"]
    assert [r["file"] for r in files["removed"]] == ["gone.py"]
    assert files["unchanged"] == 1
    assert cov["newly_uncovered_lines"] == 3


def test_security_new_fixed_unchanged(store: Store) -> None:
    before = sec_doc([finding("f1", "high"), finding("f2", "medium"), finding("f3", "low"),
                      finding("f5", "high", suppressed=True)])
    after = sec_doc([finding("f1", "high", line=40), finding("f2", "critical"), finding("f4", "high"),
                     finding("f6", "medium"), finding("f5", "high", suppressed=True)])
    put(store, "base", before, commit="a" * 40, branch="main")
    put(store, "head", after, minutes=1, commit="b" * 40, branch="feature")
    s = compare_runs(store, "head", base_key="base")["comparison"]["security"]
    assert (s["before"], s["after"], s["change"]) == (3, 4, 1)
    assert s["by_severity"]["high"] == {"before": 1, "after": 2, "change": 1}
    assert s["by_severity"]["critical"] == {"before": 0, "after": 1, "change": 1}
    assert [f["fingerprint"] for f in s["new"]] == ["f4", "f6"]
    assert s["new_by_severity"]["high"] == 1 and s["new_by_severity"]["medium"] == 1
    assert [f["fingerprint"] for f in s["fixed"]] == ["f3"]
    assert [f["fingerprint"] for f in s["unchanged"]] == ["f2", "f1"]  # by severity: critical first
    assert [(f["fingerprint"], f["before_severity"]) for f in s["severity_changed"]] == [("f2", "medium")]


def test_parts_merge_on_read(store: Store) -> None:
    put(store, "base", cov_doc({"x.py": cov_file({1: 1, 2: 0, 3: 0, 4: 0})}), commit="a" * 40, branch="main")
    put(store, "head", cov_doc({"x.py": cov_file({1: 1, 2: 0, 3: 0, 4: 0})}), minutes=1, part="linux",
        commit="b" * 40, branch="f")
    put(store, "head", cov_doc({"x.py": cov_file({1: 0, 2: 2, 3: 0, 4: 0})}), minutes=1, part="windows",
        commit="b" * 40, branch="f")
    put(store, "head", results_doc([{"name": "t1", "status": "passed"}]), minutes=1, part="shard1",
        commit="b" * 40, branch="f")
    put(store, "head", results_doc([{"name": "t2", "status": "failed"}]), minutes=1, part="shard2",
        commit="b" * 40, branch="f")
    c = compare_runs(store, "head", base_key="base")["comparison"]
    assert c["coverage"]["line_rate"] == {"before": 25.0, "after": 50.0, "change": 25.0}
    assert c["tests"]["after"] == 2 and c["tests"]["before"] is None
    assert names(c["tests"]["new_failures"]) == ["t2"]
    assert c["tests"]["note"] == "the baseline has no test_results document"


def test_diff_only_and_type_filter(store: Store) -> None:
    same_cov = cov_doc({"x.py": cov_file({1: 1})})
    put(store, "base", same_cov, commit="a" * 40, branch="main")
    put(store, "base", sec_doc([finding("f1", "low")]), commit="a" * 40, branch="main")
    put(store, "head", same_cov, minutes=1, commit="b" * 40, branch="f")
    put(store, "head", sec_doc([finding("f1", "low"), finding("f2", "high")]), minutes=1, commit="b" * 40,
        branch="f")
    full = compare_runs(store, "head", base_key="base")["comparison"]
    assert "coverage" in full and isinstance(full["security"]["unchanged"], list)
    diff = compare_runs(store, "head", base_key="base", diff_only=True)["comparison"]
    assert "coverage" not in diff
    assert diff["security"]["unchanged"] == 1 and [f["fingerprint"] for f in diff["security"]["new"]] == ["f2"]
    only = compare_runs(store, "head", base_key="base", types=["coverage"])["comparison"]
    assert "security" not in only and "coverage" in only
