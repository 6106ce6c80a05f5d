"""Synthetic histories for benchmarks and scale tests: many small runs through the real Store.put."""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aqe_ci.model.run import RunFacts
from aqe_ci.storage.base import Backend
from aqe_ci.storage.store import Store

BASE_TIME = datetime(2025, 1, 1, tzinfo=UTC)
BRANCHES = ("main", "main", "main", "release/1.x", "feature/login", "feature/cache", "fix/flaky-io")


def commit_for(i: int) -> str:
    return hashlib.sha1(f"commit-{i}".encode()).hexdigest()


def small_document(i: int) -> dict[str, Any]:
    failed = i % 7 == 0
    return {
        "type": "test_results",
        "timestamp": (BASE_TIME + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {"tests_run": 120, "passed": 119 if failed else 120, "failed": 1 if failed else 0,
                 "duration": 12.5 + i % 10, "failures": []},
    }


def run_time(i: int, runs: int, days: int) -> datetime:
    return BASE_TIME + timedelta(seconds=int(i * days * 86400 / max(runs, 1)))


def _worker(args: tuple[Callable[[], Backend], int, int, int, int]) -> int:
    make_backend, start, stop, runs, days = args
    store = Store(make_backend())
    for i in range(start, stop):
        branch = BRANCHES[i % len(BRANCHES)]
        ctx = RunFacts(commit=commit_for(i), branch=branch, pr=(1000 + i % 50) if branch.startswith("f") else None)
        store.put_document(small_document(i), key=f"build-{i:06d}", run=ctx, created_at=run_time(i, runs, days))
    return stop - start


def populate(make_backend: Callable[[], Backend], runs: int, *, days: int = 400, processes: int = 2) -> int:
    """Store ``runs`` runs (one test_results document each) spread over ``days`` days."""
    step = max(1, runs // (processes * 8))
    chunks = [(make_backend, s, min(s + step, runs), runs, days) for s in range(0, runs, step)]
    if processes <= 1:
        return sum(_worker(c) for c in chunks)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(processes) as pool:
        return sum(pool.map(_worker, chunks))
