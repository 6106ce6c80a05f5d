#!/usr/bin/env python3
"""Benchmark: ``aqe artifacts compare A B --format json`` vs ``pycobertura diff`` (side by side, one run).

Inputs (generated once into .bench/compare/, reused): two Cobertura files of 1,000,000 <line>s
(/work/shared/bench/gen_coverage.py, the second with 1% of lines flipped) and two 50,000-test JUnit
files (gen_junit.py, seeds 1 and 2). Both runs are ingested with ``aqe_ci.ingest.driver.ingest_files`` and
stored in a fresh local store (not timed). Then, each in a fresh subprocess, wall time and peak RSS
(``os.wait4`` rusage of the child) of:

* ``aqe artifacts compare run-a run-b --format json`` (coverage + tests, output to a file);
* ``pycobertura diff a.xml b.xml --no-source`` on the two Cobertura files alone.

Targets (issue 5): compare <= 0.5x pycobertura's time, <= 200 MB peak RSS.

Usage: python bench/bench_compare.py [--repeat N] [--workdir .bench/compare]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED_BENCH = ROOT / ".." / "shared" / "bench"
BIN = Path(sys.executable).parent


def generate(work: Path) -> dict[str, Path]:
    work.mkdir(parents=True, exist_ok=True)
    files = {"cov_a": work / "cov.cobertura.xml", "cov_b": work / "cov-variant.cobertura.xml",
             "junit_a": work / "junit-a.xml", "junit_b": work / "junit-b.xml"}
    if not (files["cov_a"].exists() and files["cov_b"].exists()):
        subprocess.run([sys.executable, str(SHARED_BENCH / "gen_coverage.py"), str(work / "cov"),
                        "--variant-frac", "0.01"], check=True, stdout=subprocess.DEVNULL)
    for name, seed in (("junit_a", 1), ("junit_b", 2)):
        if not files[name].exists():
            subprocess.run([sys.executable, str(SHARED_BENCH / "gen_junit.py"), str(files[name]), "--seed", str(seed)],
                           check=True, stdout=subprocess.DEVNULL)
    return files


def build_store(files: dict[str, Path], store_dir: Path) -> None:
    from aqe_ci.ingest.driver import ingest_files
    from aqe_ci.model.run import RunFacts
    from aqe_ci.storage.local import LocalBackend
    from aqe_ci.storage.store import Store

    if store_dir.exists():
        shutil.rmtree(store_dir)
    store = Store(LocalBackend(store_dir))
    for key, cov, junit, branch, commit in (("run-a", "cov_a", "junit_a", "main", "a" * 40),
                                            ("run-b", "cov_b", "junit_b", "feature", "b" * 40)):
        with tempfile.TemporaryDirectory(prefix="aqe-bench-") as tmp:
            result = ingest_files([files[cov], files[junit]], workdir=Path(tmp))
            if result.problems:
                raise SystemExit(f"ingest failed: {[p.one_line() for p in result.problems]}")
            for doc_type, doc in result.documents.items():
                store.put(doc_type=doc_type, key=key, payload=doc.path, summary=doc.summary, blobs=doc.blobs,
                          run=RunFacts(commit=commit, branch=branch))


def measure(cmd: list[str], *, stdout: Path | None = None,
            env: dict[str, str] | None = None) -> tuple[float, float, float, int]:
    """(wall seconds, peak RSS MiB, CPU seconds user+sys, exit code) of ``cmd`` in a fresh child process."""
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL  # noqa: SIM115
    try:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
    finally:
        if stdout:
            out.close()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode not in (0, 1, 2, 3):  # pycobertura diff: 2 = coverage worsened, 3 = not improved
        raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {err.strip()[:500]}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime, proc.returncode


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command; the best wall time is reported")
    ap.add_argument("--workdir", type=Path, default=ROOT / ".bench" / "compare")
    args = ap.parse_args(argv)
    files = generate(args.workdir)
    store_dir = args.workdir / "store"
    t0 = time.perf_counter()
    build_store(files, store_dir)
    setup = time.perf_counter() - t0
    cfg = args.workdir / "storage.json"
    cfg.write_text(json.dumps({"backend": "local", "local": {"base_path": str(store_dir)}}))
    out_json = args.workdir / "compare.json"
    aqe = [str(BIN / "aqe"), "--config", str(cfg), "artifacts", "compare", "run-a", "run-b", "--format", "json"]
    pyc = [str(BIN / "pycobertura"), "diff", str(files["cov_a"]), str(files["cov_b"]), "--no-source"]
    rows: dict[str, list[tuple[float, float, float]]] = {"aqe": [], "pycobertura": []}
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        w, r, cpu, _rc = measure(aqe, stdout=out_json)
        rows["aqe"].append((w, r, cpu))
        w, r, cpu, _rc = measure(pyc)
        rows["pycobertura"].append((w, r, cpu))
    result = json.loads(out_json.read_text())["comparison"]
    a_wall, a_rss = min(x[0] for x in rows["aqe"]), max(x[1] for x in rows["aqe"])
    p_wall, p_rss = min(x[0] for x in rows["pycobertura"]), max(x[1] for x in rows["pycobertura"])
    a_cpu, p_cpu = min(x[2] for x in rows["aqe"]), min(x[2] for x in rows["pycobertura"])
    ratio = a_wall / p_wall
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.platform()}, "
          f"load average {os.getloadavg()[0]:.2f}")
    print(f"inputs: 2 x {files['cov_a'].stat().st_size / 1e6:.1f} MB Cobertura (1,000,000 lines each), "
          f"2 x {files['junit_a'].stat().st_size / 1e6:.1f} MB JUnit (50,000 tests each); ingest+store setup "
          f"{setup:.1f} s (not timed below)")
    print(f"compare found: coverage {result['coverage']['before']} -> {result['coverage']['after']}, "
          f"{len(result['coverage']['files']['changed'])} files changed, "
          f"{result['coverage']['newly_uncovered_lines']} lines newly uncovered; tests "
          f"{len(result['tests']['new_failures'])} new failures, {len(result['tests']['added'])} added, "
          f"{len(result['tests']['removed'])} removed")
    print()
    print(f"| command | best wall of {args.repeat} (s) | best CPU user+sys (s) | peak RSS (MB) |")
    print("|---|---:|---:|---:|")
    print(f"| `aqe artifacts compare run-a run-b --format json` (coverage + tests) | {a_wall:.2f} | {a_cpu:.2f} "
          f"| {a_rss:.0f} |")
    print(f"| `pycobertura diff a.xml b.xml --no-source` (coverage only) | {p_wall:.2f} | {p_cpu:.2f} | {p_rss:.0f} |")
    print()
    ok_time, ok_rss = ratio <= 0.5, a_rss <= 200
    print(f"CPU-time ratio {a_cpu / p_cpu:.2f}x (load-independent cross-check)")
    print(f"wall-time ratio {ratio:.2f}x (target <= 0.5x: {'met' if ok_time else 'NOT met'}); "
          f"peak RSS {a_rss:.0f} MB (target <= 200 MB: {'met' if ok_rss else 'NOT met'})")
    return 0 if ok_time and ok_rss else 1


if __name__ == "__main__":
    sys.exit(main())
