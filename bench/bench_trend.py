"""Issue 14 figures: `aqe artifacts trend --last 30` on 10,000 stored runs (local backend).

Usage: python bench/bench_trend.py [--runs 10000] [--repeat 15]

Side by side in one run, on the same store: backend requests (every Backend call, counted by the
wrapper the storage tests use) and time of `trend` against `list --limit 30`, the reference the
target names (≤ 2× its requests, ≤ 0.5 s), and the same on a 100-run store (the cost must not grow
with the store). Times: the in-process median, and the median of whole fresh `aqe` processes.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aqe_ci.app.trend import trend  # noqa: E402
from aqe_ci.storage.local import LocalBackend  # noqa: E402
from aqe_ci.storage.store import Query, Store  # noqa: E402
from bench.bench_foundation import aqe_cmd, median_ms  # noqa: E402
from bench.populate import populate  # noqa: E402
from tests.storage.counting import CountingBackend  # noqa: E402

QUERIES: dict[str, tuple[list[str], Callable[[Store], Any]]] = {
    "list --limit 30": (["artifacts", "list", "--limit", "30"], lambda s: list(s.list(Query(limit=30)))),
    "list --branch main --type test_results --limit 30": (
        ["artifacts", "list", "--branch", "main", "--type", "test_results", "--limit", "30"],
        lambda s: list(s.list(Query(branch="main", type="test_results", limit=30)))),
    "trend --type test_results --branch main --last 30": (
        ["artifacts", "trend", "--type", "test_results", "--branch", "main", "--last", "30"],
        lambda s: trend(s, doc_type="test_results", branch="main", last=30)),
    "trend --type test_results --last 30 (all branches)": (
        ["artifacts", "trend", "--type", "test_results", "--last", "30"],
        lambda s: trend(s, doc_type="test_results", last=30)),
}


def measure(root: Path, fn: Callable[[Store], Any], repeat: int) -> tuple[int, dict[str, int], float]:
    counting = CountingBackend(LocalBackend(root))
    store = Store(counting)
    fn(store)  # warm the page cache, as a second query would find it
    counting.reset()
    fn(store)
    requests, calls = counting.total, dict(counting.calls)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(store)
        times.append((time.perf_counter() - t) * 1000)
    return requests, calls, statistics.median(times)


def main() -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "aqe_ci")], check=True,
                   stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="aqe-bench-trend-"))
    rows = []
    try:
        for runs in (100, args.runs):
            root = work / f"store-{runs}"
            root.mkdir()
            t = time.perf_counter()
            populate(functools.partial(LocalBackend, root, fsync=False), runs, days=400)
            pop = time.perf_counter() - t
            cfg = work / f"cfg-{runs}.json"
            cfg.write_text(json.dumps({"local": {"base_path": str(root)}}))
            env = dict(os.environ, AQE_CONFIG=str(cfg))
            for name, (cli, fn) in QUERIES.items():
                requests, calls, inproc = measure(root, fn, args.repeat)
                cli_ms = median_ms([*aqe_cmd(), *cli], env, max(5, args.repeat // 3))
                rows.append((runs, name, requests, calls, inproc, cli_ms))
            rows.append((runs, f"(populating {runs} runs took {pop:.0f} s)", None, None, None, None))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ref = {r[0]: r[2] for r in rows if r[1] == "list --limit 30"}
    out = [f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}; "
           f"load average {os.getloadavg()[0]:.1f} at the end.", "",
           "| runs stored | query | backend requests | × `list --limit 30` | in-process (median ms) "
           "| `aqe` process (median ms) |", "|---:|---|---:|---:|---:|---:|"]
    for runs, name, requests, calls, inproc, cli in rows:
        if requests is None:
            out.append(f"| {runs} | {name} | | | | |")
            continue
        detail = ", ".join(f"{k} {v}" for k, v in sorted(calls.items()))
        out.append(f"| {runs} | `{name}` | {requests} ({detail}) | {requests / ref[runs]:.1f}× | {inproc:.1f} "
                   f"| {cli:.0f} |")
    out += ["", "Targets: trend `--last 30` on 10,000 runs ≤ 2× the requests of `list --limit 30`, ≤ 0.5 s."]
    text = "\n".join(out)
    print(text)
    doc = ROOT / "docs" / "benchmarks" / "trend.md"
    doc.write_text("# Trend: `aqe artifacts trend --last 30` on the local store\n\n"
                   f"Command: `python bench/bench_trend.py --runs {args.runs} --repeat {args.repeat}` "
                   "(part of `make bench`).\n\n"
                   "Each stored run is one test_results document (`bench/populate.py`: 3 in 7 on main, the rest "
                   "on four other branches, over 400 days). Requests are Backend calls counted by "
                   "`tests/storage/counting.py`; a listing is one call (S3: one request per 1,000 names).\n\n"
                   + text + "\n")
    return text


if __name__ == "__main__":
    main()
