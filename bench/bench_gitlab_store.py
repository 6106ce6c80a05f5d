"""GitLab backend benchmark: what queries cost on a generic package registry holding N runs.

    python bench/bench_gitlab_store.py [--runs 2000] [--repeat 15] [--threads 8]

The fake GitLab API (tests/servers/fake_gitlab.py) runs as its own process on 127.0.0.1. Three
projects: one filled with ``--runs`` runs through the real ``Store.put`` → python-gitlab → HTTP path
(one test_results document per run, two branches, one commit per run: 6 packages per run), one
holding a single run, one empty. Then ``list --limit 10``, ``get --branch main --latest`` and
``get --commit SHA`` (the listing, the manifest and the payload read and verified — as the
conformance suite and bench_s3.py define them) are run on each, counting HTTP requests with the
client's response hook (``GitLabClient.request_count``) and timing the median of ``--repeat``.

Reference, side by side: what a client without our package naming pays to answer the same
questions from the registry — listing every package newest first (``order_by=created_at&sort=desc``,
100 a page) until it has seen them all, because nothing in a plain listing says which run is on
``main`` or of a commit.

Writes docs/benchmarks/gitlab.md and prints it.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aqe_ci.model.run import RunFacts  # noqa: E402
from aqe_ci.storage.factory import build_backend  # noqa: E402
from aqe_ci.storage.gitlab import GitLabBackend  # noqa: E402
from aqe_ci.storage.store import Query, Store  # noqa: E402
from tests.servers.moto_s3 import server_env  # noqa: E402

BASE = datetime(2026, 1, 1, tzinfo=UTC)


def commit(i: int) -> str:
    return f"{i:08x}" + "5eed" * 8


def document(i: int) -> dict[str, Any]:
    return {"type": "test_results", "timestamp": "2026-01-01T00:00:00Z",
            "data": {"tests_run": 100 + i % 7, "passed": 100, "failed": i % 7, "duration": 12.5}}


def start_fake() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen([sys.executable, str(ROOT / "tests" / "servers" / "fake_gitlab.py"), "--projects", "3"],
                            stdout=subprocess.PIPE, text=True, env=server_env())
    assert proc.stdout is not None
    info = json.loads(proc.stdout.readline())
    return proc, info


def store_for(info: dict[str, Any], project: str) -> Store:
    backend = build_backend("gitlab", {"api_url": info["api_url"], "project": project, "token": info["token"]})
    return Store(backend)


def populate(info: dict[str, Any], project: str, runs: int, threads: int) -> float:
    stores = [store_for(info, project) for _ in range(threads)]

    def put(i: int) -> None:
        stores[i % threads].put_document(document(i), key=f"run-{i:05d}", created_at=BASE + timedelta(minutes=i),
                                         run=RunFacts(branch="main" if i % 2 == 0 else "feature/x", commit=commit(i)))

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(put, range(runs)))
    return time.perf_counter() - started


def queries(newest: int) -> dict[str, Callable[[Store], Any]]:
    def latest(s: Store) -> Any:
        e = s.latest(branch="main")
        return s.load(s.manifest(*e.id)) if e else None

    def by_commit(s: Store) -> Any:
        return [s.load(s.manifest(*e.id)) for e in s.by_commit(commit(newest))]

    return {"list --limit 10": lambda s: list(s.list(Query(limit=10))),
            "get --branch main --latest": latest, "get --commit SHA": by_commit}


def measure(store: Store, newest: int, repeat: int) -> dict[str, dict[str, float]]:
    backend = store.backend
    assert isinstance(backend, GitLabBackend)
    out: dict[str, dict[str, float]] = {}
    for name, query in queries(newest).items():
        counts, times = [], []
        for _ in range(repeat):
            before = backend.request_count
            t = time.perf_counter()
            query(store)
            times.append((time.perf_counter() - t) * 1000)
            counts.append(backend.request_count - before)
        out[name] = {"requests": max(counts), "ms": statistics.median(times)}
    return out


def reference_pages(store: Store) -> int:
    """Requests a client pays to list every package of the project newest first (100 a page)."""
    backend = store.backend
    assert isinstance(backend, GitLabBackend)
    before = backend.request_count
    path = f"/projects/{backend.project_path}/packages"
    page = 1
    while True:
        response = backend.client.http_request("get", path, query_data={
            "package_type": "generic", "order_by": "created_at", "sort": "desc", "per_page": 100, "page": page})
        if not response.headers.get("x-next-page"):
            break
        page += 1
    for status in ("hidden",):  # our index packages are hidden from the plain listing
        page = 1
        while True:
            response = backend.client.http_request("get", path, query_data={
                "package_type": "generic", "status": status, "per_page": 100, "page": page})
            if not response.headers.get("x-next-page"):
                break
            page += 1
    return backend.request_count - before


def machine() -> str:
    import os

    return (f"{platform.machine()}, {os.cpu_count()} CPUs (shared), Python {platform.python_version()}, "
            f"load {os.getloadavg()[0]:.1f}")


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args(argv)
    fake, info = start_fake()
    try:
        full_p, one_p, empty_p = info["projects"]
        built = populate(info, full_p, args.runs, args.threads)
        populate(info, one_p, 1, 1)
        sizes = {"empty": (empty_p, 0), "1 run": (one_p, 0), f"{args.runs:,} runs": (full_p, args.runs - 1)}
        results = {label: measure(store_for(info, p), newest, args.repeat) for label, (p, newest) in sizes.items()}
        ref = {label: reference_pages(store_for(info, p)) for label, (p, _) in sizes.items()}
    finally:
        fake.terminate()
        fake.wait(timeout=30)
    full = f"{args.runs:,} runs"
    lines = [f"Command: `python bench/bench_gitlab_store.py --runs {args.runs} --repeat {args.repeat}` "
             f"(part of `make bench`). Machine: {machine()}.", "",
             f"{args.runs:,} runs stored through `Store.put` → python-gitlab → the fake GitLab API in {built:.0f} s "
             f"({args.threads} threads; {args.runs * 6:,} packages: a run package and 5 hidden index packages "
             "per run). HTTP requests counted by the client, time = median of "
             f"{args.repeat} (the fake matches package names by a scan of the project's distinct names in Python, "
             "GitLab with a database index: the request counts are what the design controls; the machine's load "
             "is above). An empty store has nothing for `get` to read: its one request is the listing that "
             "finds nothing.", "",
             "| query | requests (empty) | requests (1 run) | requests (" + full + ") | ms (1 run) | ms (" + full + ") |",
             "|---|---:|---:|---:|---:|---:|"]
    for name in queries(0):
        e, o, f = (results[k][name] for k in ("empty", "1 run", full))
        lines.append(f"| `{name}` | {e['requests']:.0f} | {o['requests']:.0f} | {f['requests']:.0f} | "
                     f"{o['ms']:.1f} | {f['ms']:.1f} |")
    lines += ["", "Reference — a client without the naming scheme lists every package to answer any of the three "
              f"(`GET /projects/:id/packages?order_by=created_at&sort=desc`, 100 a page): {ref['empty']} / "
              f"{ref['1 run']} / {ref[full]:,} requests on the empty / 1-run / {full} project.",
              "", "Target: at most 3 requests per query, the same on every store size."]
    text = "\n".join(lines)
    print(text)
    (ROOT / "docs" / "benchmarks" / "gitlab.md").write_text("# GitLab backend: queries on the generic package registry\n\n"
                                                         + text + "\n")
    return text


if __name__ == "__main__":
    main()
