"""``aqe artifacts cleanup`` and ``aqe artifacts delete --branch B --all`` through the real CLI entry point."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aqe_ci.errors import EXIT_NOT_FOUND, EXIT_USAGE
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store

from .conftest import History, tree_digest
from .history import reference_survivors

RETENTION = {"default_days": 90, "test_results": 30, "coverage_reports": 120, "security_findings": 365,
             "keep_latest_n": 50, "protected_branches": ["main", "release/*"]}
DAYS = {"test_results": 30, "coverage": 120, "security": 365}
PROTECTED = ("main", "release/1.x", "release/0.9")


def setup_store(h: History, dest: Path, workdir: Path, retention: dict[str, object] | None = None) -> Store:
    root = h.copy_to(dest)
    cfg = {"backend": "local", "local": {"base_path": str(root)}}
    if retention is not None:
        cfg["retention"] = retention
    (workdir / "config").mkdir(exist_ok=True)
    (workdir / "config" / "storage.json").write_text(json.dumps(cfg))
    return Store(LocalBackend(root))


def ids(store: Store) -> set[tuple[str, str, str]]:
    return {e.id for e in store.list(Query())}


def test_cleanup_dry_run_then_yes(aqe, workdir: Path, history_250: History, fast_tmp: Path) -> None:
    h = history_250
    store = setup_store(h, fast_tmp / "store", workdir, RETENTION)
    root = Path(store.location)
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=50, protected=PROTECTED)
    gone = {d.id for d in h.docs} - expected
    before = tree_digest(root)

    r = aqe("artifacts", "cleanup", "--dry-run", "--format", "json")
    assert r.code == 0, r.err
    report = json.loads(r.out)
    assert report["dry_run"] is True
    assert {(d["key"], d["type"], d["part"]) for d in report["removed"]} == gone
    assert report["summary"]["documents_removed"] == len(gone)
    assert report["summary"]["bytes_removed"] == sum(d["stored_size"] for d in report["removed"]) > 0
    assert report["summary"]["documents_after"] == report["summary"]["documents_before"] == len(h.docs)
    assert report["policy"]["protected_branches"] == ["main", "release/*"]
    reasons = {r for p in report["protected"] for r in p["reasons"]}
    assert "keep_latest_n" in reasons and "protected_branch:release/0.9:test_results" in reasons
    assert tree_digest(root) == before

    r = aqe("artifacts", "cleanup", "--dry-run")
    assert r.code == 0 and r.out.count("\nwould delete ") == len(gone)
    assert "kept although expired" in r.out and "protected_branch:release/0.9" in r.out
    assert tree_digest(root) == before

    r = aqe("artifacts", "cleanup", "--yes")
    assert r.code == 0, r.err
    deleted_lines = [line for line in r.out.splitlines() if line.startswith("deleted ")]
    assert {tuple(line.split()[1].split("/")) for line in deleted_lines} == gone
    assert f"summary: removed {len(gone)} document(s)" in r.out
    assert ids(store) == expected

    r = aqe("artifacts", "cleanup", "--yes", "--format", "json")
    assert r.code == 0 and json.loads(r.out)["removed"] == []


def test_cleanup_options_from_env_and_filters(aqe, workdir: Path, history_250: History, fast_tmp: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    h = history_250
    store = setup_store(h, fast_tmp / "store", workdir, RETENTION)
    monkeypatch.setenv("AQE_ARTIFACTS_CLEANUP_OLDER_THAN", "10d")
    monkeypatch.setenv("AQE_ARTIFACTS_CLEANUP_BRANCH", "feature-c")
    monkeypatch.setenv("AQE_ARTIFACTS_CLEANUP_YES", "1")
    r = aqe("artifacts", "cleanup", "--type", "test_results", "--type", "coverage", "--format", "json")
    assert r.code == 0, r.err
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=50, protected=PROTECTED,
                                   older_than_days=10, only_types=("test_results", "coverage"),
                                   only_branch="feature-c")
    assert ids(store) == expected
    assert json.loads(r.out)["summary"]["documents_removed"] == len(h.docs) - len(expected) > 0


def test_cleanup_refuses_without_yes_when_not_interactive(aqe, workdir: Path, history_250: History,
                                                         fast_tmp: Path) -> None:
    store = setup_store(history_250, fast_tmp / "store", workdir, RETENTION)
    before = tree_digest(Path(store.location))
    r = aqe("artifacts", "cleanup")
    assert r.code == EXIT_USAGE and "--yes" in r.err and r.err.count("\n") == 1
    for bad in (["--older-than", "90"], ["--older-than", "1y"], ["--type", "logs"]):
        r = aqe("artifacts", "cleanup", "--dry-run", *bad)
        assert r.code == EXIT_USAGE, bad
    assert tree_digest(Path(store.location)) == before


def test_default_protected_branches_without_config(aqe, workdir: Path, history_250: History, fast_tmp: Path) -> None:
    """No protected_branches and no CI default branch: main and master are protected."""
    h = history_250
    store = setup_store(h, fast_tmp / "store", workdir, {"keep_latest_n": 0})
    r = aqe("artifacts", "cleanup", "--older-than", "1d", "--yes", "--format", "json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["policy"]["protected_branches_source"] == "fallback"
    days = {"test_results": 30, "coverage": 90, "security": 365}  # built-in defaults, not used with --older-than
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=days, keep_latest_n=0, protected=("main", "master"),
                                   older_than_days=1)
    assert ids(store) == expected
    assert {d.branch for d in h.docs if d.id in expected and h.now_ms - d.created_ms > 86_400_000} == {"main"}


def test_delete_branch_all(aqe, workdir: Path, history_250: History, fast_tmp: Path) -> None:
    h = history_250
    store = setup_store(h, fast_tmp / "store", workdir, RETENTION)
    root = Path(store.location)
    before = tree_digest(root)
    on_branch = {d.id for d in h.docs if d.branch == "feature-a"}
    assert on_branch

    r = aqe("artifacts", "delete", "--branch", "feature-a")
    assert r.code == EXIT_USAGE and "--all" in r.err
    r = aqe("artifacts", "delete", "run-0001", "--branch", "feature-a", "--all")
    assert r.code == EXIT_USAGE
    r = aqe("artifacts", "delete", "--all")
    assert r.code == EXIT_USAGE
    r = aqe("artifacts", "delete", "--branch", "release/1.x", "--all", "--yes")
    assert r.code == EXIT_USAGE and "protected" in r.err
    r = aqe("artifacts", "delete", "--branch", "feature-a", "--all")  # no --yes, no terminal
    assert r.code == EXIT_USAGE and "--yes" in r.err
    r = aqe("artifacts", "delete", "--branch", "feature-a", "--all", "--dry-run", "--format", "json")
    assert r.code == 0, r.err
    assert {(d["key"], d["type"], d["part"]) for d in json.loads(r.out)["would_delete"]} == on_branch
    assert tree_digest(root) == before

    r = aqe("artifacts", "delete", "--branch", "feature-a", "--all", "--yes")
    assert r.code == 0, r.err
    assert {tuple(line.split()[1].split("/")) for line in r.out.splitlines() if line.startswith("deleted ")} == on_branch
    assert f"summary: deleted {len(on_branch)} document(s)" in r.out
    assert ids(store) == {d.id for d in h.docs} - on_branch
    r = aqe("artifacts", "delete", "--branch", "feature-a", "--all", "--yes")
    assert r.code == EXIT_NOT_FOUND


def test_delete_key_dry_run(aqe, workdir: Path, history_250: History, fast_tmp: Path) -> None:
    store = setup_store(history_250, fast_tmp / "store", workdir, RETENTION)
    before = ids(store)
    r = aqe("artifacts", "delete", "run-0010", "--dry-run")
    assert r.code == 0 and r.out.startswith("would delete run-0010/")
    assert ids(store) == before
    r = aqe("artifacts", "delete", "no-such-run", "--dry-run")
    assert r.code == EXIT_NOT_FOUND
