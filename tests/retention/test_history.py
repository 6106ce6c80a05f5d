"""Cleanup on a generated history: 1,000 runs over 400 days, three types, several branches and PRs.

The surviving set is computed by ``history.reference_survivors`` (a plain re-statement of
docs/retention.md, not the code under test) and compared exactly with what the store lists and
reads back after the cleanup.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from aqe_ci.retention.cleanup import delete_branch, run_cleanup
from aqe_ci.retention.policy import CleanupFilters, RetentionPolicy, parse_duration
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store

from .conftest import History, tree_digest
from .history import reference_survivors

RETENTION = {"default_days": 90, "test_results": 30, "coverage_reports": 120, "security_findings": 365,
             "keep_latest_n": 100, "protected_branches": ["main", "release/*"]}
DAYS = {"test_results": 30, "coverage": 120, "security": 365}
PROTECTED = ("main", "release/1.x", "release/0.9")


def listed(store: Store) -> set[tuple[str, str, str]]:
    return {e.id for e in store.list(Query())}


def assert_consistent(store: Store) -> None:
    """Every listed document reads back verified; every manifest is listed; nothing left to repair."""
    listed_ids = listed(store)
    manifests = {m.id for m in store.iter_all_manifests()}
    assert listed_ids == manifests
    for key, doc_type, part in sorted(listed_ids):
        store.load(store.manifest(key, doc_type, part))
    report = store.repair(dry_run=True)
    assert report["finished_deletes"] == [] and report["reindexed"] == [] and report["stale_index"] == []


def run_scenario(h: History, dest: Path, older_than: str | None = None, types: tuple[str, ...] = (),
                 branch: str | None = None, *, reuse: bool = False) -> None:
    store = Store(LocalBackend(dest if reuse else h.copy_to(dest)))
    before = listed(store)
    assert before == {d.id for d in h.docs}
    policy = RetentionPolicy.from_config(RETENTION)
    filters = CleanupFilters(older_than_ms=parse_duration(older_than) if older_than else None,
                             doc_types=types, branch=branch)
    result = run_cleanup(store, policy, filters=filters, now_ms=h.now_ms, progress=None)

    expected = reference_survivors(
        h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=100, protected=PROTECTED,
        older_than_days=int(older_than[:-1]) * (7 if older_than.endswith("w") else 1) if older_than else None,
        only_types=types, only_branch=branch)
    assert listed(store) == expected
    assert {e.id for e in result.deleted} == before - expected
    assert 0 < len(result.deleted) < len(before)  # the scenario removes something and keeps something
    assert result.skipped == []
    assert result.deleted_bytes == sum(e.stored_size for e in result.deleted) > 0
    assert_consistent(store)
    # a second cleanup right after finds nothing more to do
    again = run_cleanup(store, policy, filters=filters, now_ms=h.now_ms, progress=None)
    assert again.deleted == [] and again.plan.delete == []


def test_cleanup_of_1000_runs_dry_run_then_exactly_the_expected_set(history_1000: History, fast_tmp: Path) -> None:
    h = history_1000
    root = h.copy_to(fast_tmp / "store")
    store = Store(LocalBackend(root))
    before = tree_digest(root)
    policy = RetentionPolicy.from_config(RETENTION)
    dry = run_cleanup(store, policy, now_ms=h.now_ms, dry_run=True, progress=None)
    assert dry.deleted == []
    assert tree_digest(root) == before  # --dry-run changed nothing, byte for byte
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=100, protected=PROTECTED)
    assert {e.id for e in dry.plan.delete} == {d.id for d in h.docs} - expected
    assert len(dry.plan.delete) > 1000  # it would have removed plenty
    run_scenario(h, root, reuse=True)


@pytest.mark.parametrize(
    ("older_than", "types", "branch"),
    [
        ("60d", (), None),
        ("2w", ("coverage",), None),
        (None, ("security", "test_results"), None),
        (None, (), "feature-a"),
        ("1d", (), "main"),
    ],
)
def test_cleanup_with_filters_leaves_exactly_the_expected_set(history_250: History, fast_tmp: Path,
                                                              older_than: str | None, types: tuple[str, ...],
                                                              branch: str | None) -> None:
    run_scenario(history_250, fast_tmp / "store", older_than, types, branch)


def test_protected_and_latest_runs_survive_even_when_very_old(history_250: History, fast_tmp: Path) -> None:
    h = history_250
    store = Store(LocalBackend(h.copy_to(fast_tmp / "store")))
    # everything is expired: only keep_latest_n and the protected baselines may stay
    policy = RetentionPolicy.from_config({**RETENTION, "keep_latest_n": 5})
    run_cleanup(store, policy, filters=CleanupFilters(older_than_ms=parse_duration("1h")),
                now_ms=h.now_ms + 2 * 3_600_000, progress=None)
    survivors = listed(store)
    newest5 = sorted({d.key for d in h.docs}, key=lambda k: max(d.created_ms for d in h.docs if d.key == k))[-5:]
    for key in newest5:
        assert {d.id for d in h.docs if d.key == key} <= survivors
    baseline_keys = set()
    for branch in PROTECTED:
        for t in ("test_results", "coverage", "security"):
            on = [d for d in h.docs if d.branch == branch and d.type == t]
            newest = max(on, key=lambda d: d.created_ms)
            baseline_keys.add(newest.key)
            baseline_keys.add(max((d for d in on if d.pr is None), key=lambda d: d.created_ms).key)
            # the whole run of the baseline survives, and the store still answers `latest` with it
            assert {d.id for d in h.docs if d.key == newest.key} <= survivors
            latest = store.latest(branch=branch, doc_type=t)
            assert latest is not None and latest.id == newest.id
    # release/0.9's baselines are older than every retention period, yet they stay
    oldest_kept = min(d.created_ms for d in h.docs if d.id in survivors)
    assert (h.now_ms - oldest_kept) / 86_400_000 > 365
    # and nothing else
    assert survivors == {d.id for d in h.docs if d.key in set(newest5) | baseline_keys}


def test_delete_branch_clears_a_merged_branch_only(history_250: History, fast_tmp: Path) -> None:
    h = history_250
    store = Store(LocalBackend(h.copy_to(fast_tmp / "store")))
    policy = RetentionPolicy.from_config(RETENTION)
    result = delete_branch(store, "feature-b", policy=policy, progress=None)
    on_branch = {d.id for d in h.docs if d.branch == "feature-b"}
    assert {e.id for e in result.deleted} == on_branch and on_branch
    assert listed(store) == {d.id for d in h.docs} - on_branch
    assert list(store.list(Query(branch="feature-b"))) == []
    assert_consistent(store)
