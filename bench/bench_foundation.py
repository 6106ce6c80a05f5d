"""Issue 2 figures: `aqe artifacts list --limit 10` on 10,000 runs, and `aqe --help` start-up.

Usage: python bench/bench_foundation.py [--runs 10000] [--repeat 15]
Each figure is the median of fresh `aqe` processes (what a user or CI step pays), plus the
in-process query time (what the store itself costs).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aqe_ci.storage.local import LocalBackend  # noqa: E402
from aqe_ci.storage.store import Query, Store  # noqa: E402
from bench.populate import commit_for, populate  # noqa: E402


def aqe_cmd() -> list[str]:
    exe = shutil.which("aqe", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "aqe_ci"]


def median_ms(cmd: list[str], env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def in_process_ms(store: Store, fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(store)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> str:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()
    # byte-compile the package first, as `pip install` does: with PYTHONDONTWRITEBYTECODE set (as on
    # this workplace) an editable install would otherwise recompile every module in every process
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "aqe_ci")], check=True,
                   stdout=subprocess.DEVNULL)
    work = Path(tempfile.mkdtemp(prefix="aqe-bench-"))
    try:
        rows = []
        for runs in (0, args.runs):
            root = work / f"store-{runs}"
            root.mkdir()
            t = time.perf_counter()
            if runs:
                populate(functools.partial(LocalBackend, root, fsync=False), runs, days=400)
            pop = time.perf_counter() - t
            cfg = work / f"cfg-{runs}.json"
            cfg.write_text(json.dumps({"local": {"base_path": str(root)}}))
            env = dict(os.environ, AQE_CONFIG=str(cfg))
            store = Store(LocalBackend(root))
            queries = {
                "list --limit 10": (["artifacts", "list", "--limit", "10"],
                                    lambda s: list(s.list(Query(limit=10)))),
                "get --branch main --latest": (["artifacts", "get", "--branch", "main", "--latest"],
                                               lambda s: s.latest(branch="main")),
                "get --commit SHA": (["artifacts", "get", "--commit", commit_for(4242)],
                                     lambda s: s.by_commit(commit_for(4242))),
            }
            for name, (cli, fn) in queries.items():
                ok_cli = cli if runs or name.startswith("list") else None
                cli_ms = median_ms([*aqe_cmd(), *cli], env, args.repeat) if ok_cli else None
                rows.append((runs, name, in_process_ms(store, fn, args.repeat), cli_ms))
            if runs:
                rows.append((runs, f"(populating {runs} runs took {pop:.0f} s)", None, None))
        help_ms = median_ms([*aqe_cmd(), "--help"], dict(os.environ), args.repeat * 2)
        py_ms = median_ms([sys.executable, "-c", "pass"], dict(os.environ), args.repeat * 2)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out = [
        f"Machine: {os.cpu_count()} cores, Python {platform.python_version()}, {platform.machine()}.",
        "",
        "| runs stored | query | in-process (median ms) | `aqe` process (median ms) |",
        "|---:|---|---:|---:|",
    ]
    for runs, name, inproc, cli in rows:
        if inproc is None:
            out.append(f"| {runs} | {name} | | |")
            continue
        out.append(f"| {runs} | `{name}` | {inproc:.1f} | {cli:.0f} |" if cli is not None
                   else f"| {runs} | `{name}` | {inproc:.1f} | – |")
    out += ["", f"`aqe --help`: median {help_ms:.0f} ms over {args.repeat * 2} runs "
            f"(bare `python -c pass`: {py_ms:.0f} ms). Target: < 150 ms.",
            "`list --limit 10` on the full store, target: < 100 ms."]
    text = "\n".join(out)
    print(text)
    doc = ROOT / "docs" / "benchmarks" / "foundation.md"
    doc.write_text("# Foundation: queries on the local store and start-up\n\n"
                   f"Command: `python bench/bench_foundation.py --runs {args.runs} --repeat {args.repeat}` "
                   "(part of `make bench`).\n\n" + text + "\n")
    return text


if __name__ == "__main__":
    main()
