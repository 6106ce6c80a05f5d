"""plan_cleanup on small hand-made histories: each rule alone, then together."""

from __future__ import annotations

import pytest

from aqe_ci.errors import UsageError
from aqe_ci.model.keys import MS_PER_DAY
from aqe_ci.retention.policy import (
    KEEP_FILTERED,
    KEEP_LATEST,
    KEEP_NOT_EXPIRED,
    CleanupFilters,
    RetentionPolicy,
    parse_duration,
    plan_cleanup,
)
from aqe_ci.storage.layout import Entry

NOW = 1_800_000_000_000
DAY = MS_PER_DAY


def e(key: str, age_days: float, *, t: str = "test_results", branch: str | None = "feature", pr: int | None = None,
      part: str = "default", size: int = 10) -> Entry:
    return Entry(key=key, type=t, part=part, created_ms=int(NOW - age_days * DAY), branch=branch, pr=pr,
                 stored_size=size)


def ids(entries: list[Entry]) -> set[tuple[str, str, str]]:
    return {x.id for x in entries}


def policy(**kw: object) -> RetentionPolicy:
    base = {"default_days": 30, "keep_latest_n": 0, "protected_branches": []}
    base.update(kw)
    return RetentionPolicy.from_config(base)


def test_parse_duration_units_and_errors() -> None:
    assert parse_duration("90d") == 90 * DAY
    assert parse_duration("36h") == 36 * 3_600_000
    assert parse_duration("2W") == 14 * DAY
    for bad in ("90", "0d", "-1d", "1.5d", "d", "90 days", ""):
        with pytest.raises(UsageError, match="invalid duration"):
            parse_duration(bad)


def test_from_config_maps_type_names_and_defaults() -> None:
    p = RetentionPolicy.from_config({"default_days": 60, "test_results": 7, "coverage_reports": 20,
                                     "security_findings": 365})
    assert (p.days_for("test_results"), p.days_for("coverage"), p.days_for("security")) == (7, 20, 365)
    assert p.keep_latest_n == 100
    assert p.protected_branches == ("main", "master") and p.protected_source == "fallback"
    p = RetentionPolicy.from_config({"test_results": 7})
    assert p.days_for("coverage") == 90 and p.days_for("test_results") == 7
    p = RetentionPolicy.from_config({}, default_branch="trunk")
    assert p.protected_branches == ("trunk",) and p.protected_source == "ci-default-branch"
    p = RetentionPolicy.from_config({"protected_branches": ["release/*"]}, default_branch="trunk")
    assert p.protected_branches == ("release/*",) and p.is_protected("release/1.x")
    assert not p.is_protected("trunk") and not p.is_protected(None)
    assert RetentionPolicy.from_config({"protected_branches": []}).protected_branches == ()


def test_age_per_type_and_boundary() -> None:
    p = policy(test_results=10, security_findings=100)
    docs = [e("a", 10, t="test_results"), e("b", 10.01, t="test_results"),
            e("c", 50, t="security"), e("d", 101, t="security"),
            e("f", 29.9, t="coverage"), e("g", 30.5, t="coverage")]
    plan = plan_cleanup(docs, p, NOW)
    assert ids(plan.delete) == {("b", "test_results", "default"), ("d", "security", "default"),
                                ("g", "coverage", "default")}
    assert {k.entry.key: k.reasons for k in plan.keep} == {"a": (KEEP_NOT_EXPIRED,), "c": (KEEP_NOT_EXPIRED,),
                                                          "f": (KEEP_NOT_EXPIRED,)}
    assert plan.delete_bytes == 30
    assert plan.counts()["delete_runs"] == 3


def test_keep_latest_n_keeps_whole_newest_runs_even_when_expired() -> None:
    docs = [e("r1", 400), e("r1", 300, t="coverage"),  # r1's newest document: 300 days
            e("r2", 350), e("r3", 320, t="security"), e("r4", 500)]
    plan = plan_cleanup(docs, policy(keep_latest_n=2), NOW)
    # newest runs by their newest document: r1 (300), r3 (320)
    assert ids(plan.delete) == {("r2", "test_results", "default"), ("r4", "test_results", "default")}
    assert {(k.entry.key, k.entry.type): k.reasons for k in plan.protected} == {
        ("r1", "test_results"): (KEEP_LATEST,), ("r1", "coverage"): (KEEP_LATEST,),
        ("r3", "security"): (KEEP_LATEST,)}


def test_keep_latest_n_counts_runs_not_selected_by_filters() -> None:
    docs = [e("new-main", 200, branch="main"), e("old-feat", 300), e("older-feat", 310)]
    plan = plan_cleanup(docs, policy(keep_latest_n=2), NOW, CleanupFilters(branch="feature"))
    assert ids(plan.delete) == {("older-feat", "test_results", "default")}
    assert [k.reasons for k in plan.keep if k.entry.key == "new-main"] == [(KEEP_FILTERED,)]


def test_protected_branch_latest_run_per_type_survives_when_very_old() -> None:
    docs = [
        e("m-old", 900, branch="main"), e("m-old", 900, t="coverage", branch="main"),
        e("m-cov", 800, t="coverage", branch="main"),
        e("m-tests", 700, branch="main"),
        e("m-sec", 1000, t="security", branch="main"),
        e("m-sec-older", 1100, t="security", branch="main"),
        e("rel", 600, branch="release/1.x"), e("rel-old", 650, branch="release/1.x"),
        e("feat", 100, branch="feature"),
    ]
    plan = plan_cleanup(docs, policy(protected_branches=["main", "release/*"]), NOW)
    assert ids(plan.delete) == {("m-old", "test_results", "default"), ("m-old", "coverage", "default"),
                                ("m-sec-older", "security", "default"), ("rel-old", "test_results", "default"),
                                ("feat", "test_results", "default")}
    reasons = {k.entry.key: k.reasons for k in plan.protected}
    assert reasons == {"m-cov": ("protected_branch:main:coverage",),
                       "m-tests": ("protected_branch:main:test_results",),
                       "m-sec": ("protected_branch:main:security",),
                       "rel": ("protected_branch:release/1.x:test_results",)}


def test_protected_keeps_whole_run_and_newest_push_run() -> None:
    docs = [
        e("push", 200, branch="main"), e("push", 200, t="coverage", branch="main"),
        e("push", 200, t="test_results", part="shard-2", branch="main"),
        # a PR whose source branch is also called main (a fork): newer, but not a push
        e("fork-pr", 100, branch="main", pr=7),
        e("older", 300, branch="main"),
    ]
    plan = plan_cleanup(docs, policy(protected_branches=["main"]), NOW)
    assert ids(plan.delete) == {("older", "test_results", "default")}
    kept = {(k.entry.key, k.entry.type, k.entry.part) for k in plan.protected}
    assert kept == {("push", "test_results", "default"), ("push", "test_results", "shard-2"),
                    ("push", "coverage", "default"), ("fork-pr", "test_results", "default")}


def test_older_than_overrides_type_days_and_type_filter() -> None:
    p = policy(security_findings=365)
    docs = [e("s", 100, t="security"), e("t", 100), e("t2", 5), e("c", 100, t="coverage")]
    plan = plan_cleanup(docs, p, NOW, CleanupFilters(older_than_ms=parse_duration("90d")))
    assert ids(plan.delete) == {("s", "security", "default"), ("t", "test_results", "default"),
                                ("c", "coverage", "default")}
    plan = plan_cleanup(docs, p, NOW, CleanupFilters(older_than_ms=parse_duration("1d"),
                                                     doc_types=("test_results",)))
    assert ids(plan.delete) == {("t", "test_results", "default"), ("t2", "test_results", "default")}
    assert plan.counts()[KEEP_FILTERED] == 2


def test_duplicate_entries_are_planned_once_and_plan_is_deterministic() -> None:
    docs = [e("a", 100), e("a", 100), e("b", 100, part="p2"), e("b", 100)]
    one = plan_cleanup(docs, policy(), NOW)
    two = plan_cleanup(list(reversed(docs)), policy(), NOW)
    assert len(one.delete) == 3
    assert [x.id for x in one.delete] == [x.id for x in two.delete]


def test_the_example_in_docs_retention_md() -> None:
    docs = [e("r9", 1, branch="feature-b"),
            e("r8", 45, branch="feature-a"), e("r8", 44, t="coverage", branch="feature-a"),
            e("r7", 50, branch="main"),
            e("r6", 60, branch="main"), e("r6", 60, t="security", branch="main"),
            e("r5", 70, branch="feature-a"),
            e("r4", 80, branch="main")]
    p = RetentionPolicy.from_config({"keep_latest_n": 2, "test_results": 30, "protected_branches": ["main"]})
    plan = plan_cleanup(docs, p, NOW)
    assert ids(plan.delete) == {("r5", "test_results", "default"), ("r4", "test_results", "default")}
    assert {k.entry.key: k.reasons for k in plan.protected} == {
        "r8": (KEEP_LATEST,), "r7": ("protected_branch:main:test_results",),
        "r6": ("protected_branch:main:security",)}
