"""The retention guarantees on the S3 backend: moto's S3 server process, real boto3 over HTTP.

A smaller generated history (60 runs over 400 days, three types, several branches and PRs) than
the local tests, because every object is a real HTTP request.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.retention.cleanup import TEST_DELAY_ENV, delete_branch, run_cleanup
from aqe_ci.retention.policy import RetentionPolicy
from aqe_ci.storage.s3 import S3Backend, from_settings
from aqe_ci.storage.store import Query, Store

from .history import Doc, make_docs, reference_survivors, write_docs

RETENTION = {"default_days": 90, "test_results": 30, "coverage_reports": 120, "security_findings": 365,
             "keep_latest_n": 5, "protected_branches": ["main", "release/*"]}
DAYS = {"test_results": 30, "coverage": 120, "security": 365}
PROTECTED = ("main", "release/1.x", "release/0.9")
RUNS = 60


class S3History:
    def __init__(self, settings: dict[str, Any], docs: list[Doc], now_ms: int) -> None:
        self.settings = settings
        self.docs = docs
        self.now_ms = now_ms

    def store(self) -> Store:
        return Store(from_settings(self.settings))

    def expected(self) -> set[tuple[str, str, str]]:
        return reference_survivors(self.docs, now_ms=self.now_ms, days=DAYS, keep_latest_n=5,
                                   protected=PROTECTED)


@pytest.fixture
def s3_history(s3_bucket: Callable[..., dict[str, Any]], tmp_path: Path) -> S3History:
    settings = s3_bucket()
    now = datetime.now(UTC).replace(microsecond=0)
    docs = make_docs(runs=RUNS, days=400, now=now, seed=11)
    write_docs(Store(from_settings(settings)), docs, tmp_path / "payloads", workers=8)
    return S3History(settings, docs, int(now.timestamp() * 1000))


def objects(store: Store) -> dict[str, int]:
    return {info.name: info.size for info in store.backend.list("")}


def assert_readable(store: Store) -> None:
    for e in store.list(Query()):
        store.load(store.manifest(*e.id))


class Died(BaseException):
    """Stands for the process dying."""


def test_s3_dry_run_crash_and_cleanup_leave_exactly_the_expected_set(s3_history: S3History) -> None:
    h = s3_history
    store = h.store()
    assert isinstance(store.backend, S3Backend)
    assert {e.id for e in store.list(Query())} == {d.id for d in h.docs}
    policy = RetentionPolicy.from_config(RETENTION)
    expected = h.expected()

    # --dry-run: nothing removed, nothing written
    before = objects(store)
    dry = run_cleanup(store, policy, now_ms=h.now_ms, dry_run=True, progress=None)
    assert objects(store) == before
    assert {e.id for e in dry.plan.delete} == {d.id for d in h.docs} - expected
    assert len(dry.plan.delete) > 40

    # a cleanup that dies at its 20th delete request (8 documents in flight)
    dying = h.store()
    calls = itertools.count(1)
    real_delete = dying.backend.delete

    def delete(name: str) -> None:
        if next(calls) == 20:
            raise Died(name)
        real_delete(name)

    dying.backend.delete = delete  # type: ignore[method-assign]
    with pytest.raises(Died):
        run_cleanup(dying, policy, now_ms=h.now_ms, progress=None)
    assert_readable(store)
    assert len([n for n in objects(store) if n.endswith("/tombstone")]) == 1
    remaining = {e.id for e in store.list(Query())}
    assert expected < remaining < {d.id for d in h.docs}

    # the next cleanup finishes the interrupted delete and the plan
    result = run_cleanup(store, policy, now_ms=h.now_ms, progress=None)
    assert len(result.repair["finished_deletes"]) == 1
    assert {e.id for e in store.list(Query())} == expected
    assert {m.id for m in store.iter_all_manifests()} == expected
    assert_readable(store)
    assert not any(v for k, v in store.repair(dry_run=True).items() if k != "orphans")
    assert not any(name.endswith("/tombstone") for name in objects(store))

    branch = delete_branch(store, "feature-b", policy=policy, progress=None)
    assert branch.deleted and all(e.branch == "feature-b" for e in branch.deleted)
    assert list(store.list(Query(branch="feature-b"))) == []


@pytest.mark.slow
def test_s3_sigkill_during_cli_cleanup(s3_history: S3History, tmp_path: Path) -> None:
    h = s3_history
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "storage.json").write_text(
        json.dumps({"backend": "s3", "s3": h.settings, "retention": RETENTION}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AQE_", "GITHUB_", "GITLAB_", "CI"))}
    env[TEST_DELAY_ENV] = "0.02"
    proc = subprocess.Popen([sys.executable, "-m", "aqe_ci", "artifacts", "cleanup", "--yes"], cwd=tmp_path,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            text=True)
    seen = 0
    deadline = time.monotonic() + 120
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("deleted "):
                seen += 1
                if seen >= 10:
                    break
            assert time.monotonic() < deadline
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
    assert proc.returncode == -signal.SIGKILL and seen == 10
    store = h.store()
    assert_readable(store)
    remaining = {e.id for e in store.list(Query())}
    assert h.expected() < remaining

    env.pop(TEST_DELAY_ENV)
    done = subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "cleanup", "--yes", "--format", "json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert {e.id for e in store.list(Query())} == h.expected()
    assert json.loads(done.stdout)["summary"]["documents_after"] == len(h.expected())
