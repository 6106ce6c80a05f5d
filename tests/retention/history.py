"""Generated store histories for the retention tests: runs over many days, three types, several branches.

Creation times are whole days plus 1-23 hours before ``now``, so an age threshold in whole days never
falls within an hour of a document: a test that takes minutes sees the same expired set.
"""

from __future__ import annotations

import hashlib
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aqe_ci.model.keys import MS_PER_DAY, to_ms
from aqe_ci.model.run import RunFacts
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Store

BRANCHES = ("main", "main", "main", "release/1.x", "feature-a", "feature-b", "feature-c", "fix/login")


@dataclass(frozen=True)
class Doc:
    key: str
    type: str
    part: str
    created_ms: int
    branch: str
    pr: int | None

    @property
    def id(self) -> tuple[str, str, str]:
        return (self.key, self.type, self.part)


def make_docs(*, runs: int, days: int, now: datetime, seed: int = 5) -> list[Doc]:
    rng = random.Random(seed)
    docs: list[Doc] = []
    used: set[int] = set()
    for i in range(runs):
        # spread over the whole span, plus a few very old main runs (protected baselines)
        age_days = rng.randrange(days) if i >= 4 else rng.randrange(days - 30, days)
        hours = rng.randrange(1, 23)
        minutes = rng.randrange(60)
        created = now - timedelta(days=age_days, hours=hours, minutes=minutes, milliseconds=rng.randrange(1000))
        ms = to_ms(created)
        while ms in used:
            ms -= 1
        used.add(ms)
        # the first runs belong to an old release line nobody builds any more: its baseline is very old
        branch = rng.choice(BRANCHES) if i >= 4 else "release/0.9"
        pr = None
        if branch != "main" and not branch.startswith("release/") and rng.random() < 0.6:
            pr = rng.randrange(1, 60)
        elif branch == "main" and rng.random() < 0.04:
            pr = rng.randrange(60, 70)  # a fork's PR whose source branch is also called main
        key = f"run-{i:04d}"
        types = ["test_results"]
        if rng.random() < 0.7:
            types.append("coverage")
        if rng.random() < 0.25:
            types.append("security")
        for t in types:
            parts = ["default"] if t != "test_results" or rng.random() < 0.8 else ["shard-1", "shard-2"]
            for n, part in enumerate(parts):
                # documents of one run are stored a few seconds apart
                docs.append(Doc(key, t, part, ms + 1000 * n + (2000 if t == "coverage" else 0)
                                + (4000 if t == "security" else 0), branch, pr))
    return docs


def write_store(root: Path, docs: list[Doc], payload_dir: Path) -> Store:
    """Write ``docs`` into a local store at ``root`` through Store.put with tiny payloads."""
    store = Store(LocalBackend(root))
    write_docs(store, docs, payload_dir)
    return store


def write_docs(store: Store, docs: list[Doc], payload_dir: Path, *, workers: int = 1) -> None:
    """Store.put every doc (tiny payloads) with its creation time, branch and PR; ``workers`` threads."""
    payload_dir.mkdir(parents=True, exist_ok=True)
    payloads: dict[str, Path] = {}
    for t in ("test_results", "coverage", "security"):
        p = payload_dir / f"{t}.json"
        p.write_text(f'{{"type":"{t}","timestamp":"2025-01-01T00:00:00Z","data":{{}}}}')
        payloads[t] = p

    def put(d: Doc) -> None:
        ctx = RunFacts(branch=d.branch, pr=d.pr, commit=hashlib.sha1(d.key.encode()).hexdigest())
        store.put(doc_type=d.type, key=d.key, part=d.part, payload=payloads[d.type], summary={},
                  run=ctx, created_at=datetime.fromtimestamp(d.created_ms / 1000, UTC))

    if workers <= 1:
        for d in docs:
            put(d)
        return
    with ThreadPoolExecutor(workers) as pool:
        for _ in pool.map(put, docs):
            pass


def reference_survivors(docs: list[Doc], *, now_ms: int, days: dict[str, int], keep_latest_n: int,
                        protected: tuple[str, ...], older_than_days: int | None = None,
                        only_types: tuple[str, ...] = (), only_branch: str | None = None) -> set[tuple[str, str, str]]:
    """What docs/retention.md says survives, written out the plain way (independent of aqe_ci.retention)."""
    run_time: dict[str, int] = {}
    for d in docs:
        run_time[d.key] = max(run_time.get(d.key, 0), d.created_ms)
    newest_runs = sorted(run_time, key=lambda k: (run_time[k], k), reverse=True)[:keep_latest_n]
    keep_keys = set(newest_runs)
    for b in protected:
        for t in ("test_results", "coverage", "security"):
            on_branch = [d for d in docs if d.branch == b and d.type == t]
            if on_branch:
                keep_keys.add(max(on_branch, key=lambda d: d.created_ms).key)
            pushes = [d for d in on_branch if d.pr is None]
            if pushes:
                keep_keys.add(max(pushes, key=lambda d: d.created_ms).key)
    survivors = set()
    for d in docs:
        limit_days = older_than_days if older_than_days is not None else days[d.type]
        expired = now_ms - d.created_ms > limit_days * MS_PER_DAY
        selected = (not only_types or d.type in only_types) and (only_branch is None or d.branch == only_branch)
        if expired and selected and d.key not in keep_keys:
            continue
        survivors.add(d.id)
    return survivors
