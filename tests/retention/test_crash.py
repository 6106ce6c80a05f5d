"""A cleanup killed part way leaves a consistent store, and the next cleanup finishes the job.

Two ways to kill it: a backend that dies at a chosen delete call (every step of the tombstone
protocol, deterministic), and SIGKILL of a real ``aqe artifacts cleanup`` process.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aqe_ci.retention.cleanup import TEST_DELAY_ENV, run_cleanup
from aqe_ci.retention.policy import RetentionPolicy
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store

from .conftest import History
from .history import reference_survivors

RETENTION = {"default_days": 90, "test_results": 30, "coverage_reports": 120, "security_findings": 365,
             "keep_latest_n": 100, "protected_branches": ["main", "release/*"]}
DAYS = {"test_results": 30, "coverage": 120, "security": 365}
PROTECTED = ("main", "release/1.x", "release/0.9")


class Died(BaseException):
    """Stands for the process dying: not an Exception, so nothing on the way catches it."""


class DyingBackend(LocalBackend):
    """A local backend that dies at its ``die_at``-th delete call."""

    def __init__(self, root: Path, die_at: int) -> None:
        super().__init__(root)
        self.die_at = die_at
        self.calls = itertools.count(1)  # thread-safe in CPython: next() holds the GIL

    def delete(self, name: str) -> None:
        if next(self.calls) == self.die_at:
            raise Died(name)
        super().delete(name)


def tombstones(root: Path) -> list[Path]:
    return sorted(root.glob("runs/*/*/*/tombstone"))


def assert_consistent_after_crash(store: Store, root: Path) -> None:
    """What a reader sees is whole: every listed document reads back verified, whatever the crash left."""
    stones = {tuple(p.relative_to(root).parts[1:4]) for p in tombstones(root)}
    assert len(stones) <= 1  # one document at a time is in the middle of its delete
    listed = {}
    for dim_query in (Query(), Query(type="test_results"), Query(branch="main"), Query(branch="feature-a")):
        for e in store.list(dim_query):
            listed[e.id] = e
    for ident in listed:
        store.load(store.manifest(*ident))  # manifest present, payload present and its sha256 verified
    manifests = {m.id for m in store.iter_all_manifests()}
    in_time_index = {e.id for e in store.list(Query())}
    # outside the one interrupted delete, index and manifests agree
    assert (manifests ^ in_time_index) <= stones
    report = store.repair(dry_run=True)
    assert {tuple(n.split("/")) for n in report["finished_deletes"]} <= stones
    assert report["reindexed"] == []


@pytest.mark.parametrize(("die_at", "workers"), [(1, 1), (4, 1), (6, 1), (8, 1), (40, 1), (5, 4)])
def test_crash_at_every_step_of_a_delete(history_250: History, fast_tmp: Path, die_at: int, workers: int) -> None:
    h = history_250
    root = h.copy_to(fast_tmp / "store")
    policy = RetentionPolicy.from_config(RETENTION)
    dying = Store(DyingBackend(root, die_at))
    with pytest.raises(Died):
        run_cleanup(dying, policy, now_ms=h.now_ms, progress=None, workers=workers)
    store = Store(LocalBackend(root))
    assert_consistent_after_crash(store, root)
    if die_at <= 6 and workers == 1:
        assert len(tombstones(root)) == 1  # died inside the first delete: its tombstone is there

    result = run_cleanup(store, policy, now_ms=h.now_ms, progress=None)
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=100, protected=PROTECTED)
    assert {e.id for e in store.list(Query())} == expected
    assert {m.id for m in store.iter_all_manifests()} == expected
    assert tombstones(root) == []
    if die_at <= 6 and workers == 1:
        assert len(result.repair["finished_deletes"]) == 1
    clean = store.repair(dry_run=True)
    assert not any(clean.values()), clean


def _run_cli(cwd: Path, *args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQE_", "GITHUB_", "GITLAB_", "CI"))}
    env.update(env_extra or {})
    return subprocess.Popen([sys.executable, "-m", "aqe_ci", "artifacts", "cleanup", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)


@pytest.mark.parametrize("delay", ["0.001"])
def test_sigkill_during_cli_cleanup_then_second_cleanup_finishes(history_1000: History, fast_tmp: Path,
                                                                 tmp_path: Path, delay: str) -> None:
    h = history_1000
    root = h.copy_to(fast_tmp / "store")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "storage.json").write_text(
        json.dumps({"backend": "local", "local": {"base_path": str(root)}, "retention": RETENTION}))
    expected = reference_survivors(h.docs, now_ms=h.now_ms, days=DAYS, keep_latest_n=100, protected=PROTECTED)
    to_delete = len(h.docs) - len(expected)
    assert to_delete > 1000

    proc = _run_cli(tmp_path, "--yes", env_extra={TEST_DELAY_ENV: delay})
    assert proc.stdout is not None
    deleted_seen = 0
    deadline = time.monotonic() + 120
    try:
        for line in proc.stdout:
            if line.startswith("deleted "):
                deleted_seen += 1
                if deleted_seen >= 300:
                    break
            assert time.monotonic() < deadline, "cleanup produced no progress"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()
    assert proc.returncode == -signal.SIGKILL
    assert deleted_seen == 300

    store = Store(LocalBackend(root))
    assert_consistent_after_crash(store, root)
    remaining = {e.id for e in store.list(Query())}
    assert expected < remaining < {d.id for d in h.docs}  # killed part way: some, not all, removed

    second = _run_cli(tmp_path, "--yes", "--format", "json")
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err
    report = json.loads(out)
    assert {e.id for e in store.list(Query())} == expected
    assert {m.id for m in store.iter_all_manifests()} == expected
    assert report["summary"]["documents_after"] == len(expected)
    assert tombstones(root) == []
    assert not any(store.repair(dry_run=True).values())
